"""Faults and concurrency: unreachable databases, a load killed mid-way, loads and readers at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from loader import db
from loader.cli import main
from loader.load import load

# Figures from the document every reader must see, whatever moment it reads.
PROBE = sa.text(
    """
    select
        (select count(*) from dwh.trajectory_end),
        (select "Totaal" from report.t2ab_provincie where "Startjaar" = 'Totaal'),
        (select "LDE" from report.t1_totaal),
        (select "ESF-2022" from report.t2e_betalingen where "Project" = 'Totaal')::text,
        (select count(*) from report.t2c_project)
    """
)
DOCUMENT = (204, 686, 2320, "181860.00", 24)
#: How a load killed while committing ends its one line (loader.load.commit).
IN_DOUBT = "so whether the data was loaded is not known (`dwh status` tells once the server is back)\n"


def probe(url: str):
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(PROBE).one())
    finally:
        engine.dispose()


def test_probe_matches_the_document(loaded_db):
    assert probe(loaded_db) == DOCUMENT


def test_missing_database_is_exit_3(server_url, capsys):
    url = sa.engine.make_url(server_url).set(database="dwh_no_such_database").render_as_string(hide_password=False)
    assert main(["status", "--database-url", url]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "does not exist" in err and "create the database or fix its name in the URL" in err


def test_a_statement_timeout_is_named_not_taken_for_a_lost_connection(databases, capsys):
    """A statement_timeout the database sets (1 ms: every statement of the load trips it) ends the
    load with exit 3 and one line that says the server cancelled a statement, not that the
    connection failed (as it did before); nothing is loaded."""
    url = databases.create()
    name = sa.engine.make_url(url).database
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"alter database {name} set statement_timeout = '1ms'")
            conn.commit()
    finally:
        engine.dispose()
    assert main(["--database-url", url, "load"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "the server cancelled a statement" in err and "statement_timeout" in err, err
    assert "connection failed" not in err, err


def test_wrong_password_message_says_what_to_check():
    import psycopg

    engine = sa.create_engine("postgresql+psycopg://someone:wrong@db.example:5432/dwh")
    error = sa.exc.OperationalError("connect", {}, psycopg.OperationalError('FATAL:  password authentication failed for user "someone"'))
    message = db.describe_connect_error(engine, error)
    assert message == (
        'cannot connect to postgresql://someone:***@db.example:5432/dwh: FATAL:  password authentication failed '
        'for user "someone"; check the user name and password in the URL'
    )


def _load_process(url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "loader", "load", "--force", "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("delay", [0.4, 0.6, 0.75, 0.9, 1.1])
def test_a_load_killed_at_any_moment_leaves_the_previous_load(databases, loaded_db, delay):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    process = _load_process(url)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert probe(url) == DOCUMENT
    # The next load succeeds (the killed one's lock and transaction died with its connection).
    again = _load_process(url)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.startswith("loaded ")
    assert probe(url) == DOCUMENT


def test_two_loads_at_once_are_serialized(databases, loaded_db):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    first, second = _load_process(url), _load_process(url)
    for process in (first, second):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert probe(url) == DOCUMENT
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            outcomes = conn.execute(sa.text("select outcome from dwh.load_history order by load_id")).scalars().all()
    finally:
        engine.dispose()
    assert outcomes == ["loaded", "loaded", "loaded"]


def test_readers_see_a_complete_dataset_during_reloads(databases, loaded_db, shipped_dataset):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    answers = []
    errors = []
    stop = threading.Event()

    def reader():
        engine = db.make_engine(url)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                while not stop.is_set():
                    answers.append(tuple(conn.execute(PROBE).one()))
        except Exception as exc:  # a reader that fails has not seen a complete dataset
            errors.append(exc)
        finally:
            engine.dispose()

    thread = threading.Thread(target=reader)
    thread.start()
    engine = db.make_engine(url)
    try:
        for _ in range(6):
            with db.begin(engine) as conn:
                assert load(conn, shipped_dataset, force=True).outcome == "loaded"
    finally:
        stop.set()
        thread.join(timeout=60)
        engine.dispose()
    assert errors == []
    assert len(answers) > 10
    assert set(answers) == {DOCUMENT}


def _postmaster_pid(home) -> int | None:
    try:
        lines = (home / "pgdata" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return int(lines[0]) if lines and lines[-1].strip() == "ready" else None


def test_the_server_dying_during_a_load_is_reported_as_what_happened(tmp_path):
    """Killed before the commit: exit 3, "nothing was loaded"; after it: the data was loaded, exit 0.

    The embedded server's postmaster is killed (SIGKILL, or SIGQUIT: immediate shutdown) at
    moments spread over a load; whatever the user is told must match the load history.
    """
    import os

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(home)

    def dwh(*args):
        return subprocess.Popen([sys.executable, "-m", "loader", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def loads_recorded() -> int:
        for _ in range(20):  # the server restarts once the killed one's processes are gone
            done = dwh("status", "--limit", "1000")
            out, _ = done.communicate(timeout=120)
            if done.returncode == 0:
                return sum(" loaded " in line for line in out.splitlines() if line.startswith("#"))
            time.sleep(0.5)
        raise AssertionError("the embedded server did not come back")

    first = dwh("load")
    assert first.wait(timeout=300) == 0
    claimed = {0: 0, 3: 0}
    expected = loads_recorded()
    for sig in (signal.SIGKILL, signal.SIGQUIT):
        for delay in (0.0, 0.4, 0.8):
            process = dwh("load", "--force")
            pid = None
            deadline = time.monotonic() + 60
            while pid is None and process.poll() is None and time.monotonic() < deadline:
                pid = _postmaster_pid(home)
                time.sleep(0.01)
            time.sleep(delay)
            if pid is not None:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            out, err = process.communicate(timeout=120)
            assert process.returncode in (0, 3), err
            if process.returncode == 0:
                assert out.startswith("loaded "), out
                expected += 1
            elif err.endswith(IN_DOUBT):
                # Killed while committing: the load cannot know whether it committed, says so, and
                # the load history, once the server is back, tells which it was.
                assert err.count("\n") == 1, err
                recorded = loads_recorded()
                assert recorded in (expected, expected + 1)
                expected = recorded
            else:
                assert err.count("\n") == 1 and err.endswith("; nothing was loaded\n"), err
            claimed[process.returncode] += 1
            assert loads_recorded() == expected
    assert claimed[3] > 0, claimed  # some kills landed before the commit


def test_the_foreign_key_check_after_a_bulk_copy_finds_an_orphan(databases, loaded_db):
    """The set-based check that follows a copy without per-row triggers refuses a row with no parent."""
    from loader.load import ForeignKeyBroken, check_foreign_keys

    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            check_foreign_keys(conn)  # the loaded document is whole
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("update dwh.sec_nec_sec set measure_id = 'NOPE' where measure_id = 'CMW'")
            conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
            with pytest.raises(ForeignKeyBroken, match="fk_sec_nec_sec_measure_id_measure: 1 rows"):
                check_foreign_keys(conn)
            transaction.rollback()
    finally:
        engine.dispose()


def test_a_login_that_may_not_skip_the_triggers_loads_the_same_data(databases, loaded_db):
    """Without the right to set session_replication_role the rows are checked one by one, same outcome;
    and without the right to make temporary tables a reload deletes and copies instead of merging."""
    import uuid

    import psycopg

    name = databases.create(template=sa.engine.make_url(loaded_db).database)
    database = sa.engine.make_url(name).database
    role = f"dwh_test_loader_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    admin = sa.engine.make_url(name)
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        # With a password: the embedded server checks one on every connection.
        conn.execute(f"create role \"{role}\" login nosuperuser password '{password}'")
        conn.execute(f'alter database "{database}" owner to "{role}"')
        conn.execute(f'alter schema dwh owner to "{role}"')
        conn.execute(f'alter schema report owner to "{role}"')
        conn.execute(f'alter table public.alembic_version owner to "{role}"')
        for (table,) in conn.execute("select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables where table_schema in ('dwh', 'report')").fetchall():
            conn.execute(f'alter table {table} owner to "{role}"')
    try:
        url = admin.set(username=role, password=password).render_as_string(hide_password=False)
        with psycopg.connect(url) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("set session_replication_role = replica")

        def written() -> set:
            with psycopg.connect(url) as conn:
                return set(conn.execute("select xmin::text from dwh.trajectory_end").fetchall())

        before = written()
        assert main(["load", "--force", "--database-url", url]) == 0
        assert probe(url) == DOCUMENT
        assert written() == before  # merged: the owner may make temporary tables, nothing changed
        # Without the right to make temporary tables the reload deletes and copies: every row anew.
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'revoke temporary on database "{database}" from public, "{role}"')
        assert main(["load", "--force", "--database-url", url]) == 0
        assert probe(url) == DOCUMENT
        assert not written() & before
    finally:
        with psycopg.connect(databases.admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')
            conn.execute(f'drop role if exists "{role}"')
