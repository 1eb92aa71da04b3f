"""A real PostgreSQL per test session.

With DWH_TEST_DATABASE_URL (a libpq URL of a database we may connect to and create databases
from, e.g. postgresql://postgres@127.0.0.1:5432/postgres) the tests create throwaway databases on
that server; without it, on dwh's own embedded server (loader.embedded) in a temporary DWH_HOME
of the session's own. Every database made here is dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from loader import resources


def url_with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url():
    """Admin URL of the session's server."""
    configured = os.environ.get("DWH_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from loader.embedded import embedded_server

    # The dwh life cycle itself, in a private folder: the server stops when the session ends.
    home = Path(tempfile.mkdtemp(prefix="dwh-test-"))
    try:
        with embedded_server(home / "home", database="postgres") as admin_url:
            yield admin_url
    finally:
        shutil.rmtree(home, ignore_errors=True)


class Databases:
    """The databases a session makes, and the roles they bring: all dropped at the end, and checked gone.

    Roles belong to the server, not to a database, so they outlive the databases they were for:
    each warehouse database's reader role, the logins tests put in it, and the shared role
    ``dwh_reader`` that migration 0002 creates (and 0004 keeps, for other warehouses on the
    server). The session drops ``dwh_reader`` only when it was not there before the session and no
    database the session did not make still uses it (other test runs may share the server).
    """

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.made: list[str] = []
        self.legacy_was_there = self._role_exists(LEGACY_ROLE)

    def _role_exists(self, name: str) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            return conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone() is not None

    def create(self, template: str | None = None) -> str:
        name = f"dwh_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            statement = sql.SQL("create database {}").format(sql.Identifier(name))
            if template:
                statement = sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
            conn.execute(statement)
        self.made.append(name)
        return url_with_database(self.admin_url, name)

    def drop_all(self) -> list[str]:
        """Drop everything the session made; what is still there afterwards (empty when all went)."""
        from loader.roles import reader_role

        readers = [reader_role(name) for name in self.made]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            # Logins still in one of our reader roles: tests made them (the roles are the session's).
            logins = [
                r for (r,) in conn.execute(
                    "select distinct r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member "
                    "join pg_roles g on g.oid = m.roleid where g.rolname = any(%s) and r.rolcanlogin and not r.rolsuper",
                    (readers,),
                )
            ]
            for name in self.made:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            for role in logins + readers:
                with contextlib.suppress(psycopg.errors.DependentObjectsStillExist):
                    conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))  # what is left is reported below
            if not self.legacy_was_there:
                # Still granted something by a database of another session: theirs now, not ours.
                with contextlib.suppress(psycopg.errors.DependentObjectsStillExist):
                    conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(LEGACY_ROLE)))
            left = [r for (r,) in conn.execute("select datname from pg_database where datname = any(%s)", (self.made,))]
            left += [r for (r,) in conn.execute("select rolname from pg_roles where rolname = any(%s)", (readers + logins,))]
            if not self.legacy_was_there and not self._legacy_used_elsewhere(conn):
                left += [r for (r,) in conn.execute("select rolname from pg_roles where rolname = %s", (LEGACY_ROLE,))]
        return left

    @staticmethod
    def _legacy_used_elsewhere(conn) -> bool:
        # Another session's database may hold grants to it, which PostgreSQL records as shared dependencies.
        return conn.execute(
            "select exists (select from pg_shdepend where refclassid = 'pg_authid'::regclass and refobjid = to_regrole(%s))",
            (LEGACY_ROLE,),
        ).fetchone()[0]


LEGACY_ROLE = "dwh_reader"


@pytest.fixture(scope="session")
def databases(server_url):
    made = Databases(server_url)
    yield made
    left = made.drop_all()
    if left:  # fails the session (an error in the last test's teardown) rather than let them pile up
        pytest.fail(f"the test session left these databases or roles on the server: {', '.join(sorted(left))}")


@pytest.fixture
def empty_db(databases) -> str:
    """URL of a new, empty database for one test."""
    return databases.create()


@pytest.fixture(scope="session")
def shipped_dataset():
    from loader.dataset import read_dataset

    return read_dataset(resources.data_dir())


@pytest.fixture(scope="session")
def loaded_db(databases, shipped_dataset) -> str:
    """URL of a database loaded once with the shipped data; tests must not change it."""
    from loader import db
    from loader.load import load

    url = databases.create()
    engine = db.make_engine(url)
    try:
        with db.begin(engine) as conn:
            load(conn, shipped_dataset)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def loaded_engine(loaded_db):
    from loader import db

    engine = db.make_engine(loaded_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def exported_site(loaded_db, tmp_path_factory) -> Path:
    """The folder `dwh export DIR --format html` writes from the shipped data, once per session."""
    from loader.cli import main

    folder = tmp_path_factory.mktemp("site")
    assert main(["export", str(folder), "--format", "html", "--database-url", loaded_db]) == 0
    return folder
