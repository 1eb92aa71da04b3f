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


# ------------------------------------------------------------------ data in place


def _report_views(url: str) -> dict[str, list[tuple]]:
    """Every report view's rows, in a stable order."""
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("select table_name from information_schema.views where table_schema = 'report' order by 1")]
        return {
            name: sorted(conn.execute(sql.SQL("select * from report.{}").format(sql.Identifier(name))).fetchall(), key=repr)
            for name in names
        }


def test_an_upgrade_from_0002_with_data_in_place_gives_the_views_of_a_fresh_load(empty_db, loaded_db, capsys):
    engine = db.make_engine(empty_db)
    try:
        assert main(["load", "--database-url", empty_db]) == 0
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")  # the facts stay; the tables of 0003 and 0005 go
            assert conn.execute(sa.text("select count(*) from dwh.trajectory_end")).scalar_one() > 0
            # As a load of an earlier dwh left them: the 35 figures of T2c_project whose place is open were "ambiguous".
            conn.execute(sa.text("insert into dwh.observation_status values ('ambiguous', 'placed by a choice')"))
            assert conn.execute(sa.text("update dwh.trajectory_end set status_id = 'ambiguous' where status_id = 'open'")).rowcount == 35
            conn.execute(sa.text("delete from dwh.observation_status where status_id = 'open'"))
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["migrate", "--database-url", empty_db]) == 0
    assert "warning" not in capsys.readouterr().err
    upgraded, fresh = _report_views(empty_db), _report_views(loaded_db)
    assert upgraded.keys() == fresh.keys()
    for name in fresh:
        assert upgraded[name] == fresh[name], name
    with psycopg.connect(empty_db) as conn:
        # What the issue saw go wrong: no totals, no open cells (document: 35 ambiguous figures of T2c_project).
        assert conn.execute("select count(*) from report.cijfers where is_totaal").fetchone()[0] > 0
        assert conn.execute("select count(*) from report.onzekere_cellen").fetchone()[0] > 0


# ------------------------------------------------------------------ a DBA's own grants


@pytest.fixture
def hand_granted(empty_db):
    """A login and a group with a login in it, given SELECT on the report views by hand (not by dwh)."""
    suffix = uuid.uuid4().hex[:10]
    names = {"login": f"dba_{suffix}", "group": f"team_{suffix}", "member": f"analyst_{suffix}"}
    with psycopg.connect(empty_db, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(names["login"]), sql.Literal(PASSWORD)))
        admin.execute(sql.SQL("create role {} nologin").format(sql.Identifier(names["group"])))
        admin.execute(
            sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(names["member"]), sql.Literal(PASSWORD), sql.Identifier(names["group"])
            )
        )
    yield names
    with psycopg.connect(empty_db, autocommit=True) as admin:
        for name in names.values():  # its grants in this database first, then the role
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


