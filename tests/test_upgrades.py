"""Upgrades with logins and data in place: who may read afterwards, and what the views say."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from loader import db, migrate, roles
from loader.cli import main
from loader.load import migrate_schema

PASSWORD = "s3cret"


def _database(url: str) -> str:
    return sa.engine.make_url(url).database


def _as(url: str, user: str) -> str:
    return sa.engine.make_url(url).set(username=user, password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def legacy_login(databases, loaded_db):
    """A login of the server-wide role of 0002, as an earlier `dwh grant-reader` made it (loaded_db's
    migrations made the role)."""
    name = f"legacy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login password {} in role dwh_reader").format(sql.Identifier(name), sql.Literal(PASSWORD)))
    yield name
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _member(url: str, login: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select exists (select from pg_auth_members m where m.roleid = to_regrole(%s) and m.member = to_regrole(%s))",
            (roles.reader_role(_database(url)), login),
        ).fetchone()[0]


def _refused(url: str, login: str) -> str:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(_as(url, login)).close()
    return str(refused.value)


def test_a_login_of_the_old_shared_role_cannot_read_a_warehouse_created_later(empty_db, legacy_login, capsys):
    assert main(["load", "--database-url", empty_db]) == 0
    assert "is now in" not in capsys.readouterr().err
    assert not _member(empty_db, legacy_login)
    assert f'permission denied for database "{_database(empty_db)}"' in _refused(empty_db, legacy_login)


def test_migration_0006_takes_back_what_the_old_0004_gave_a_brand_new_warehouse(empty_db, legacy_login, capsys):
    reader = roles.reader_role(_database(empty_db))
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            migrate_schema(conn, "0005")
            # What 0004 did before it was corrected: in the transaction that created the warehouse.
            conn.exec_driver_sql(f'grant "{reader}" to "{legacy_login}"')
    finally:
        engine.dispose()
    assert _member(empty_db, legacy_login)
    assert main(["migrate", "--database-url", empty_db]) == 0
    err = capsys.readouterr().err
    assert (
        f"dwh: notice: login {legacy_login} is no longer in {reader}: migration 0004 put it there only because it is in "
        f"dwh_reader, when this warehouse was created, so it never could read it; if it should, run: GRANT {reader} TO {legacy_login}"
    ) in err.splitlines()
    assert not _member(empty_db, legacy_login)
    assert f'permission denied for database "{_database(empty_db)}"' in _refused(empty_db, legacy_login)


def test_a_login_that_read_the_warehouse_at_0002_keeps_reading_after_0004_and_0006(empty_db, legacy_login, capsys):
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            migrate.upgrade(conn, "0002")
    finally:
        engine.dispose()
    assert main(["load", "--database-url", empty_db]) == 0
    err = capsys.readouterr().err
    assert f"dwh: notice: login {legacy_login} (in dwh_reader) is now in {roles.reader_role(_database(empty_db))}" in err.splitlines()
    assert "is no longer in" not in err
    with psycopg.connect(_as(empty_db, legacy_login)) as conn:
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)  # T1 of the document
