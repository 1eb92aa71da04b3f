"""A reload merges each file into its table (loader.load.merge_staged): afterwards every table
holds exactly its file's records, and a row that did not change is not written again.

What each table must hold is read from the curated files themselves (csv, not the loader), and
the one figure checked by value is the document's (sec_nec_sec: line 476 of the answer prints
1140 = 1070 CMW + 70 LDE).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import psycopg
import pytest

from test_streamed import DOCUMENT, _load, connections  # noqa: F401 (autouse: every case as a small and a large load)

from loader import resources, schema
from loader.cli import main
from loader.dataset import SPECS
from loader.errors import DatabaseUnavailable

COPY = "~00001"  # the suffix of the second, synthetic document's ids


def _file_rows(folder: Path, name: str) -> list[tuple[str, ...]]:
    with open(folder / SPECS[name].file_name, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == SPECS[name].header
    return sorted(map(tuple, rows[1:]))


def _table_rows(url: str, name: str) -> list[tuple[str, ...]]:
    columns = ", ".join(f'"{c}"' for c in SPECS[name].header)
    out = io.StringIO()
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"copy (select {columns} from {schema.SCHEMA}.{name}) to stdout with (format csv)") as copy:
            for block in copy:
                out.write(bytes(block).decode("utf-8"))
    return sorted(map(tuple, csv.reader(io.StringIO(out.getvalue()))))


def _assert_holds_exactly(url: str, folder: Path) -> None:
    for name in schema.LOAD_ORDER:
        assert _table_rows(url, name) == _file_rows(folder, name), name


def _with_a_second_document(target: Path) -> Path:
    """The shipped data plus a copy of every document, table and figure under new ids: other
    rows in every table the documents key, the same dimensions."""
    shutil.copytree(resources.data_dir(), target)
    keyed = {"source_document": 0, "source_table": 0, "source_table_dimension": 0, **{f: 0 for f in schema.FACT_TABLES}}
    for name in keyed:
        path = target / SPECS[name].file_name
        with open(path, newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        copies = [[row[0] + COPY, *row[1:]] for row in rows]
        if name == "source_table":  # its document, and a position of its own
            document, position = header.index("document_id"), header.index("position")
            last = max(int(row[position]) for row in rows)
            for row in copies:
                row[document] += COPY
                row[position] = str(int(row[position]) + last)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *rows, *copies])
    return target


def _sec_nec_sec(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select measure_id, value from dwh.sec_nec_sec where table_id = 'T4_sec_nec_sec'").fetchall())


def test_a_reload_leaves_each_table_exactly_its_file(databases, tmp_path):
    url = databases.create()
    shipped = resources.data_dir()
    more = _with_a_second_document(tmp_path / "more")
    assert _load(url, more, force=False).route == "streamed"
    _assert_holds_exactly(url, more)

    result = _load(url, shipped, force=False)  # the second document's rows go
    assert (result.outcome, result.route) == ("loaded", "streamed")
    _assert_holds_exactly(url, shipped)
    assert _sec_nec_sec(url) == DOCUMENT

    assert _load(url, more, force=False).outcome == "loaded"  # and come back
    _assert_holds_exactly(url, more)


def _row_versions(url: str) -> dict[str, set]:
    """Each table's rows with the transaction that wrote them (xmin)."""
    with psycopg.connect(url) as conn:
        return {
            name: set(conn.execute(f"select xmin::text, * from {schema.SCHEMA}.{name}").fetchall())
            for name in schema.LOAD_ORDER
        }


def test_a_row_that_did_not_change_is_not_written_again(databases, tmp_path):
    url = databases.create()
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    _load(url, folder, force=False)
    before = _row_versions(url)

    assert _load(url, folder, force=True).outcome == "loaded"
    assert _row_versions(url) == before  # nothing rewritten: no dead rows for readers and checks

    catalogue = folder / "source_table.csv"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace("Totalen doorstroom:", "Totalen doorstroom (2023):"), encoding="utf-8")
    assert _load(url, folder, force=False).outcome == "loaded"
    after = _row_versions(url)
    assert {n for n in schema.LOAD_ORDER if after[n] != before[n]} == {"source_table"}
    changed = after["source_table"] - before["source_table"]
    assert [row[1] for row in changed] == ["T1_totaal"]  # the one caption edited; the other rows kept
    _assert_holds_exactly(url, folder)