def test_an_upgrade_gives_back_a_dbas_grants_on_the_views_and_names_the_connect_it_took(empty_db, hand_granted, capsys):
    engine = db.make_engine(empty_db)
    try:
        assert main(["load", "--database-url", empty_db]) == 0
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")  # PUBLIC may connect again, as before 0004
    finally:
        engine.dispose()
    login, group, member = hand_granted["login"], hand_granted["group"], hand_granted["member"]
    with psycopg.connect(empty_db, autocommit=True) as admin:  # what a DBA did at 0002, by hand
        admin.execute(sql.SQL("grant usage on schema report to {}, {}").format(sql.Identifier(login), sql.Identifier(group)))
        admin.execute(sql.SQL("grant select on all tables in schema report to {}, {}").format(sql.Identifier(login), sql.Identifier(group)))
    with psycopg.connect(_as(empty_db, member)) as conn:
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)  # T1 of the document
    capsys.readouterr()

    assert main(["migrate", "--database-url", empty_db]) == 0  # drops every view, and 0004 takes CONNECT from PUBLIC
    database = _database(empty_db)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("dwh: warning:")]
    assert warnings == [
        f"dwh: warning: role {name} lost rights it had in this warehouse: CONNECT on database {database} (through PUBLIC, "
        f"which may no longer connect); to give them back, run: GRANT CONNECT ON DATABASE {database} TO {name}"
        for name in sorted([member, login])
    ]  # the group's SELECT on the views came back with them: not named
    assert f'permission denied for database "{database}"' in _refused(empty_db, login)

    with psycopg.connect(empty_db, autocommit=True) as admin:
        for name in (login, member):
            admin.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), sql.Identifier(name)))
    for name in (login, member):
        with psycopg.connect(_as(empty_db, name)) as conn:
            assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)
    capsys.readouterr()
    assert main(["load", "--force", "--database-url", empty_db]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_grant_on_a_view_that_is_gone_is_named(empty_db, hand_granted, capsys):
    from loader import grants

    login = hand_granted["login"]
    assert main(["load", "--database-url", empty_db]) == 0
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            conn.exec_driver_sql(f'grant select on report.t1_totaal, dwh.load_history to "{login}"')
            before = grants.snapshot(conn)
            conn.exec_driver_sql("drop view report.t1_totaal")  # as a migration might; not created again
            conn.exec_driver_sql(f'revoke select on dwh.load_history from "{login}"')
            lines = grants.restore(conn, before)
            conn.rollback()
    finally:
        engine.dispose()
    assert lines == [
        f"role {login} lost rights it had in this warehouse: SELECT on table dwh.load_history, its grants on report.t1_totaal, "
        f"which is no longer there; to give them back, run: GRANT SELECT ON TABLE dwh.load_history TO {login}"
    ]


def test_an_upgrade_that_cannot_fill_the_ranges_refuses_every_reader_path_until_the_next_load(empty_db, loaded_db, tmp_path, capsys):
    engine = db.make_engine(empty_db)
    try:
        assert main(["load", "--database-url", empty_db]) == 0
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0002")
            # Figures other than the shipped ones (as another curated dataset would load): 0007 knows
            # the open cells of the shipped figures only.
            conn.exec_driver_sql("update dwh.trajectory_end set value = value + 1 where table_id = 'T2c_project' and value = 1")
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["migrate", "--database-url", empty_db]) == 0
    assert "dwh: warning: the warehouse must be loaded again before it is read" in capsys.readouterr().err
    # A reader in psql or a BI tool gets the refusal too, from every view that carries statuses or ranges.
    for view in ("open_cellen", "onzekere_cellen", "cellen", "cijfers", "trajecten_beeindigd", "doorstroom"):
        with psycopg.connect(empty_db) as conn, pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as raised:
            conn.execute(sql.SQL("select count(*) from report.{}").format(sql.Identifier(view)))
        message = raised.value.diag.message_primary
        assert message.startswith("the warehouse must be loaded again before it is read (the ranges of the open cells"), view
        assert message.endswith("): run dwh load"), view

    refusal = (
        "dwh: error: the warehouse must be loaded again before it is read (the ranges of the open cells of answer 2c "
        "(report.open_cellen) are not known for the figures loaded before this upgrade): run `dwh load`\n"
    )
    for command in (["show", "T2c_project"], ["show", "--all"], ["reconcile"], ["export", str(tmp_path / "out")]):
        assert main([*command, "--database-url", empty_db]) == 3, command
        assert capsys.readouterr().err == refusal, command
    assert main(["status", "--database-url", empty_db]) == 0
    assert "must be loaded again before it is read" in capsys.readouterr().out

    # The shipped data again: the same bytes as the last load, but loaded, not found unchanged.
    assert main(["load", "--database-url", empty_db]) == 0
    assert capsys.readouterr().out.startswith("loaded ")
    assert main(["show", "T2c_project", "--database-url", empty_db]) == 0
    assert _report_views(empty_db) == _report_views(loaded_db)
