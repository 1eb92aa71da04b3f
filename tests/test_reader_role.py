"""The reader role of one warehouse database: its name, what it cannot do, and logins that survive migrations.

Logins connect the way a BI user does (psycopg, or the psql binary the pgserver wheel ships), with
their own name and password; role names are unique per test database, since other test runs share
the server.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from loader import db, migrate, roles
from loader.cli import main
from loader.unchanged import bundled_psql

PASSWORD = "s3cret"


def _database(url: str) -> str:
    return sa.engine.make_url(url).database


def _as(url: str, user: str, password: str = PASSWORD) -> str:
    return sa.engine.make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def _psql(url: str, query: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundled_psql()), "-X", "-At", "-d", url, "-c", query], capture_output=True, text=True, timeout=60)


class Logins:
    """Logins a test makes; dropped (with what they own) when the test ends."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.names: list[str] = []

    def new_name(self, prefix: str = "bi") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        return name

    def grant(self, url: str, name: str, monkeypatch, capsys) -> None:
        monkeypatch.setenv("DWH_TEST_PW", PASSWORD)
        assert main(["grant-reader", name, "--password-env", "DWH_TEST_PW", "--database-url", url]) == 0, capsys.readouterr().err
        capsys.readouterr()

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for name in self.names:
                admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
def logins(databases):
    made = Logins(databases.admin_url)
    yield made
    made.drop()


@pytest.fixture
def warehouse(databases, loaded_db) -> str:
    """A loaded warehouse of the test's own (a copy of the session's loaded database)."""
    return databases.create(template=_database(loaded_db))


# ------------------------------------------------------------------ the name


def test_the_role_is_named_after_the_database():
    assert roles.reader_role("dwh") == "dwh_reader_dwh"
    plain = "a" * 52  # 11 + 52 = 63 bytes: still fits
    assert roles.reader_role(plain) == "dwh_reader_" + plain
    long = "a" * 53
    assert roles.reader_role(long) == "dwh_reader_" + "a" * 43 + "_" + hashlib.sha256(long.encode()).hexdigest()[:8]
    assert roles.reader_role("Dwh-Prod") == "dwh_reader_dwh_prod_" + hashlib.sha256(b"Dwh-Prod").hexdigest()[:8]
    assert roles.reader_role("dwh_prod") != roles.reader_role("Dwh-Prod")
    assert roles.reader_role("één") == "dwh_reader___n_" + hashlib.sha256("één".encode()).hexdigest()[:8]
    for name in (plain, long, "Dwh-Prod", "é" * 31):
        assert len(roles.reader_role(name).encode()) <= 63


def test_migration_and_loader_agree_on_the_name(databases):
    # 63 bytes, upper case, a space, a hyphen and non-ASCII: the hashed form of the name.
    name = f"Dwh Tést-{uuid.uuid4().hex}"
    name += "x" * (63 - len(name.encode()))
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = sa.engine.make_url(databases.admin_url).set(database=name).render_as_string(hide_password=False)
    expected = roles.reader_role(name)
    try:
        engine = db.make_engine(url)
        try:
            with db.begin(engine) as conn:
                migrate.upgrade(conn)
                assert roles.current_reader_role(conn) == expected
                granted = conn.execute(
                    sa.text("select has_database_privilege(:r, current_database(), 'connect'), has_schema_privilege(:r, 'report', 'usage')"),
                    {"r": expected},
                ).one()
                assert tuple(granted) == (True, True)
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(databases.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(expected)))


# ------------------------------------------------------------------ one warehouse only


