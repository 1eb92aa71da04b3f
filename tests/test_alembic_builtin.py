"""pytest-alembic's built-in migration tests, and Alembic's offline mode, on the session's PostgreSQL.

The four built-in tests get the standard fixtures: ``alembic_config`` (our migrations folder) and
``alembic_engine`` (an Engine on a new, empty database of the session's server). pytest-alembic
hands that Engine to migrations/env.py in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from psycopg import sql as psql
from pytest_alembic.tests import (  # noqa: F401  (collected by pytest from here)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from loader import db, migrate, roles, schema

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def alembic_config():
    return migrate.alembic_config()


@pytest.fixture
def alembic_engine(empty_db):
    engine = db.make_engine(empty_db)
    yield engine
    engine.dispose()


def test_the_built_in_tests_ran_on_postgresql(alembic_runner, alembic_engine):
    """The built-in tests above really migrate this server: head is reached on the given Engine."""
    alembic_runner.migrate_up_to("heads")
    with alembic_engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert migrate.current_revision(conn) == migrate.head_revision()
        assert conn.execute(sa.text("select to_regclass('dwh.trajectory_end')")).scalar() == "dwh.trajectory_end"


def _offline_sql(tmp_path: Path) -> subprocess.CompletedProcess:
    """`alembic upgrade head --sql` as a DBA runs it, in the checkout, with no database configured."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(tmp_path / "home")  # would be created if anything started the embedded server
    return subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head", "--sql"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_offline_mode_prints_the_ddl_without_a_database(tmp_path):
    done = _offline_sql(tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "home").exists()
    ddl = done.stdout
    assert ddl.startswith("BEGIN;")
    assert ddl.rstrip().endswith("COMMIT;")
    for name in schema.LOAD_ORDER + ["load_history"]:
        assert f"CREATE TABLE dwh.{name} (" in ddl, name
    assert "CREATE ROLE dwh_reader NOLOGIN" in ddl
    assert f"UPDATE alembic_version SET version_num='{migrate.head_revision()}'" in ddl


def test_the_offline_ddl_builds_the_schema_the_models_describe(tmp_path, empty_db):
    """Run the printed script on an empty database: it reaches head and `alembic check` finds no drift."""
    done = _offline_sql(tmp_path)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(done.stdout)  # no parameters: psycopg sends the script as one simple query
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
            command.check(migrate.alembic_config(conn))
    finally:
        engine.dispose()


def test_env_accepts_an_engine_as_well_as_a_connection(empty_db):
    engine = db.make_engine(empty_db)
    try:
        config = migrate.alembic_config()
        config.attributes["connection"] = engine
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        engine.dispose()


def _alembic(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_the_alembic_command_line_says_what_it_ran_and_what_the_migrations_say(databases, empty_db):
    """alembic.ini's logging names each migration; the migrations' notices and warnings reach stderr
    as under `dwh migrate`: here, a login of the shared role of 0002 carried into the new role (it
    read this warehouse at 0002), and the role kept for it on the way back down."""
    login = f"legacy_{uuid.uuid4().hex[:10]}"
    database = sa.engine.make_url(empty_db).database
    role = roles.reader_role(database)
    up = _alembic(empty_db, "upgrade", "0002")
    assert up.returncode == 0, up.stderr
    assert "Running upgrade  -> 0001" in up.stderr and "Running upgrade 0001 -> 0002" in up.stderr
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(psql.SQL("create role {} login in role dwh_reader").format(psql.Identifier(login)))
    try:
        up = _alembic(empty_db, "upgrade", "head")
        assert up.returncode == 0, up.stderr
        assert "Running upgrade 0003 -> 0004" in up.stderr
        assert f"dwh: notice: login {login} (in dwh_reader) is now in {role}" in up.stderr.splitlines()
        down = _alembic(empty_db, "downgrade", "0002")
        assert down.returncode == 0, down.stderr
        assert "Running downgrade 0004 -> 0003" in down.stderr
        assert f"dwh: warning: kept role {role} for its logins ({login}): they read through dwh_reader until the next upgrade" in down.stderr.splitlines()
    finally:
        with psycopg.connect(databases.admin_url, autocommit=True) as admin:
            admin.execute(psql.SQL("drop role if exists {}").format(psql.Identifier(login)))
