"""pytest-alembic's built-in migration tests, and Alembic's offline mode, on the session's PostgreSQL.

The four built-in tests get the standard fixtures: ``alembic_config`` (our migrations folder) and
``alembic_engine`` (an Engine on a new, empty database of the session's server). pytest-alembic
hands that Engine to migrations/env.py in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from pytest_alembic.tests import (  # noqa: F401  (collected by pytest from here)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from loader import db, migrate, schema

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