def test_a_login_for_one_warehouse_cannot_read_another(databases, warehouse, logins, monkeypatch, capsys):
    other = databases.create(template=_database(warehouse))  # a copy: it holds the grants of the first
    a, b = logins.new_name(), logins.new_name()
    logins.grant(warehouse, a, monkeypatch, capsys)
    logins.grant(other, b, monkeypatch, capsys)
    assert _psql(_as(warehouse, a), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
    assert _psql(_as(other, b), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
    for url, name in ((other, a), (warehouse, b)):
        refused = _psql(_as(url, name), "select 1")
        assert refused.returncode != 0
        assert f'permission denied for database "{_database(url)}"' in refused.stderr
        # Even if the database let everybody connect, the role of the other warehouse reads nothing here.
        with psycopg.connect(url) as owner:
            role = roles.reader_role(_database(url))
            foreign = [r for r in (roles.reader_role(_database(warehouse)), roles.reader_role(_database(other))) if r != role]
            assert owner.execute("select has_schema_privilege(%s, 'report', 'usage')", foreign).fetchone() == (False,)


def test_a_copy_of_a_warehouse_is_closed_to_the_original_logins_by_dwh_migrate(databases, warehouse, logins, monkeypatch, capsys):
    a = logins.new_name()
    logins.grant(warehouse, a, monkeypatch, capsys)
    copy = databases.create(template=_database(warehouse))
    # PostgreSQL gives a new database CONNECT for PUBLIC and copies the original's grants.
    assert _psql(_as(copy, a), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
    assert main(["migrate", "--database-url", copy]) == 0
    refused = _psql(_as(copy, a), "select 1")
    assert f'permission denied for database "{_database(copy)}"' in refused.stderr
    assert _psql(_as(warehouse, a), 'select "CMW" from report.t1_totaal').stdout == "1010\n"


# ------------------------------------------------------------------ nothing persists


@pytest.mark.parametrize(
    "statement",
    [
        "select lo_from_bytea(0, 'x'::bytea)",
        "select lo_create(0)",
        "select lo_creat(-1)",
        "select lo_import('/etc/hostname')",
        "create temporary table mine (x int)",
        "create temporary view mine as select 1 as x",
        "create table public.mine (x int)",
        "create schema mine",
        "create function public.mine() returns int language sql as 'select 1'",
        "lock table dwh.load_history in exclusive mode",
        "select * from dwh.load_history for update",
    ],
)
def test_a_reader_persists_nothing(warehouse, logins, monkeypatch, capsys, statement):
    name = logins.new_name()
    logins.grant(warehouse, name, monkeypatch, capsys)
    with psycopg.connect(_as(warehouse, name)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_only_a_superuser_can_take_large_objects_away(databases, empty_db, logins):
    """What docs/connecting.md says: a database owner's REVOKE on pg_catalog's functions is only a warning."""
    owner = logins.new_name("owner")
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(owner), sql.Literal(PASSWORD)))
        admin.execute(sql.SQL("alter database {} owner to {}").format(sql.Identifier(_database(empty_db)), sql.Identifier(owner)))
    notices = []
    try:
        with psycopg.connect(_as(empty_db, owner), autocommit=True) as conn:
            conn.add_notice_handler(lambda d: notices.append(d.message_primary))
            conn.execute("revoke execute on function pg_catalog.lo_from_bytea(oid, bytea) from public")
            assert conn.execute("select has_function_privilege('public', 'pg_catalog.lo_from_bytea(oid, bytea)', 'execute')").fetchone() == (True,)
        assert notices == ['no privileges could be revoked for "lo_from_bytea"']
    finally:
        with psycopg.connect(databases.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("alter database {} owner to current_user").format(sql.Identifier(_database(empty_db))))


# ------------------------------------------------------------------ logins survive migrations


def test_downgrade_keeps_the_logins_and_upgrade_gives_their_rights_back(warehouse, logins, monkeypatch, capsys):
    name = logins.new_name()
    logins.grant(warehouse, name, monkeypatch, capsys)
    role = roles.reader_role(_database(warehouse))
    engine = db.make_engine(warehouse)
    try:
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")
        assert capsys.readouterr().err == f"dwh: warning: kept role {role} for its logins ({name}): they read through dwh_reader until the next upgrade\n"
        # At 0002 the login reads through the shared role, as logins did then.
        assert _psql(_as(warehouse, name), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "base")
        with db.begin(engine) as conn:
            members = conn.execute(
                sa.text("select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.member where m.roleid = to_regrole(:role)"),
                {"role": role},
            ).scalars().all()
    finally:
        engine.dispose()
    assert members == [name]  # the role was kept for its login
    assert main(["load", "--database-url", warehouse]) == 0
    capsys.readouterr()
    assert _psql(_as(warehouse, name), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
    assert _psql(_as(warehouse, name), "select count(*) from dwh.payment").stdout == "156\n"


def test_a_role_without_logins_is_dropped_on_downgrade(warehouse):
    role = roles.reader_role(_database(warehouse))
    engine = db.make_engine(warehouse)
    try:
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")
            assert conn.execute(sa.text("select to_regrole(:r)"), {"r": role}).scalar() is None
            migrate.upgrade(conn)
            assert conn.execute(sa.text("select to_regrole(:r)"), {"r": role}).scalar() is not None
    finally:
        engine.dispose()


def test_logins_of_the_shared_role_keep_reading_after_the_upgrade(warehouse, logins):
    name = logins.new_name("legacy")
    engine = db.make_engine(warehouse)
    try:
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")
            conn.execute(sa.text(f"create role {name} login password '{PASSWORD}' in role dwh_reader"))
    finally:
        engine.dispose()
    assert _psql(_as(warehouse, name), 'select "CMW" from report.t1_totaal').stdout == "1010\n"
    assert main(["migrate", "--database-url", warehouse]) == 0
    assert _psql(_as(warehouse, name), 'select "CMW" from report.t1_totaal').stdout == "1010\n"


def test_grant_reader_repairs_a_login_that_lost_its_role(warehouse, logins, monkeypatch, capsys):
    name = logins.new_name()
    logins.grant(warehouse, name, monkeypatch, capsys)
    role = roles.reader_role(_database(warehouse))
    with psycopg.connect(warehouse, autocommit=True) as owner:
        owner.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(role), sql.Identifier(name)))
    assert "permission denied" in _psql(_as(warehouse, name), "select 1").stderr
    monkeypatch.setenv("DWH_TEST_PW", "n3w")
    assert main(["grant-reader", name, "--password-env", "DWH_TEST_PW", "--database-url", warehouse]) == 0
    assert capsys.readouterr().out == f"updated login {name} in role {role} (read-only)\n"
    assert _psql(_as(warehouse, name, "n3w"), 'select "CMW" from report.t1_totaal').stdout == "1010\n"


@pytest.mark.parametrize("name", ["public", "none", "current_user", "session_user", "current_role", "pg_monitor", "postgres", "dwh_reader", "READER"])
def test_grant_reader_refuses_reserved_names(warehouse, monkeypatch, capsys, name):
    monkeypatch.setenv("DWH_TEST_PW", PASSWORD)
    assert main(["grant-reader", name, "--password-env", "DWH_TEST_PW", "--database-url", warehouse]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dwh: error: login name ")


def test_grant_reader_refuses_the_reader_role_a_superuser_and_a_role_with_other_rights(warehouse, logins, monkeypatch, capsys):
    monkeypatch.setenv("DWH_TEST_PW", PASSWORD)
    superuser, owner = logins.new_name("su"), logins.new_name("own")
    with psycopg.connect(warehouse, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} superuser").format(sql.Identifier(superuser)))
        admin.execute(sql.SQL("create role {} login").format(sql.Identifier(owner)))
        admin.execute(sql.SQL("grant select on dwh.load_history to {}").format(sql.Identifier(owner)))
    try:
        expected = {
            roles.reader_role(_database(warehouse)): f"login name {roles.reader_role(_database(warehouse))!r} is reserved (expected a new name, e.g. metabase)",
            superuser: f"login name {superuser!r} is reserved (a superuser; expected a new name, e.g. metabase)",
            owner: f"role {owner!r} already exists and is not a reader login: it has other rights, owns objects or is in other roles (expected a new name)",
        }
        for name, message in expected.items():
            assert main(["grant-reader", name, "--password-env", "DWH_TEST_PW", "--database-url", warehouse]) == 2
            assert capsys.readouterr().err == f"dwh: error: {message}\n"
    finally:
        with psycopg.connect(warehouse, autocommit=True) as admin:
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(owner)))


