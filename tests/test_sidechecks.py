"""Checks shared with a second connection (loader.sidechecks) decide what one connection decides.

The shipped data is below the size at which a load opens the second connection, so these tests
lower that size to zero. Expected figures are the document's (sec_nec_sec: line 476 of the answer
prints 1140 = 1070 CMW + 70 LDE). tests/test_streamed.py and tests/test_reload_merge.py run every
case as a small and as a large load.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from test_streamed import DOCUMENT, LINE, _edit, _load, _sec_nec_sec

from loader import db, resources, schema, setchecks, sidechecks
from loader.dataset import SPECS
from loader.errors import InputError

SIDE = "dwh-side-checks"  # the second connection's thread


@pytest.fixture
def ran(monkeypatch):
    """Two connections for any size, and each check statement run: (thread, names, sql)."""
    monkeypatch.setattr(sidechecks, "SIDE_BYTES", 0)
    statements = []
    original = setchecks._failed

    def spy(conn, names, sql):
        statements.append((threading.current_thread().name, names, sql))
        return original(conn, names, sql)

    monkeypatch.setattr(setchecks, "_failed", spy)
    return statements


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(resources.data_dir(), target)
    return target


def _side_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == SIDE]


def _sessions(url: str) -> int:
    """Other sessions on the database, once the ones closing have gone (a server process ends a
    moment after its client closes)."""
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 5
        while True:
            n = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
            ).fetchone()[0]
            if n == 0 or time.monotonic() > deadline:
                return n
            time.sleep(0.05)


def test_a_large_load_shares_every_check_once_with_a_second_connection(empty_db, ran):
    result = _load(empty_db, resources.data_dir())
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert _sec_nec_sec(empty_db) == DOCUMENT
    names = [names for _, names, _ in ran]
    assert sorted(names) == sorted(setchecks.queries())  # each statement once, by one connection or the other
    side = [sql for thread, _, sql in ran if thread == SIDE]
    assert side, "the second connection ran no check"
    # The second connection reads only its own copies, never the warehouse's tables (whose locks
    # the load's transaction holds: waiting for them would be a deadlock no server can see).
    assert all(f"{schema.SCHEMA}." not in sql for sql in side)
    # It copies the tables up to SIDE_LAST, and checks from then on; the statements that read a
    # table copied after it are the load's connection's.
    order = list(schema.LOAD_ORDER)
    later = order[order.index(sidechecks.SIDE_LAST) + 1:]
    assert "payment" in later and "trajectory_end" not in later
    reads_later = lambda sql: any(f'"{name}"' in sql for name in later)  # noqa: E731
    assert not any(reads_later(sql) for sql in side)
    load_only = [names for thread, names, sql in ran if thread != SIDE and reads_later(sql)]
    assert ("payment: a total is not the sum of the cells that add up to it", "payment: one figure printed twice with two values") in load_only
    assert _side_threads() == []
    assert _sessions(empty_db) == 0


def test_a_broken_identity_found_by_either_connection_is_refused(empty_db, folder, ran):
    _edit(folder, LINE, LINE.replace(",1070,", ",1071,"))  # 1140 is no longer 1071 + 70
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any("sec_nec_sec.csv:3:" in line or "1140" in line for line in caught.value.problems), caught.value.problems
    assert ran, "the checks did not run"
    with psycopg.connect(empty_db) as conn:  # nothing committed, not even the migration
        assert conn.execute("select to_regclass('dwh.sec_nec_sec')").fetchone()[0] is None
    assert _side_threads() == []
    assert _sessions(empty_db) == 0


def test_a_check_only_the_second_connection_made_refuses_the_load(empty_db, folder, ran, monkeypatch):
    # The load's connection runs no statement and skips the prose figures: only the second
    # connection's answer can refuse this load. T1_totaal's CMW figure (line 84 of the answer:
    # 1010, the sum of T1_provincie's and T1_leeftijd's) is in a fact the second connection copies.
    run_statements = setchecks.run_statements

    def side_only(conn, take, at=setchecks.S):
        if threading.current_thread().name != SIDE:
            return []
        return run_statements(conn, take, at)

    monkeypatch.setattr(setchecks, "run_statements", side_only)
    monkeypatch.setattr(setchecks, "prose_broken", lambda conn: [])
    _edit(folder, "T1_totaal,2023,CMW,_T,_T,1010,", "T1_totaal,2023,CMW,_T,_T,1011,", "doorstroom.csv")
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any("doorstroom.csv:2:" in line for line in caught.value.problems), caught.value.problems
    assert {thread for thread, _, _ in ran} == {SIDE}
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("select to_regclass('dwh.doorstroom')").fetchone()[0] is None


def test_a_load_refused_while_copying_stops_the_second_connection(empty_db, folder, ran):
    # A figure that is not a number, in one of the last files: the copy stops after the second
    # connection has copied the files before it.
    _edit(folder, LINE, LINE.replace(",1070,", ",abc,"))
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{folder / 'sec_nec_sec.csv'}:3:") for line in caught.value.problems), caught.value.problems
    assert _side_threads() == []
    assert _sessions(empty_db) == 0


@pytest.mark.parametrize("when", ["before copying", "after its first check"])
def test_when_the_second_connection_fails_the_load_checks_everything_itself(empty_db, folder, ran, monkeypatch, when):
    if when == "before copying":
        monkeypatch.setattr(sidechecks, "create_sql", lambda name: "select no_such_column")
    else:
        spy = setchecks._failed

        def fail_second(conn, names, sql):
            side = [s for s in ran if s[0] == SIDE]
            if threading.current_thread().name == SIDE and side:
                raise psycopg.OperationalError("the second connection is gone")
            return spy(conn, names, sql)

        monkeypatch.setattr(setchecks, "_failed", fail_second)
    result = _load(empty_db, resources.data_dir())
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert _sec_nec_sec(empty_db) == DOCUMENT
    main = [names for thread, names, _ in ran if thread != SIDE]
    assert sorted(set(main)) == sorted(setchecks.queries())  # every check, on the load's connection
    # and a broken identity is still refused
    _edit(folder, LINE, LINE.replace(",1070,", ",1071,"))
    with pytest.raises(InputError):
        _load(empty_db, folder)
    assert _sec_nec_sec(empty_db) == DOCUMENT
    assert _side_threads() == []


def test_every_statement_answers_on_the_copies_as_on_the_loaded_tables(loaded_db):
    """Each fact's figures changed (every one of a table by +1, and one figure printed twice given
    two values): the statements flag the same checks on temporary copies made as the second
    connection makes them as on the warehouse's own tables."""
    engine = db.make_engine(loaded_db)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            for fact in schema.FACT_TABLES:
                value = setchecks.value_column(fact)
                first = conn.exec_driver_sql(f"select table_id from dwh.{fact} order by table_id limit 1").scalar()
                conn.exec_driver_sql(f'update dwh.{fact} set "{value}" = "{value}" + 1 where table_id = %s', (first,))
            for name in schema.LOAD_ORDER:
                columns = ", ".join(f'"{c}"' for c in SPECS[name].header)
                conn.exec_driver_sql(sidechecks.create_sql(name))
                conn.exec_driver_sql(f'insert into pg_temp."{name}" ({columns}) select {columns} from dwh."{name}"')
            loaded = setchecks.run_statements(conn, iter(setchecks.queries()))
            copies = setchecks.run_statements(conn, iter(setchecks.queries()), at="pg_temp")
            transaction.rollback()
    finally:
        engine.dispose()
    assert len(loaded) >= len(schema.FACT_TABLES), loaded  # every fact's change is seen
    assert copies == loaded
