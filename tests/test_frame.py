"""loader.frame: every report view as a DataFrame, read back against the document (tests/golden)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import loader
from loader.errors import InputError

GOLDEN = Path(__file__).parent / "golden"
TABLE_IDS = sorted(p.stem for p in GOLDEN.glob("*.csv"))


def _golden(table_id: str) -> tuple[list[str], list[list[str]]]:
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _expected(text: str):
    """A golden cell as the value the frame must hold: blank, a whole number, an amount, a label."""
    if text == "":
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    if text.replace(".", "", 1).lstrip("-").isdigit():
        return Decimal(text)
    return text


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_frame_of_every_table_is_the_document_with_exact_types(loaded_db, table_id):
    header, rows = _golden(table_id)
    frame = loader.frame(table_id, loaded_db)
    assert list(frame.columns) == header
    assert len(frame) == len(rows)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            got, want = frame.iat[r, c], _expected(text)
            if want is None:
                assert got is None or got is pd.NA, (table_id, r, header[c], got)
            elif isinstance(want, Decimal):
                assert type(got) is Decimal and got == want, (table_id, r, header[c], got)
            elif isinstance(want, int) and frame.dtypes.iloc[c] == "Int64":
                assert got == want, (table_id, r, header[c], got)
            else:  # a label (years are labels in some tables: compared as printed)
                assert str(got) == text, (table_id, r, header[c], got)
    for c, name in enumerate(header):
        if any(_expected(row[c]).__class__ is Decimal for row in rows):
            assert frame.dtypes.iloc[c] == object, name
        elif all(isinstance(_expected(row[c]), (int, type(None))) for row in rows) and any(row[c] for row in rows):
            assert str(frame.dtypes.iloc[c]) in ("Int64", "string"), name
        assert frame.dtypes.iloc[c] != "float64", name


def test_a_count_column_with_blanks_stays_whole_numbers(loaded_db):
    # golden T2c_project: 7738 Stopgezet prints nothing in 2021 CMW and 1 in 2022 CMW
    frame = loader.frame("T2c_project", loaded_db)
    assert frame["2021 CMW"].dtype == "Int64"
    stopgezet = frame[frame["esf_project"].str.startswith("7738") & (frame["doorstroomtraject fase"] == "Stopgezet")].iloc[0]
    assert stopgezet["2021 CMW"] is pd.NA and stopgezet["2022 CMW"] == 1


def test_tidy_euros_add_up_exactly_to_the_printed_totals(loaded_db):
    """The euro figures of report.betalingen, without the totals, add up to the sum of the Totaal
    row of T2e_betalingen as printed, to the cent, as Decimal (float64 gives 1318128.8800000001)."""
    header, rows = _golden("T2e_betalingen")
    (printed_total_row,) = [r for r in rows if r[0] == "Totaal"]
    printed = sum(Decimal(v) for v in printed_total_row[1:])
    frame = loader.frame("report.betalingen", loaded_db)
    figures = frame[~frame["is_totaal"]]
    total = sum(figures["bedrag_euro"], Decimal(0))
    assert type(total) is Decimal and total == printed == Decimal("1318128.88")
    assert frame["betalingsjaar"].dtype == "Int64" and frame["is_totaal"].dtype == "boolean"


def test_unknown_view_is_an_input_error_naming_the_views(loaded_db):
    with pytest.raises(InputError, match="unknown report view 'nope'.*doorstroom"):
        loader.frame("nope", loaded_db)
    with pytest.raises(InputError):
        loader.frame('doorstroom"; drop table dwh.source_table; --', loaded_db)


def test_import_loader_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys, loader.cli; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
