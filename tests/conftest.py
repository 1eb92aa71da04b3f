"""A real PostgreSQL per test session.

With DWH_TEST_DATABASE_URL (a libpq URL of a database we may connect to and create databases
from, e.g. postgresql://postgres@127.0.0.1:5432/postgres) the tests create throwaway databases on
that server; without it, on dwh's own embedded server (loader.embedded) in a temporary DWH_HOME
of the session's own. Every database made here is dropped at the end.
"""

from __future__ import annotations

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
    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.made: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"dwh_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            statement = sql.SQL("create database {}").format(sql.Identifier(name))
            if template:
                statement = sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
            conn.execute(statement)
        self.made.append(name)
        return url_with_database(self.admin_url, name)

    def drop_all(self) -> None:
        from loader.roles import reader_role

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.made:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            # Each warehouse database has a reader role of its own, and roles outlive databases.
            for name in self.made:
                try:
                    conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(reader_role(name))))
                except psycopg.Error:
                    pass  # still used by a database this session did not make; not ours to force


@pytest.fixture(scope="session")
def databases(server_url):
    made = Databases(server_url)
    try:
        yield made
    finally:
        made.drop_all()


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
