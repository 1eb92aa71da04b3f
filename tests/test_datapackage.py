"""data/datapackage.json: generated from loader.schema, and accepted by Frictionless (v5) with our data.

The descriptor is read back by the library a data engineer would use on it (frictionless), on the
shipped CSVs and on copies broken the way the database would refuse them.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader import datapackage, resources

DATA = resources.data_dir()


def test_the_shipped_descriptor_is_the_generated_one():
    """Fails when loader/schema.py changed and `python -m loader.datapackage > data/datapackage.json` was not run."""
    done = subprocess.run([sys.executable, "-m", "loader.datapackage"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (DATA / "datapackage.json").read_text(encoding="utf-8"), "run: python -m loader.datapackage > data/datapackage.json"


def _data_rows(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            total += sum(1 for _ in csv.reader(f)) - 1
    return total


def test_frictionless_validates_the_shipped_package_and_reads_every_row():
    import frictionless

    report = frictionless.validate(str(DATA / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    assert len(report.tasks) == len(list(DATA.glob("*.csv")))
    assert sum(task.stats.get("rows", 0) for task in report.tasks) == _data_rows(DATA)


def test_the_frictionless_command_accepts_the_package():
    command = Path(sys.executable).parent / "frictionless"
    done = subprocess.run([str(command), "validate", "--json", str(DATA / "datapackage.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["valid"] is True


def _broken_copy(tmp_path: Path, file: str, line: int, column: str, value: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    path = folder / file
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return folder


@pytest.mark.parametrize(
    ("file", "line", "column", "value", "error"),
    [
        ("sec_nec_sec.csv", 4, "value", "-70", "constraint-error"),  # CHECK (value >= 0)
        ("sec_nec_sec.csv", 4, "source_line", "0", "constraint-error"),  # CHECK (source_line > 0)
        ("sec_nec_sec.csv", 4, "value", "2147483648", "constraint-error"),  # integer column
        ("source_table.csv", 3, "position", "1", "unique-error"),  # UNIQUE (position)
        ("age_band.csv", 3, "min_age", "40000", "constraint-error"),  # smallint column
        ("payment.csv", 3, "amount", "12345678901.00", "constraint-error"),  # numeric(12, 2)
        ("payment.csv", 3, "amount", "veel", "type-error"),
        ("sec_nec_sec.csv", 4, "measure_id", "LDW", "foreign-key"),
        ("sec_nec_sec.csv", 4, "measure_id", "CMW", "primary-key"),  # a second (T4_sec_nec_sec, 2018, CMW)
        ("sec_nec_sec.csv", 4, "status_id", "", "constraint-error"),  # NOT NULL
    ],
)
def test_frictionless_rejects_what_the_database_rejects(tmp_path, file, line, column, value, error):
    import frictionless

    folder = _broken_copy(tmp_path, file, line, column, value)
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert not report.valid
    found = {(task.name, e.type, getattr(e, "row_number", None), getattr(e, "field_name", None)) for task in report.tasks for e in task.errors}
    expected = (file.removesuffix(".csv"), error, line)
    assert any(f[:3] == expected and f[3] in (column, None) for f in found), found


def _table(*items, **kw) -> sa.Table:
    return sa.Table("made_up", sa.MetaData(schema="dwh"), sa.Column("made_up_id", sa.Text, primary_key=True), *items, **kw)


def test_check_constraints_become_table_schema_constraints():
    table = _table(
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("count", sa.SmallInteger),
        sa.Column("share", sa.Numeric(5, 2)),
        sa.CheckConstraint("kind IN ('a', 'b''s')", name="kind_known"),
        sa.CheckConstraint("count > 2", name="count_above_two"),
        sa.CheckConstraint("count <= 100", name="count_at_most_100"),
        sa.CheckConstraint("share >= 0", name="share_not_negative"),
    )
    fields = {f["name"]: f for f in datapackage.resource(table)["schema"]["fields"]}
    assert fields["kind"]["constraints"] == {"required": True, "enum": ["a", "b's"]}
    assert fields["count"]["constraints"] == {"required": False, "minimum": 3, "maximum": 100}
    assert fields["share"]["constraints"] == {"required": False, "minimum": 0, "maximum": 999.99}


def test_a_check_the_generator_cannot_say_stops_it():
    with pytest.raises(datapackage.Unexpressed, match=r"made_up: CHECK \(low <= high\) has no Table Schema equivalent"):
        datapackage.resource(_table(sa.Column("low", sa.Integer), sa.Column("high", sa.Integer), sa.CheckConstraint("low <= high", name="ordered")))
    table = _table(
        sa.Column("low", sa.Integer), sa.Column("high", sa.Integer), sa.CheckConstraint("low <= high", name="ordered"), info={"not_in_datapackage": ["ordered"]}
    )
    assert [f["name"] for f in datapackage.resource(table)["schema"]["fields"]] == ["made_up_id", "low", "high"]
