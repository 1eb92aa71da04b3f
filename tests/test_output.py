"""What a reader sees: how sure each figure is in every output, the terminal width, the workbook,
the CSV data package and `dwh tables`. Expected figures come from tests/golden and data/CURATION.md."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader.cli import main

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent.parent / "data"

# data/CURATION.md, "Flagged cells": every open figure of T2c_project as
# (project, phase, end year, measure, value).
OPEN_FIGURES = [
    ("7738", "Stopgezet", "2022", "CMW", 1), ("7738", "Stopgezet", "2023", "LDE", 1),
    ("7874", "Voltooid", "2021", "CMW", 1), ("7874", "Voltooid", "2023", "LDE", 1),
    ("7874", "Stopgezet", "2021", "LDE", 7), ("7874", "Stopgezet", "2022", "LDE", 1),
    ("7874", "Stopgezet", "2023", "LDE", 1),
    ("7875", "Voltooid", "2023", "LDE", 1),
    ("7875", "Stopgezet", "2021", "CMW", 1), ("7875", "Stopgezet", "2021", "LDE", 4),
    ("7875", "Stopgezet", "2022", "LDE", 2),
    ("7876", "Stopgezet", "2021", "CMW", 2), ("7876", "Stopgezet", "2021", "LDE", 3),
    ("7876", "Stopgezet", "2022", "LDE", 4),
    ("7877", "Voltooid", "2022", "LDE", 4),
    ("7877", "Stopgezet", "2021", "CMW", 6), ("7877", "Stopgezet", "2021", "LDE", 3),
    ("7878", "Voltooid", "2021", "CMW", 5), ("7878", "Voltooid", "2021", "LDE", 2),
    ("7878", "Voltooid", "2022", "LDE", 1),
    ("7880", "Voltooid", "2021", "LDE", 3),
    ("7881", "Stopgezet", "2023", "LDE", 1),
    ("7882", "Stopgezet", "2022", "LDE", 2), ("7882", "Stopgezet", "2023", "CMW", 2),
    ("7882", "Stopgezet", "2023", "LDE", 1),
    ("7883", "Voltooid", "2023", "CMW", 3),
    ("7883", "Stopgezet", "2021", "LDE", 1), ("7883", "Stopgezet", "2022", "LDE", 1),
    ("7883", "Stopgezet", "2023", "LDE", 1),
    ("7887", "Stopgezet", "2021", "LDE", 2), ("7887", "Stopgezet", "2022", "LDE", 1),
    ("7887", "Stopgezet", "2023", "CMW", 1),
    ("7889", "Stopgezet", "2022", "CMW", 1), ("7889", "Stopgezet", "2022", "LDE", 3),
    ("7889", "Stopgezet", "2023", "CMW", 2),
]  # fmt: skip
EXPECTED_MARKED = {(p, phase, f"{y} {m}") for p, phase, y, m, _ in OPEN_FIGURES}


def _open_cells() -> dict[tuple[str, str, str], tuple[int, int]]:
    """data/trajectory_end_range.csv, the placement search's open cells of T2c_project (checked
    against a fresh search by tests/test_placements.py): (project, phase, column) -> (min, max)."""
    with open(DATA / "trajectory_end_range.csv", newline="", encoding="utf-8") as fh:
        return {
            (r["esf_project_id"], r["phase_id"].capitalize(), f"{r['end_year_id']} {r['measure_id']}"): (int(r["minimum"]), int(r["maximum"]))
            for r in csv.DictReader(fh)
        }


OPEN_CELLS = _open_cells()
#: The open cells our placement leaves blank: 38 (data/CURATION.md, "Open cells: 73").
OPEN_BLANKS = {k: v for k, v in OPEN_CELLS.items() if k not in EXPECTED_MARKED}


def _golden(table_id: str) -> list[list[str]]:
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _catalogue() -> list[dict]:
    with open(DATA / "source_table.csv", newline="", encoding="utf-8") as fh:
        return sorted(csv.DictReader(fh), key=lambda r: int(r["position"]))


TABLE_IDS = [r["table_id"] for r in _catalogue()]


def _label_columns(table_id: str) -> int:
    """Row-label columns of a golden table: the leading columns that hold a word (years are labels
    too, but every year column has a Totaal row)."""
    header, *rows = _golden(table_id)
    for i in range(len(header)):
        if all(re.fullmatch(r"(-?\d+(\.\d\d)?)?", r[i]) for r in rows):
            return i
    return len(header)


def _project_key(rij_or_labels) -> tuple[str, str]:
    labels = rij_or_labels.split(" / ") if isinstance(rij_or_labels, str) else rij_or_labels
    return labels[0].split()[0], labels[1]


def _dwh(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader", *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


# ------------------------------------------------------------------ report.cellen


def test_every_figure_of_every_view_has_its_place_and_status_in_cellen(loaded_engine):
    with loaded_engine.connect() as conn:
        everything = conn.execute(sa.text("select tabel, rij, kolom, waarde, status from report.cellen")).all()
    keys = Counter((t, r, k) for t, r, k, _, _ in everything)
    assert max(keys.values()) == 1, "a cell of a report view is named twice"
    # Besides the figures, report.cellen lists the open cells our placement leaves blank.
    blanks = {(t, *_project_key(r), k) for t, r, k, w, s in everything if w is None}
    assert blanks == {("T2c_project", *key) for key in OPEN_BLANKS}
    cells = [c for c in everything if c.waarde is not None]
    by_key = {(t, r, k): (w, s) for t, r, k, w, s in cells}
    printed_cells = {r["table_id"]: int(r["printed_cells"]) for r in _catalogue()}
    for table_id in TABLE_IDS:
        header, *rows = _golden(table_id)
        labels = _label_columns(table_id)
        figures = {}
        for row in rows:
            rij = " / ".join(v for v in row[:labels] if v)
            for column, value in zip(header[labels:], row[labels:]):
                if value:
                    figures[(table_id, rij, column)] = Decimal(value)
        mine = {k: w for k, (w, _) in by_key.items() if k[0] == table_id}
        assert mine == figures, table_id
        assert len(mine) == printed_cells[table_id], table_id


def test_cellen_flags_exactly_the_open_cells_of_curation_md(loaded_engine):
    with loaded_engine.connect() as conn:
        flagged = conn.execute(sa.text("select tabel, rij, kolom, waarde, status, minimum, maximum from report.cellen where status <> 'printed'")).all()
        fixed = conn.execute(sa.text("select count(*) from report.cellen where status = 'printed' and not (minimum = waarde and maximum = waarde)")).scalar_one()
    assert {t for t, *_ in flagged} == {"T2c_project"}
    assert {c.status for c in flagged} == {"open"}
    figures = [c for c in flagged if c.waarde is not None]
    assert sorted((*_project_key(c.rij), c.kolom, int(c.waarde)) for c in figures) == sorted(
        (p, phase, f"{y} {m}", v) for p, phase, y, m, v in OPEN_FIGURES
    )
    assert {(*_project_key(c.rij), c.kolom): (c.minimum, c.maximum) for c in flagged} == OPEN_CELLS
    assert len(figures) == 35 and len(flagged) == 73  # data/CURATION.md, "Open cells: 73"
    assert fixed == 0


# ------------------------------------------------------------------ dwh show


RULE = re.compile(r"-+( +-+)*")


def _text_cells(out: str, labels: int) -> list[tuple[str, list[str]]]:
    """(column, cells) of every figure column of every block of a table printed as text, read by the
    column spans of each block's rule line; a header may wrap over the lines above its rule."""
    found = []
    lines = out.splitlines()
    for n, rule in enumerate(lines):
        if not RULE.fullmatch(rule):
            continue
        spans = [m.span() for m in re.finditer(r"-+", rule)]
        top = n
        while top > 0 and lines[top - 1].strip():
            top -= 1
        headers = [" ".join(" ".join(lines[i][a:b] for i in range(top, n)).split()) for a, b in spans]
        body = []
        for line in lines[n + 1 :]:
            if not line.strip():
                break
            body.append([line[a:b].strip() for a, b in spans])
        found += [(headers[c], [row[c] for row in body]) for c in range(labels, len(spans))]
    return found


