"""Bad input: every defect gets exit 2, one line per problem with file:line:column, nothing loaded.

Each folder of tests/bad_input is named after the defect it shows; its CSVs replace the shipped
ones (a REMOVE file lists files to delete) and expected.txt is the exact stderr, with {data}
standing for the dataset folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader import db, resources
from loader.cli import main
from loader.dataset import read_dataset

HERE = Path(__file__).parent
CASES = sorted(p.name for p in (HERE / "bad_input").iterdir() if p.is_dir())
SAME_DATA = sorted(p.name for p in (HERE / "same_data").iterdir() if p.is_dir())


def dataset_with(tmp_path: Path, overlay: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    for path in overlay.iterdir():
        if path.suffix == ".csv":
            shutil.copyfile(path, folder / path.name)
    remove = overlay / "REMOVE"
    if remove.exists():
        for name in remove.read_text().split():
            (folder / name).unlink()
    return folder


def test_every_defect_named_in_the_issue_has_a_fixture():
    assert {
        "non-numeric-count", "decimal-count", "negative-count", "malformed-amount", "unknown-measure",
        "unknown-province", "unknown-age-band", "unknown-project", "unknown-table", "duplicate-observation",
        "missing-column", "extra-column", "renamed-column", "too-few-fields", "too-many-fields",
        "unterminated-quote", "empty-file", "header-only", "missing-file", "invalid-utf8", "binary-garbage",
        "catalogued-table-without-observations",
    } <= set(CASES)  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_exit_2_with_its_message(case, tmp_path, capsys):
    folder = dataset_with(tmp_path, HERE / "bad_input" / case)
    expected = (HERE / "bad_input" / case / "expected.txt").read_text().replace("{data}", str(folder))
    assert main(["validate", "--data", str(folder)]) == 2
    captured = capsys.readouterr()
    assert captured.err == expected
    assert captured.out == ""


@pytest.mark.parametrize("case", ["negative-count", "missing-file", "count-off-by-one", "header-only", "unknown-measure", "duplicate-observation"])
def test_bad_input_leaves_the_database_as_it_was(case, databases, loaded_db, tmp_path, capsys):
    url = databases.create(template=make_url_database(loaded_db))
    before = snapshot(url)
    folder = dataset_with(tmp_path, HERE / "bad_input" / case)
    # The load streams the files into COPY while it checks them; the checks' message must win
    # over whatever the database said about the same rows, and the transaction must roll back.
    expected = (HERE / "bad_input" / case / "expected.txt").read_text().replace("{data}", str(folder))
    assert main(["load", "--data", str(folder), "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert err == expected.rstrip("\n") + "; nothing was loaded\n"
    assert snapshot(url) == before


def make_url_database(url: str) -> str:
    return sa.engine.make_url(url).database


def snapshot(url: str) -> dict:
    """Row counts and checksums of every dwh table and report view."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                sa.text("select table_schema || '.' || table_name from information_schema.tables where table_schema in ('dwh', 'report')")
            ).scalars().all()
            return {
                n: conn.execute(sa.text(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {n} as t")).one()
                for n in sorted(names)
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", SAME_DATA)
def test_spreadsheet_habits_are_the_same_data(case, tmp_path, shipped_dataset):
    folder = dataset_with(tmp_path, HERE / "same_data" / case)
    dataset = read_dataset(folder)
    for name, table in shipped_dataset.tables.items():
        assert dataset.tables[name].rows == table.rows, name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_csv_never_crashes_validation(data, tmp_path_factory, capsys):
    """Fuzzing: whatever happens to a file, validation answers 0 or 2 with a message, never a traceback."""
    folder = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(resources.data_dir(), folder)
    name = data.draw(st.sampled_from(["sec_nec_sec.csv", "measure.csv", "screening.csv", "source_table.csv", "payment.csv"]))
    raw = bytearray((folder / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        at = data.draw(st.integers(0, len(raw)))
        if kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b",", b'"', b"\n", b"\r\n", b"-", b"."]))
        elif kind == "delete":
            del raw[at : at + data.draw(st.integers(1, 8))]
        else:
            raw[at : at + 1] = data.draw(st.sampled_from([b",", b'"', b"\n", b"9", b"x", b" ", b"\xff"]))
    (folder / name).write_bytes(bytes(raw))
    code = main(["validate", "--data", str(folder)])
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert captured.err.splitlines()[-1].startswith("dwh: error: ")


def test_quoted_fields_load_as_the_same_data(tmp_path, databases, capsys):
    """A spreadsheet may quote every field; "" is an empty (NULL) field, "a,b" one field."""
    folder = dataset_with(tmp_path, HERE / "same_data" / "crlf-line-endings")
    lines = (folder / "esf_project.csv").read_text(encoding="utf-8").splitlines()
    quoted = [",".join('"' + f + '"' for f in line.split(",")) for line in lines]
    (folder / "esf_project.csv").write_text("\n".join(quoted) + "\n", encoding="utf-8")
    url = databases.create()
    assert main(["load", "--data", str(folder), "--database-url", url]) == 0
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            organisation = conn.execute(sa.text("select organisation from dwh.esf_project where esf_project_id = '7875'")).scalar_one()
            label = conn.execute(sa.text("select label from dwh.esf_project where esf_project_id = '7878'")).scalar_one()
    finally:
        engine.dispose()
    assert organisation is None
    assert label == "7878 Doorstroom SE & LDE Oost-VL Waas & Dender (Job en Milieu JOMI)"
