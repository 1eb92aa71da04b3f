"""A load into empty fact tables builds their primary keys after the copy (loader.bulkkeys).

The keys come back exactly as the migrations made them; a repeated key is still refused with
loader.dataset's message and place; a login that may not alter the tables copies with the keys
in place. Expected figures are the document's (sec_nec_sec: line 476 of the answer prints
1140 = 1070 CMW + 70 LDE).
"""

from __future__ import annotations

import shutil
import threading
import time

import psycopg
import pytest

from test_streamed import DOCUMENT, LINE, _edit, _load, _sec_nec_sec

from loader import bulkkeys, db, migrate, resources, schema, sidechecks, views
from loader.errors import InputError

KEYS = (
    "select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), i.indisvalid "
    "from pg_constraint as c join pg_index as i on i.indexrelid = c.conindid "
    "where c.contype = 'p' and c.connamespace = %s::regnamespace order by 1"
)


def _keys(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(KEYS, (schema.SCHEMA,)).fetchall()


def _migrate(url: str) -> None:
    with db.open_engine(url) as engine, db.begin(engine) as conn:
        migrate.upgrade(conn)


@pytest.fixture
def built(monkeypatch):
    """Every load as large as one that builds the keys after the copy (the shipped data is
    smaller); the keys each load dropped and added back."""
    monkeypatch.setattr(sidechecks, "SIDE_BYTES", 0)
    dropped = []
    drop = bulkkeys.drop

    def spy(conn):
        keys = drop(conn)
        dropped.append(keys)
        return keys

    monkeypatch.setattr(bulkkeys, "drop", spy)
    return dropped


def test_a_load_into_empty_tables_builds_the_facts_keys_as_the_migrations_made_them(empty_db, built):
    _migrate(empty_db)
    migrated = _keys(empty_db)
    result = _load(empty_db, resources.data_dir())
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert _sec_nec_sec(empty_db) == DOCUMENT
    assert sorted(table for table, _, _ in built[0]) == sorted(f"{schema.SCHEMA}.{name}" for name in schema.FACT_TABLES)
    assert _keys(empty_db) == migrated  # same tables, names, definitions; every index valid


def test_a_reload_leaves_the_keys_alone(empty_db, built):
    _load(empty_db, resources.data_dir())
    keys = _keys(empty_db)
    _load(empty_db, resources.data_dir(), force=True)
    assert len(built) == 1  # the tables held rows: merged, with the keys in place
    assert _keys(empty_db) == keys


def test_a_repeated_key_is_refused_with_its_place_and_the_keys_stay(empty_db, tmp_path, built):
    _migrate(empty_db)
    migrated = _keys(empty_db)
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    _edit(folder, LINE + "\n", LINE + "\n" + LINE.replace(",476", ",477") + "\n")  # the key again, on line 4
    with pytest.raises(InputError) as caught:
        _load(empty_db, folder)
    assert any(line.startswith(f"{folder / 'sec_nec_sec.csv'}:4:") and "duplicate" in line for line in caught.value.problems), caught.value.problems
    assert built and built[0], "the keys were not dropped for the copy"
    assert _keys(empty_db) == migrated


def test_a_key_a_users_view_depends_on_stays_in_place(empty_db, built):
    """A view grouped by a fact table's primary key depends on the key (its other columns are
    functionally dependent on it): that key is not dropped, so the load neither fails nor drops
    the view; the other facts' keys are still built after the copy."""
    _migrate(empty_db)
    migrated = _keys(empty_db)
    key = ", ".join(schema.metadata.tables[f"{schema.SCHEMA}.sec_nec_sec"].primary_key.columns.keys())
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(f"create view public.sec_nec_sec_by_key as select {key}, value from {schema.SCHEMA}.sec_nec_sec group by {key}")
    result = _load(empty_db, resources.data_dir())
    assert (result.outcome, result.route) == ("loaded", "streamed")
    dropped = sorted(table for table, _, _ in built[0])
    assert dropped == sorted(f"{schema.SCHEMA}.{name}" for name in schema.FACT_TABLES if name != "sec_nec_sec")
    assert _sec_nec_sec(empty_db) == DOCUMENT
    with psycopg.connect(empty_db) as conn:
        by_key = dict(conn.execute(
            "select measure_id, value from public.sec_nec_sec_by_key where table_id = 'T4_sec_nec_sec' and since_year_id = '2018'"
        ).fetchall())
    assert by_key == DOCUMENT
    assert _keys(empty_db) == migrated


def test_a_login_that_may_not_alter_the_tables_keeps_the_keys(empty_db):
    _migrate(empty_db)
    migrated = _keys(empty_db)
    engine = db.make_engine(empty_db)
    role = "dwh_test_not_owner"
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"create role {role} nologin")
            conn.exec_driver_sql(f"grant usage on schema {schema.SCHEMA} to {role}")
            conn.exec_driver_sql(f"grant select on all tables in schema {schema.SCHEMA} to {role}")
            conn.commit()
            with conn.begin():
                conn.exec_driver_sql(f"set local role {role}")
                assert bulkkeys.drop(conn) == []
                conn.exec_driver_sql("reset role")
            conn.exec_driver_sql(f"drop owned by {role}")
            conn.exec_driver_sql(f"drop role {role}")
            conn.commit()
    finally:
        engine.dispose()
    assert _keys(empty_db) == migrated


def test_readers_of_the_report_views_during_the_load_wait_and_never_fail(empty_db, built, monkeypatch):
    """Readers loop over report views (each read in its own transaction, as a BI tool's) while a
    large load builds the keys: the load locks the views with the tables at once, so no reader
    deadlocks with it; they wait, then read the document's figures."""
    _load(empty_db, resources.data_dir())  # the views exist, as after a first load
    with psycopg.connect(empty_db, autocommit=True) as conn:
        # Empty again and never loaded, so the next load builds the keys and brings the views to
        # their files; one view the readers read differs from its file, as after an upgrade of
        # dwh, so that the load replaces it (and locks it) at its end.
        for name in [*schema.LOAD_ORDER[::-1], "load_history"]:
            conn.execute(f"delete from {schema.SCHEMA}.{name}")
        definition = conn.execute("select pg_get_viewdef('report.t4_sec_nec_sec'::regclass)").fetchone()[0]
        conn.execute(f"create or replace view report.t4_sec_nec_sec as select * from ({definition.rstrip().rstrip(';')}) as x")
    monkeypatch.setenv("DWH_LOCK_TIMEOUT", "10")  # a load that waits for its readers fails within the test
    create_views = views.create_views

    def slowly(conn):  # a load as long as a large one: readers wait past the deadlock check (1 s)
        time.sleep(1.5)
        return create_views(conn)

    monkeypatch.setattr(views, "create_views", slowly)
    errors, reads, stop = [], [], threading.Event()

    def reader():
        try:
            with psycopg.connect(empty_db, autocommit=True) as conn:
                while not stop.is_set():
                    for view in ("t4_sec_nec_sec", "cijfers", "doorstroom", "t1_provincie"):
                        reads.append(conn.execute(f"select count(*) from report.{view}").fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - what the test reports
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.2)
        result = _load(empty_db, resources.data_dir())
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == []
    assert (result.outcome, result.route) == ("loaded", "streamed")
    assert built[-1], "the keys were not built after the copy"
    assert _sec_nec_sec(empty_db) == DOCUMENT
    assert reads and reads[-1] > 0