def test_show_text_marks_exactly_the_open_cells_and_explains_the_mark(loaded_db):
    done = _dwh("show", "T2c_project", "--width", "400", "--database-url", loaded_db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert RULE.fullmatch(lines[3]) and len(re.findall("-+", lines[3])) == 8  # one block
    spans = [m.span() for m in re.finditer(r"-+", lines[3])]
    header = [lines[2][a:b].strip() for a, b in spans]
    marked, ranges = set(), {}
    for line in lines[4:]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in spans]
        for c in range(2, 8):
            key = (cells[0].split()[0], cells[1], header[c])
            if found := re.fullmatch(r"\[(\d+)-(\d+)\]\*", cells[c]):
                ranges[key] = (int(found[1]), int(found[2]))
            elif cells[c].endswith("*"):
                marked.add(key)
    assert marked == EXPECTED_MARKED
    assert ranges == OPEN_BLANKS  # every open blank, with its range
    assert done.stdout.count("*") == len(OPEN_CELLS) + 2  # the cells and the legend (its mark and its example)
    legend = done.stdout.rstrip().split("\n\n")[-1].replace("\n", " ")  # the paragraph under the table
    assert legend.startswith("* open (35 figures, 38 blank cells): Printed in the document, but the printed totals leave its cell open")
    assert "report.open_cellen" in legend and legend.endswith("A blank shown as [0-1]* is empty in our placement, but other placements put 0 to 1 there.")


