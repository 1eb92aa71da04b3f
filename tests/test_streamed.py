"""The streamed load (loader.canonical + loader.setchecks) commits only what loader.dataset accepts.

The shipped data takes the streamed route. Each file edited so that COPY would read it otherwise
than loader.dataset (a number PostgreSQL accepts and we do not, a blank line, a quoted empty
field) and each broken identity is refused with loader.dataset's own message and place, or
loaded exactly as loader.dataset reads it. Expected figures are the document's (sec_nec_sec:
line 476 of the answer prints 1140 = 1070 CMW + 70 LDE).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from loader import db, resources, sidechecks
from loader.errors import InputError
from loader.load import load_folder

LINE = "T4_sec_nec_sec,2018,CMW,1070,printed,476"  # line 3 of sec_nec_sec.csv
DOCUMENT = {"_T": 1140, "CMW": 1070, "LDE": 70}


@pytest.fixture(autouse=True, params=["small", "large"])
def connections(request, monkeypatch) -> str:
    """Every case as the shipped data loads (small), and as a large dataset loads (the shipped data
    is below that size): the checks shared with a second connection (loader.sidechecks) and,
    into empty tables, the facts' keys built after the copy (loader.bulkkeys)."""
    if request.param == "large":
        monkeypatch.setattr(sidechecks, "SIDE_BYTES", 0)
    return request.param


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(resources.data_dir(), target)
    return target


def _load(url: str, folder: Path, force: bool = True):
    engine = db.make_engine(url)
    try:
        with db.begin(engine) as conn:
            return load_folder(conn, folder, force=force)
    finally:
        engine.dispose()


def _sec_nec_sec(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select measure_id, value from dwh.sec_nec_sec").fetchall())


def _edit(folder: Path, old: str, new: str, name: str = "sec_nec_sec.csv") -> None:
    path = folder / name
    text = path.read_bytes().decode("utf-8")
    assert old in text
    path.write_bytes(text.replace(old, new, 1).encode("utf-8"))


def test_the_shipped_data_is_streamed(empty_db):
    result = _load(empty_db, resources.data_dir())
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert _sec_nec_sec(empty_db) == DOCUMENT


def test_crlf_bom_and_trailing_blank_lines_are_streamed_as_the_checks_read_them(empty_db, folder):
    for path in folder.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        path.write_bytes(("\ufeff" + text.replace("\n", "\r\n") + "\r\n\n").encode("utf-8"))
    result = _load(empty_db, folder)
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert _sec_nec_sec(empty_db) == DOCUMENT


@pytest.mark.parametrize(
    "value",
    ["+1070", " 1070", "1070 ", "0x42E", "1_070", "1070.0", "1e3", "１０７０"],
)
def test_a_number_postgresql_would_read_is_refused_as_validate_refuses_it(empty_db, folder, value):
    _edit(folder, LINE, LINE.replace(",1070,", f",{value},"))
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    where = f"{folder / 'sec_nec_sec.csv'}:3:"
    assert any(line.startswith(where) for line in caught.value.problems), caught.value.problems
    with psycopg.connect(empty_db) as conn:  # nothing committed, not even the migration
        assert conn.execute("select to_regclass('dwh.sec_nec_sec')").fetchone()[0] is None


def test_a_blank_line_between_records_is_refused_with_its_line(empty_db, folder):
    _edit(folder, LINE + "\n", LINE + "\n\n")
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert f"{folder / 'sec_nec_sec.csv'}:4:1: empty line (expected a record)" in caught.value.problems


def test_an_amount_with_one_decimal_is_refused(empty_db, folder):
    path = folder / "payment.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[1].split(",")
    column = lines[1].split(",").index(next(f for f in fields if "." in f))
    fields[column] = fields[column][:-1]  # 27313.55 -> 27313.5: COPY would store 27313.50
    path.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{path}:2:") and "not an amount" in line for line in caught.value.problems)


def test_a_broken_identity_is_refused_with_the_checks_message(empty_db, folder):
    _edit(folder, LINE, LINE.replace(",1070,", ",1071,"))
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{folder / 'sec_nec_sec.csv'}:") and "1140" in line for line in caught.value.problems), caught.value.problems


def test_a_foreign_key_the_database_would_refuse_is_refused_with_its_place(empty_db, folder):
    _edit(folder, LINE, LINE.replace(",CMW,", ",XYZ,"))
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{folder / 'sec_nec_sec.csv'}:3:") and "unknown measure_id 'XYZ'" in line for line in caught.value.problems)


def test_a_file_streamed_route_cannot_read_alike_is_loaded_as_the_checks_read_it(empty_db, folder):
    # A quoted field: loader.dataset reads "1070" in a number column as 1070 and so would COPY,
    # but the streamed route takes only unquoted numbers; the data must still load, by the other route.
    _edit(folder, "T4_sec_nec_sec,2018,_T,1140", '"T4_sec_nec_sec",2018,_T,1140')
    result = _load(empty_db, folder)
    assert (result.outcome, result.route) == ("loaded", "checked in Python")
    assert _sec_nec_sec(empty_db) == DOCUMENT


def test_a_name_with_a_trailing_no_break_space_is_refused_as_validate_refuses_it(empty_db, folder):
    path = folder / "province.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[1].split(",")
    fields[1] += "\xa0"  # the name column; COPY would keep it, the checks refuse edge whitespace
    path.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{path}:2:") and "leading or trailing spaces" in line for line in caught.value.problems), caught.value.problems