def test_a_change_the_merge_cannot_make_row_by_row_is_loaded_by_the_python_checks(databases, tmp_path):
    # Two tables trade their positions: updated one row at a time, the first meets the second's
    # UNIQUE position. The database refuses the merge; loader.dataset checks the data and loads it.
    url = databases.create()
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    _load(url, folder)
    path = folder / "source_table.csv"
    text = path.read_text(encoding="utf-8")
    first = "T1_totaal,SV-221-2024,1,1,"
    second = "T1_provincie,SV-221-2024,1,2,"
    assert first in text and second in text
    path.write_text(text.replace(first, "T1_totaal,SV-221-2024,1,2,").replace(second, "T1_provincie,SV-221-2024,1,1,"), encoding="utf-8")
    result = _load(url, folder, force=False)
    assert (result.outcome, result.route) == ("loaded", "checked in Python")
    _assert_holds_exactly(url, folder)
    with psycopg.connect(url) as conn:
        positions = dict(conn.execute("select table_id, position from dwh.source_table where table_id like 'T1_%'").fetchall())
    assert positions == {"T1_totaal": 2, "T1_provincie": 1, "T1_leeftijd": 3}


LINE = "T4_sec_nec_sec,2018,CMW,1070,printed,476"  # line 3 of sec_nec_sec.csv

BROKEN = {
    # A key the file repeats, the row the same as the table's: the merge changes nothing for it.
    "a repeated row": lambda text: text + LINE + "\n",
    # Repeated with another value: the merge updates the row once, and the counts see the other.
    "a repeated key": lambda text: text + LINE.replace(",1070,", ",1071,") + "\n",
    # Both rows of the key changed: the merge would update the row twice, and the database refuses.
    "a repeated key, both changed": lambda text: text.replace(LINE, LINE.replace(",1070,", ",1071,")) + LINE.replace(",1070,", ",1072,") + "\n",
    "a new repeated key": lambda text: text + "T4_sec_nec_sec,2019,CMW,5,printed,476\n" * 2,
    "a broken identity": lambda text: text.replace(LINE, LINE.replace(",1070,", ",1071,")),
    "an unknown code": lambda text: text.replace(LINE, LINE.replace(",CMW,", ",XYZ,")),
    "a row gone": lambda text: text.replace(LINE + "\n", ""),
}