def test_grant_reader_before_the_schema_is_current_is_exit_3(empty_db, monkeypatch, capsys):
    monkeypatch.setenv("DWH_TEST_PW", PASSWORD)
    assert main(["grant-reader", "metabase", "--password-env", "DWH_TEST_PW", "--database-url", empty_db]) == 3
    assert capsys.readouterr().err == "dwh: error: the warehouse is not at the current schema: run `dwh load` or `dwh migrate` first\n"


# ------------------------------------------------------------------ limits of a login


def test_a_reader_login_is_limited_in_disk_time_and_sessions(warehouse, logins, monkeypatch, capsys):
    """Issue 20: the reader filled the disk (temp_file_limit was -1) and could hold sessions and locks without end."""
    name = logins.new_name()
    logins.grant(warehouse, name, monkeypatch, capsys)
    with psycopg.connect(_as(warehouse, name), autocommit=True) as conn:
        settings = conn.execute(
            "select current_setting('temp_file_limit'), current_setting('statement_timeout'),"
            " current_setting('idle_in_transaction_session_timeout'), current_setting('log_min_messages'),"
            " current_setting('log_min_error_statement')"
        ).fetchone()
        assert settings == ("64MB", "30s", "30s", "fatal", "panic")
        for setting in ("temp_file_limit = -1", "log_min_messages = error", "log_min_error_statement = error"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"set {setting}")
        assert conn.execute("select rolconnlimit from pg_roles where rolname = current_user").fetchone() == (10,)


def test_without_superuser_rights_the_superuser_limits_are_a_warning(databases, empty_db, logins):
    """On a managed server the loader's login is often no superuser: the login is made with the limits it may set."""
    login, manager = logins.new_name("bi"), logins.new_name("mgr")  # dropped in this order
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login createrole password {}").format(sql.Identifier(manager), sql.Literal(PASSWORD)))
    engine = db.make_engine(_as(empty_db, manager))
    try:
        with db.begin(engine) as conn:
            conn.exec_driver_sql(f"create role {login} login")
            warnings = roles.limit_login(conn, login)
            conn.execute(sa.text("select 1"))  # the transaction survived the refused settings
    finally:
        engine.dispose()
    assert warnings == [
        f"login {login} has no {setting} = {value}: {manager} may not set it; ask a superuser to run ALTER ROLE {login} SET {setting} = '{value}'"
        for setting, value in (("temp_file_limit", "64MB"), ("log_min_messages", "fatal"), ("log_min_error_statement", "panic"))
    ]
    with psycopg.connect(databases.admin_url) as admin:
        config = admin.execute(
            "select s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = %s", (login,)
        ).fetchone()[0]
    assert sorted(config) == ["idle_in_transaction_session_timeout=30s", "statement_timeout=30s"]
