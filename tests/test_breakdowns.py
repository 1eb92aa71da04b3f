"""source_table_dimension.csv (which dimensions each printed table breaks down by) must agree with the cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loader import resources
from loader.breakdowns import fact_dimensions
from loader.cli import main


def _dataset(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "source_table_dimension.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return folder


def _validate(folder: Path, capsys) -> tuple[int, list[str]]:
    code = main(["validate", "--data", str(folder)])
    return code, capsys.readouterr().err.splitlines()


def test_a_missing_breakdown_is_reported_at_the_table(tmp_path, capsys):
    folder = _dataset(tmp_path, lambda lines: [line for line in lines if line != "T1_provincie,province"])
    code, err = _validate(folder, capsys)
    assert code == 2
    # T1_provincie is line 3 of source_table.csv.
    assert f"{folder}/source_table.csv:3:1: T1_provincie has cells with province_id BE-BRU, BE-VAN, BE-VBR, BE-VLI, BE-VOV, BE-VWV, OUT " \
        "but source_table_dimension.csv has no row T1_provincie,province (expected every dimension the table breaks down by)" in err


def test_a_breakdown_the_cells_do_not_show_is_reported_at_its_line(tmp_path, capsys):
    # T1_provincie is not split by age: every cell has age band _T (and all are 2023).
    folder = _dataset(tmp_path, lambda lines: [*lines, "T1_provincie,age_band", "T1_provincie,year"])
    code, err = _validate(folder, capsys)
    assert code == 2
    assert f"{folder}/source_table_dimension.csv:46:14: T1_provincie is declared to break down by age_band, " \
        "but all its cells have age_band_id _T (expected more than one member)" in err
    assert f"{folder}/source_table_dimension.csv:47:14: T1_provincie is declared to break down by year, " \
        "but all its cells have year_id 2023 (expected more than one member)" in err


def test_a_dimension_the_fact_table_lacks_is_reported(tmp_path, capsys):
    folder = _dataset(tmp_path, lambda lines: [*lines, "T4_sec_nec_sec,fund"])
    code, err = _validate(folder, capsys)
    assert code == 2
    assert f"{folder}/source_table_dimension.csv:46:16: T4_sec_nec_sec is declared to break down by fund, " \
        "which sec_nec_sec.csv does not have (expected one of measure, year)" in err


def test_an_unknown_dimension_is_a_foreign_key_error(tmp_path, capsys):
    folder = _dataset(tmp_path, lambda lines: [*lines, "T1_totaal,gender"])
    code, err = _validate(folder, capsys)
    assert code == 2
    assert any(line.startswith(f"{folder}/source_table_dimension.csv:46:11: unknown dimension_id 'gender'") for line in err)


@pytest.mark.parametrize(
    ("fact", "dimensions"),
    [
        ("doorstroom", {"year": "year_id", "measure": "measure_id", "province": "province_id", "age_band": "age_band_id"}),
        ("payment", {"esf_project": "esf_project_id", "fund": "fund_id", "year": "payment_year_id"}),
        ("sustained_doorstroom", {"year": "doorstroom_year_id", "measure": "measure_id", "sustain_threshold": "threshold_id"}),
    ],
)
def test_fact_dimensions_follow_the_foreign_keys(fact, dimensions):
    assert fact_dimensions(fact) == dimensions
