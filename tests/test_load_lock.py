"""The load lock: readers cannot take it, a wait is reported with who holds it, and it ends (exit 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from loader.cli import main

PASSWORD = "s3cret"


def _as(url: str, user: str) -> str:
    return sa.engine.make_url(url).set(username=user, password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def warehouse(databases, loaded_db) -> str:
    return databases.create(template=sa.engine.make_url(loaded_db).database)


@pytest.fixture
def reader(databases, warehouse, monkeypatch, capsys):
    """A login made by `dwh grant-reader` on the test's warehouse."""
    name = f"bi_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("DWH_TEST_PW", PASSWORD)
    assert main(["grant-reader", name, "--password-env", "DWH_TEST_PW", "--database-url", warehouse]) == 0
    capsys.readouterr()
    yield _as(warehouse, name)
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _dwh(*args: str, timeout_env: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if timeout_env is not None:
        env["DWH_LOCK_TIMEOUT"] = timeout_env
    return subprocess.Popen([sys.executable, "-m", "loader", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_reader_cannot_take_the_load_lock(reader):
    with psycopg.connect(reader) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("lock table dwh.load_history in exclusive mode")


def test_what_a_reader_can_hold_does_not_stop_a_load(warehouse, reader):
    with psycopg.connect(reader) as conn:
        # The advisory lock that used to be the load lock, and an open transaction that reads.
        conn.execute("select pg_advisory_lock(%s)", [0x64776800])
        conn.execute("select count(*) from dwh.load_history").fetchone()
        conn.execute("select * from report.t1_totaal").fetchall()
        load = _dwh("load", "--force", "--database-url", warehouse, timeout_env="30")
        out, err = load.communicate(timeout=120)
        assert (load.returncode, err) == (0, "")
        assert out.startswith("loaded ")
        # A migration re-creates the views, which waits for readers of a view (see below), not of the history.
        conn.commit()
        conn.execute("select count(*) from dwh.load_history").fetchone()
        migrate = _dwh("migrate", "--database-url", warehouse, timeout_env="30")
        out, err = migrate.communicate(timeout=120)
        assert (migrate.returncode, err) == (0, "")


@pytest.mark.parametrize("command", [["load", "--force"], ["load"], ["migrate"]])
def test_a_wait_for_the_load_lock_is_reported_and_ends(warehouse, command):
    with psycopg.connect(warehouse, application_name="nightly-job") as holder:
        holder.execute("lock table dwh.load_history in exclusive mode")
        pid, user = holder.execute("select pg_backend_pid(), current_user").fetchone()
        started = time.monotonic()
        process = _dwh(*command, "--database-url", warehouse, timeout_env="8")
        first = process.stderr.readline()
        reported = time.monotonic() - started
        out, rest = process.communicate(timeout=120)
        ended = time.monotonic() - started
    database = sa.engine.make_url(warehouse).database
    held_by = f"pid {pid} (user {user}, application nightly-job)"
    assert first == f"dwh: waiting for the load lock on database {database}, held by {held_by}; giving up after 8 s (DWH_LOCK_TIMEOUT)\n"
    said = "; nothing was loaded" if command[0] == "load" else ""
    assert rest == f"dwh: error: gave up waiting for the load lock after 8 s: it is held by {held_by}; end that session or wait longer with DWH_LOCK_TIMEOUT=SECONDS{said}\n"
    assert process.returncode == 3
    assert out == ""
    # Reported after about 2 s (4 s for the unchanged-data check, which tries first), on a busy machine.
    assert reported < 15
    assert ended >= 8


def test_a_first_load_waits_for_another_first_load(empty_db):
    """A database without tables has no table to lock: first loads are kept apart by an advisory lock."""
    with psycopg.connect(empty_db, application_name="first-load") as holder:
        holder.execute("select pg_advisory_xact_lock(%s)", [0x64776800])
        pid = holder.execute("select pg_backend_pid()").fetchone()[0]
        process = _dwh("load", "--database-url", empty_db, timeout_env="5")
        out, err = process.communicate(timeout=120)
    assert process.returncode == 3
    assert f"held by pid {pid} (user " in err.splitlines()[0]
    assert err.splitlines()[-1].startswith("dwh: error: gave up waiting for the load lock after 5 s: it is held by pid ")
    again = _dwh("load", "--database-url", empty_db, timeout_env="5")
    out, err = again.communicate(timeout=120)
    assert (again.returncode, err) == (0, "")


def test_a_load_waits_for_the_lock_and_then_loads(warehouse):
    with psycopg.connect(warehouse) as holder:
        holder.execute("lock table dwh.load_history in exclusive mode")
        process = _dwh("load", "--force", "--database-url", warehouse, timeout_env="120")
        assert process.stderr.readline().startswith("dwh: waiting for the load lock on database ")
        holder.rollback()
        out, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, "")
    assert out.startswith("loaded ")


def test_a_migration_that_waits_for_a_reader_gives_up(warehouse, reader):
    """Re-creating a view waits for a reader's open transaction on it: bounded by the same limit."""
    with psycopg.connect(warehouse, autocommit=True) as owner:
        # The view differs from its file (as after an upgrade of dwh), so the migration replaces it.
        owner.execute("comment on view report.t1_totaal is 'an older comment'")
    with psycopg.connect(reader) as conn:
        conn.execute("select * from report.t1_totaal").fetchall()
        started = time.monotonic()
        process = _dwh("migrate", "--database-url", warehouse, timeout_env="5")
        out, err = process.communicate(timeout=120)
        ended = time.monotonic() - started
    assert process.returncode == 3
    assert err == (
        "dwh: error: gave up waiting for a lock after 5 s: another session (e.g. a reader's open transaction) holds a "
        "table or view this needs; see pg_stat_activity, end that session or wait longer with DWH_LOCK_TIMEOUT=SECONDS\n"
    )
    assert 5 <= ended < 60


def test_a_migration_leaves_views_that_match_their_files_alone(warehouse, reader):
    """Only views that differ from their files are replaced: a reader of the others never waits."""
    with psycopg.connect(reader) as conn:
        conn.execute("select * from report.t1_totaal").fetchall()
        process = _dwh("migrate", "--database-url", warehouse, timeout_env="5")
        out, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, "")


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_a_bad_lock_timeout_is_exit_2(warehouse, monkeypatch, capsys, value):
    monkeypatch.setenv("DWH_LOCK_TIMEOUT", value)
    assert main(["migrate", "--database-url", warehouse]) == 2
    assert capsys.readouterr().err == f"dwh: error: DWH_LOCK_TIMEOUT={value!r} is not a number of seconds (expected e.g. 60)\n"