@pytest.mark.parametrize("change", list(BROKEN))
def test_a_reload_refuses_what_validate_refuses_and_keeps_the_old_data(databases, tmp_path, change):
    from loader.dataset import read_dataset
    from loader.errors import InputError

    url = databases.create()
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    _load(url, folder)
    path = folder / "sec_nec_sec.csv"
    path.write_text(BROKEN[change](path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as expected:
        read_dataset(folder)
    with pytest.raises(InputError) as refused:
        _load(url, folder)
    assert refused.value.problems == expected.value.problems
    _assert_holds_exactly(url, resources.data_dir())
    assert _sec_nec_sec(url) == DOCUMENT


def test_a_number_written_another_way_is_written_again(loaded_db):
    # A numeric column without a fixed scale keeps the digits of its file (1.50, not 1.5): a file
    # that writes the same number otherwise must reach the table as a fresh load would store it.
    import sqlalchemy as sa

    from loader import db
    from loader.load import _stage_sql, merge_sql

    engine = db.make_engine(loaded_db)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            row = "('T1_totaal[x]', 'T1_totaal', {}, 2, 'a note')"
            conn.exec_driver_sql(f"insert into dwh.source_inconsistency values {row.format('1.50')}")
            conn.exec_driver_sql(_stage_sql("source_inconsistency"))
            conn.exec_driver_sql(f"insert into pg_temp.dwh_stage_source_inconsistency values {row.format('1.5')}")
            conn.exec_driver_sql(merge_sql("source_inconsistency")[0])
            assert conn.execute(sa.text("select printed::text from dwh.source_inconsistency")).scalar_one() == "1.5"
            transaction.rollback()
    finally:
        engine.dispose()


NOTES = (
    "create table public.notes (table_id text, since_year_id text, measure_id text, note text, "
    "foreign key (table_id, since_year_id, measure_id) references dwh.sec_nec_sec {action})"
)


def _notes(url: str, action: str = "") -> None:
    """A user's table whose foreign key refers to sec_nec_sec: one note on each document's line 476 CMW."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(NOTES.format(action=action))
        conn.execute("insert into public.notes values ('T4_sec_nec_sec', '2018', 'CMW', 'first'), "
                     f"('T4_sec_nec_sec{COPY}', '2018', 'CMW', 'second')")


def _notes_with_figures(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select n.note, s.value from public.notes as n left join dwh.sec_nec_sec as s "
                            "using (table_id, since_year_id, measure_id) order by n.note").fetchall()


def test_a_users_foreign_key_keeps_the_rows_it_refers_to(databases, tmp_path):
    """A reload that would delete rows a user's foreign key refers to (no ON DELETE action) is
    refused as the key says, with exit 3 and the key named; nothing changes. Before, the load
    turned every foreign key's triggers off and left the note pointing at nothing."""
    url = databases.create()
    more = _with_a_second_document(tmp_path / "more")
    _load(url, more, force=False)
    _notes(url)
    with pytest.raises(DatabaseUnavailable) as caught:
        _load(url, resources.data_dir(), force=False)  # the second document's rows would go
    assert "public.notes" in str(caught.value) and "still referenced" in str(caught.value)
    assert _notes_with_figures(url) == [("first", 1070), ("second", 1070)]  # line 476: 1070 CMW
    _assert_holds_exactly(url, more)


def test_a_users_foreign_key_acts_as_declared(databases, tmp_path):
    """ON DELETE CASCADE: the reload deletes the second document's rows and, with them, the note
    on it, as the key declares; the note on the document's own row stays."""
    url = databases.create()
    more = _with_a_second_document(tmp_path / "more")
    _load(url, more, force=False)
    _notes(url, "on delete cascade")
    assert _load(url, resources.data_dir(), force=False).outcome == "loaded"
    assert _notes_with_figures(url) == [("first", 1070)]
    _assert_holds_exactly(url, resources.data_dir())


def test_a_users_trigger_on_a_warehouse_table_fires(databases):
    """A trigger a user put on sec_nec_sec sees every row the load writes (the load no longer
    turns triggers off when a table has one of its own), line 476's figures among them."""
    url = databases.create()
    _load(url, resources.data_dir(), force=False)  # the schema; then a trigger on an emptied table
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from dwh.sec_nec_sec")
        conn.execute("create table public.seen (table_id text, since_year_id text, measure_id text, value text)")
        conn.execute("create function public.remember() returns trigger language plpgsql as $$ begin "
                     "insert into public.seen values (new.table_id, new.since_year_id, new.measure_id, new.value); return new; end $$")
        conn.execute("create trigger remember after insert on dwh.sec_nec_sec for each row execute function public.remember()")
    assert _load(url, resources.data_dir(), force=True).outcome == "loaded"
    with psycopg.connect(url) as conn:
        seen = sorted(conn.execute("select table_id, since_year_id, measure_id, value from public.seen").fetchall())
    assert seen == sorted(row[:4] for row in _file_rows(resources.data_dir(), "sec_nec_sec"))
    assert {m: int(v) for t, y, m, v in seen if (t, y) == ("T4_sec_nec_sec", "2018")} == DOCUMENT


def test_a_users_deferred_foreign_key_refuses_at_commit_with_its_name(databases, tmp_path, capsys):
    """The same key, DEFERRABLE INITIALLY DEFERRED: it refuses at COMMIT, and `dwh load` says so
    as for an immediate one (exit 3, the key named), nothing changed."""
    url = databases.create()
    more = _with_a_second_document(tmp_path / "more")
    _load(url, more, force=False)
    _notes(url, "deferrable initially deferred")
    capsys.readouterr()
    assert main(["--database-url", url, "load", "--data", str(resources.data_dir())]) == 3
    said = capsys.readouterr().err
    assert "public.notes" in said and "still referenced" in said, said
    assert _notes_with_figures(url) == [("first", 1070), ("second", 1070)]
    _assert_holds_exactly(url, more)