def test_show_marks_nothing_in_tables_without_open_figures(loaded_db):
    done = _dwh("show", "--all", "--width", "400", "--database-url", loaded_db)
    assert done.returncode == 0, done.stderr
    sections = re.split(r"\n(?=T\d\w+: )", done.stdout)
    assert len(sections) == 18
    for section in sections:
        assert ("*" in section) == section.startswith("T2c_project:"), section.splitlines()[0]


def test_show_markdown_and_json_give_the_same_cells_their_status(loaded_db, capsys):
    assert main(["show", "T2c_project", "--format", "markdown", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    rows = [line.strip("|").split(" | ") for line in out.splitlines() if line.startswith("| 7")]
    header = [c.strip() for c in out.splitlines()[2].strip("|").split(" | ")]
    marked = {(r[0].split()[0], r[1].strip(), header[i]) for r in rows for i in range(2, len(header)) if r[i].strip().endswith("\\*")}
    assert marked == EXPECTED_MARKED | set(OPEN_BLANKS)
    blanks = {(r[0].split()[0], r[1].strip(), header[i]) for r in rows for i in range(2, len(header)) if r[i].strip().startswith("\\[")}
    assert blanks == set(OPEN_BLANKS)
    assert out.rstrip().splitlines()[-1].startswith("\\* open (35 figures, 38 blank cells):")

    assert main(["show", "T2c_project", "--format", "json", "--database-url", loaded_db]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["cell_status"]) == len(document["rows"])
    flagged = {
        (row["esf_project"].split()[0], row["doorstroomtraject fase"], column)
        for row, status in zip(document["rows"], document["cell_status"])
        for column, s in status.items()
        if s != "printed"
    }
    assert flagged == EXPECTED_MARKED | set(OPEN_BLANKS)
    statuses = Counter(s for status in document["cell_status"] for s in status.values())
    assert statuses == {"open": 35 + 38, "printed": 86 - 35}  # source_table.csv: 86 printed cells
    assert set(document["statuses"]) == {"open"}
    assert document["status_counts"] == {"open": {"figures": 35, "blank_cells": 38}}
    ranges = {
        (row["esf_project"].split()[0], row["doorstroomtraject fase"], column): tuple(span)
        for row, found in zip(document["rows"], document["cell_range"])
        for column, span in found.items()
    }
    assert ranges == OPEN_CELLS
    assert document["column_kinds"]["2021 CMW"] == "count"


def test_any_status_other_than_printed_is_marked(databases, loaded_db, capsys):
    """The mechanism holds for every table and status: flag a figure of T1_totaal and T2e_betalingen."""
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(sa.text("update dwh.doorstroom set status_id = 'open' where table_id = 'T1_totaal' and measure_id = 'LDE'"))
        conn.execute(
            sa.text(
                "update dwh.payment set status_id = 'inconsistent' "
                "where esf_project_id = '_T' and fund_id = 'VCF' and payment_year_id = '2023'"
            )
        )
    engine.dispose()
    assert main(["show", "T1_totaal", "--width", "400", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[4].split() == ["1010", "2320*"]
    assert out.splitlines()[-1].startswith("* open (1 figure): ")
    assert main(["show", "T2e_betalingen", "--width", "400", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "-7.193,98!" in out  # golden: Totaal VCF-2023 -7193.98
    assert out.count("!") == 2  # the figure and the legend
    assert out.splitlines()[-1].startswith("! inconsistent (1 figure): Printed in the document as a total that disagrees")
    assert main(["show", "T2e_betalingen", "--format", "json", "--database-url", url]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["cell_status"][-1]["VCF-2023"] == "inconsistent"
    assert document["cell_status"][-1]["VCF-2022"] == "printed"


def test_views_without_cellen_ask_for_migrate(databases, loaded_db, capsys):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(sa.text("drop view report.cellen"))
    engine.dispose()
    assert main(["show", "T1_totaal", "--database-url", url]) == 3
    assert capsys.readouterr().err == "dwh: error: the report views predate report.cellen: run `dwh migrate` to re-create them\n"
    assert main(["migrate", "--database-url", url]) == 0
    assert main(["show", "T1_totaal", "--database-url", url]) == 0


def _belgian(golden: str) -> str:
    if "." not in golden:
        return golden
    return f"{Decimal(golden):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_columns_100_show_all_fits_and_prints_every_figure(loaded_db):
    done = _dwh("show", "--all", "--database-url", loaded_db, env={"COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    too_long = [line for line in done.stdout.splitlines() if len(line) > 100]
    assert too_long == []
    sections = re.split(r"\n(?=T\d\w+: )", done.stdout)
    assert [s.split(":")[0] for s in sections] == TABLE_IDS
    for table_id, section in zip(TABLE_IDS, sections):
        header, *rows = _golden(table_id)
        labels = _label_columns(table_id)
        expected = Counter(
            (column, _belgian(value)) for row in rows for column, value in zip(header[labels:], row[labels:]) if value
        )
        printed = Counter(
            (column, cell.rstrip("*")) for column, cells in _text_cells(section, labels) for cell in cells if cell and not cell.startswith("[")
        )
        assert printed == expected, table_id


def test_a_wide_table_is_split_into_blocks_that_repeat_the_row_labels(loaded_db, capsys):
    assert main(["show", "T2e_betalingen", "--width", "100", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    rules = [line for line in out.splitlines() if re.fullmatch(r"-+( +-+)*", line)]
    assert len(rules) == 2  # like the document: 2018-2021 and 2022-2024
    headers = [line for line in out.splitlines() if line.startswith("Project ")]
    assert len(headers) == 2
    assert "VCF-2018" in headers[0] and "ESF-2024" in headers[1]
    assert out.count("Totaal ") == 2
    assert all(len(line) <= 100 for line in out.splitlines())
    assert main(["show", "T2e_betalingen", "--width", "60", "--database-url", loaded_db]) == 0
    narrow = capsys.readouterr().out
    assert all(len(line) <= 60 for line in narrow.splitlines())
    assert len([line for line in narrow.splitlines() if re.fullmatch(r"-+( +-+)*", line)]) > 2


def test_show_width_below_the_minimum_is_exit_2(capsys):
    assert main(["show", "T1_totaal", "--width", "12"]) == 2
    err = capsys.readouterr().err
    assert "argument --width: at least 30 characters, got 12" in err


def test_json_amounts_are_exact_decimal_strings_and_counts_integers(loaded_db, capsys):
    assert main(["show", "T2e_betalingen", "--format", "json", "--database-url", loaded_db]) == 0
    document = json.loads(capsys.readouterr().out)
    golden = _golden("T2e_betalingen")
    assert [list(r.values()) for r in document["rows"]] == [[v or None for v in row] for row in golden[1:]]
    assert document["rows"][-1]["VCF-2023"] == "-7193.98"
    assert document["column_kinds"]["VCF-2023"] == "amount"
    assert main(["show", "T1_provincie", "--format", "json", "--database-url", loaded_db]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0] == {"provincie": "Antwerpen", "CMW": 279, "LDE": 790}


def test_show_all_json_is_one_document_keyed_by_table_id(loaded_db):
    done = _dwh("show", "--all", "--format", "json", "--database-url", loaded_db)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # one document: json.load no longer says "Extra data"
    assert list(document) == TABLE_IDS
    for table_id in TABLE_IDS:
        header, *rows = _golden(table_id)
        table = document[table_id]
        assert table["table_id"] == table_id and table["columns"] == header
        assert [[("" if v is None else str(v)) for v in r.values()] for r in table["rows"]] == rows, table_id


def test_show_all_csv_needs_a_folder_and_writes_one_file_per_table(loaded_db, tmp_path):
    done = _dwh("show", "--all", "--format", "csv", "--database-url", loaded_db)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "dwh: error: --format csv --all writes one file per table: give a folder with --output DIR "
        "(or `dwh export DIR --format csv` for a data package)\n"
    )
    folder = tmp_path / "tables"
    done = _dwh("show", "--all", "--format", "csv", "--output", str(folder), "--database-url", loaded_db)
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in folder.iterdir()) == sorted(TABLE_IDS)
    for table_id in TABLE_IDS:
        with open(folder / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
            assert list(csv.reader(fh)) == _golden(table_id), table_id
    assert _dwh("show", "T1_totaal", "--output", str(folder), "--database-url", loaded_db).returncode == 2


def _pty_width_run(args: list[str], columns: int, env: dict) -> subprocess.CompletedProcess:
    """`dwh ARGS | cat` as in a terminal of the given width: stdout a pipe, stderr the terminal."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        clean = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        return subprocess.run(
            [sys.executable, "-m", "loader", *args], stdout=subprocess.PIPE, stderr=follower, text=True, env={**clean, **env}
        )
    finally:
        os.close(follower)
        os.close(leader)


def test_piped_output_takes_the_width_of_the_session_terminal(loaded_db):
    widest = lambda text: max(len(line) for line in text.splitlines())  # noqa: E731
    piped = _pty_width_run(["show", "T2c_project", "--database-url", loaded_db], 80, {})
    assert piped.returncode == 0
    assert 70 < widest(piped.stdout) <= 80  # laid out for the 80-column terminal, not the 100 fallback
    assert widest(_pty_width_run(["show", "T2c_project", "--database-url", loaded_db], 80, {"COLUMNS": "120"}).stdout) > 100
    assert widest(_pty_width_run(["show", "T2c_project", "--width", "60", "--database-url", loaded_db], 80, {"COLUMNS": "120"}).stdout) <= 60


# ------------------------------------------------------------------ dwh tables


def test_tables_has_a_header_and_tells_the_tables_of_one_caption_apart(capsys):
    assert main(["tables", "--width", "1000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "answer", "grain", "caption"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line for line in lines[2:]}
    assert list(rows) == TABLE_IDS
    grains = {r["table_id"]: r["grain"] for r in _catalogue()}
    for table_id in ("T2c_provincie", "T2c_leeftijd", "T2c_project"):
        assert grains[table_id] in rows[table_id]
    assert "one row per ESF project and phase" in rows["T2c_project"]


def test_tables_wraps_to_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "T4_sec_nec_sec" in out


# ------------------------------------------------------------------ dwh export


def test_export_workbook_formats_by_column_type_and_notes_open_cells(loaded_db, tmp_path):
    import openpyxl

    assert main(["export", str(tmp_path), "--database-url", loaded_db]) == 0
    workbook = openpyxl.load_workbook(tmp_path / "doorstroom-sv221-2024.xlsx")
    assert workbook.sheetnames == ["Bron", *TABLE_IDS]  # a first sheet about the source, then the tables

    sheet = workbook["T2c_project"]
    assert sheet["A1"].value == "T2c_project: Aantal voltooide trajecten zonder stage volgens eindjaar doorstroomtraject:"
    header, *rows = _golden("T2c_project")
    assert [c.value for c in sheet[3]] == header
    assert sheet.freeze_panes == "C4"
    noted = set()
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if c > 2:
                assert cell.value == (int(value) if value else None)
                assert cell.number_format == "#,##0", (r, c)  # counts, also in columns with blanks
            if cell.comment is not None:
                noted.add((row[0].split()[0], row[1], header[c - 1]))
                assert cell.comment.text.startswith("open: ")
                low, high = OPEN_CELLS[noted_key := (row[0].split()[0], row[1], header[c - 1])]
                assert f"zetten hier {low} tot {high}" in cell.comment.text, noted_key  # the workbook speaks Dutch
                assert cell.fill.start_color.rgb.endswith("FFF2CC")
    assert noted == EXPECTED_MARKED | set(OPEN_BLANKS)
    legend = sheet.cell(row=4 + len(rows) + 1, column=1).value
    assert legend.startswith("Gearceerde cellen met een notitie (35 cijfers, 38 lege cellen) zijn open:")
    longest = max(len(r[0]) for r in rows)
    assert sheet.column_dimensions["A"].width >= longest

    betalingen = workbook["T2e_betalingen"]
    golden = _golden("T2e_betalingen")
    assert betalingen.freeze_panes == "B4"
    for r, row in enumerate(golden[1:], start=4):
        for c, value in enumerate(row[1:], start=2):
            cell = betalingen.cell(row=r, column=c)
            assert cell.number_format == "#,##0.00"
            assert cell.value == pytest.approx(float(value))
            assert cell.comment is None
    assert betalingen.column_dimensions["B"].width >= len("136,567.75")

    t1 = workbook["T1_provincie"]
    assert [c.value for c in t1[4]] == ["Antwerpen", 279, 790]
    assert {t1.cell(row=r, column=c).number_format for r in range(4, 11) for c in (2, 3)} == {"#,##0"}
    assert workbook["T1_totaal"].freeze_panes == "A4"
    for table_id in TABLE_IDS:
        if table_id != "T2c_project":
            other = workbook[table_id]
            assert other.cell(row=4 + len(_golden(table_id)), column=1).value is None, table_id  # no legend
            assert not any(cell.comment for row in other.iter_rows() for cell in row), table_id


def test_export_csv_is_a_data_package_that_pandas_reads(loaded_db, tmp_path):
    import pandas as pd

    assert main(["export", str(tmp_path), "--format", "csv", "--database-url", loaded_db]) == 0
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == [t.lower() for t in TABLE_IDS] + ["cellen"]
    captions = {r["table_id"]: r["caption"] for r in _catalogue()}
    for table_id in TABLE_IDS:
        resource = resources[table_id.lower()]
        assert resource["title"] == captions[table_id]
        header, *rows = _golden(table_id)
        assert [f["name"] for f in resource["schema"]["fields"]] == header
        frame = pd.read_csv(tmp_path / resource["path"], dtype=str, keep_default_na=False)
        assert list(frame.columns) == header, table_id
        assert frame.values.tolist() == rows, table_id
    amounts = pd.read_csv(tmp_path / "T2e_betalingen.csv")
    assert amounts["VCF-2023"].iloc[-1] == pytest.approx(-7193.98)
    assert {f["type"] for f in resources["t2e_betalingen"]["schema"]["fields"][1:]} == {"number"}
    assert {f["type"] for f in resources["t2c_project"]["schema"]["fields"][2:]} == {"integer"}
    assert "35 figures, 38 blank cells are open" in resources["t2c_project"]["description"]

    cells = pd.read_csv(tmp_path / "cellen.csv", dtype={"rij": str}, keep_default_na=False)
    assert list(cells.columns) == ["tabel", "rij", "kolom", "waarde", "status", "minimum", "maximum", "bronregel"]
    assert len(cells) == sum(int(r["printed_cells"]) for r in _catalogue()) + len(OPEN_BLANKS)
    flagged = cells[cells["status"] != "printed"]
    assert {(*_project_key(r), k) for r, k in zip(flagged["rij"], flagged["kolom"])} == EXPECTED_MARKED | set(OPEN_BLANKS)
    assert set(flagged["status"]) == {"open"}
    assert set(flagged["tabel"]) == {"T2c_project"}


def test_export_csv_validates_as_a_frictionless_data_package(loaded_db, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    assert main(["export", str(tmp_path), "--format", "csv", "--database-url", loaded_db]) == 0
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_export_into_a_file_is_exit_2_in_one_line(tmp_path):
    # Not an .xlsx name: `dwh export FILE.xlsx` writes that workbook (see test_export_to_a_workbook_file).
    target = tmp_path / "not-a-folder.txt"
    target.write_text("x")
    for path in (target, target / "below"):
        done = _dwh("export", str(path), "--database-url", "postgresql://nobody@127.0.0.1:1/none")
        assert done.returncode == 2
        assert done.stderr == f"dwh: error: {target} is a file, not a folder: give a folder to export into\n"
    assert target.read_text() == "x"
