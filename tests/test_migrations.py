"""Migration health: one head, up and down and up again, and no drift from loader.schema."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from loader import db, migrate, roles, schema, views
from loader.errors import InputError
from loader.load import load, migrate_schema


def test_single_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1
    assert heads[0] == migrate.HEAD  # the loader's shortcut knows the newest revision


def _objects(conn) -> dict[str, set[str]]:
    rows = conn.execute(
        sa.text(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'v', 'S')"
        )
    ).all()
    schemas = conn.execute(
        sa.text("select nspname from pg_namespace where nspname not like 'pg_%' and nspname <> 'information_schema'")
    ).scalars()
    return {"relations": {f"{s}.{r}" for s, r in rows}, "schemas": set(schemas)}


def test_empty_to_head_to_base_to_head(empty_db):
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            empty = _objects(conn)
            migrate_schema(conn)
            views.create_views(conn)
            at_head = _objects(conn)
            assert {"dwh", "report"} <= at_head["schemas"]
            assert "dwh.trajectory_end" in at_head["relations"]
            assert "report.t2ab_project" in at_head["relations"]
            migrate.downgrade(conn, "base")
            at_base = _objects(conn)
            # Nothing is left but Alembic's own (empty) version table.
            assert at_base["schemas"] == empty["schemas"]
            assert at_base["relations"] - empty["relations"] == {"public.alembic_version"}
            assert migrate.current_revision(conn) is None
            migrate_schema(conn)
            views.create_views(conn)
            assert _objects(conn) == at_head
    finally:
        engine.dispose()


def test_round_trip_on_a_loaded_database(empty_db, shipped_dataset):
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            load(conn, shipped_dataset)
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "base")
        with db.begin(engine) as conn:
            result = load(conn, shipped_dataset)
            assert result.outcome == "loaded"
            assert conn.execute(sa.text("select \"LDE\" from report.t1_totaal")).scalar_one() == 2320
            assert conn.execute(sa.text("select has_table_privilege(:r, 'report.t1_totaal', 'select')"), {"r": roles.current_reader_role(conn)}).scalar_one()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(empty_db):
    """`alembic check`: autogenerate finds nothing to do against a database at head."""
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            migrate.upgrade(conn)
            command.check(migrate.alembic_config(conn))
    finally:
        engine.dispose()


def test_check_constraints_and_views_alembic_cannot_see(loaded_engine):
    """Alembic compares neither CHECK constraints nor views: prove ours are in the database."""
    with loaded_engine.connect() as conn:
        checks = set(
            conn.execute(
                sa.text(
                    "select conrelid::regclass::text || ':' || conname from pg_constraint c "
                    "join pg_namespace n on n.oid = c.connamespace where n.nspname = 'dwh' and contype = 'c'"
                )
            ).scalars()
        )
    expected = {f"dwh.{name}:ck_{name}_value_not_negative" for name, t in schema.FACT_TABLES.items() if "value" in t.c}
    expected |= {f"dwh.{name}:ck_{name}_source_line_positive" for name in schema.FACT_TABLES}
    expected.add("dwh.load_history:ck_load_history_outcome_known")
    assert expected <= checks


def test_0008_says_open_cell_and_its_downgrade_says_what_0005_wrote(empty_db):
    """The project's word for a cell the printed numbers leave open is "open" (README, "How sure
    each cell is"); 0005 had written "uncertain", and a downgrade to 0007 gives that back."""
    comment = "select obj_description('dwh.trajectory_end_range'::regclass, 'pg_class')"
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            migrate_schema(conn)
            assert conn.execute(sa.text(comment)).scalar_one().endswith("One row per open cell")
            migrate.downgrade(conn, "0007")
            assert conn.execute(sa.text(comment)).scalar_one().endswith("One row per uncertain cell")
    finally:
        engine.dispose()


def _described(url: str) -> str:
    """Everything a migration makes in ``url``: pg_dump of the database (schemas, tables, comments,
    functions, grants, rows), its own ACL and its reader role, with the database's name taken out
    (it is part of the reader role's name)."""
    import subprocess

    from loader.embedded import binaries

    name = sa.engine.make_url(url).database
    dump = subprocess.run([str(binaries() / "pg_dump"), "--no-owner", "--dbname", url], check=True, capture_output=True, text=True).stdout
    # pg_dump 17.6 and later fence the script with \restrict and a random key.
    lines = [line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            lines += map(str, conn.execute(sa.text(
                "select datacl::text from pg_database where datname = current_database() "
                "union all select concat_ws(' ', rolname, rolcanlogin, rolinherit) from pg_roles where rolname = :r"
            ), {"r": roles.reader_role(name)}).scalars())
    finally:
        engine.dispose()
    # Some servers stamp each column they create with an attribute option of their own
    # (pg_attver=<number>, different each time): its value is not the migrations' doing.
    return re.sub(r"pg_attver=[0-9]+", "pg_attver=N", "\n".join(lines).replace(name, "<database>"))


def test_a_database_never_migrated_gets_what_alembics_online_mode_gives(databases, empty_db):
    """migrate.upgrade runs a never-migrated database's migrations as the one script Alembic's
    offline mode renders; Alembic's online mode, statement by statement, makes the same database."""
    online = databases.create()
    for url, run in ((empty_db, migrate.upgrade), (online, lambda conn: command.upgrade(migrate.alembic_config(conn), "head"))):
        engine = db.make_engine(url)
        try:
            with db.begin(engine) as conn:
                run(conn)
        finally:
            engine.dispose()
    script, statements = _described(empty_db), _described(online)
    assert "CREATE TABLE dwh.trajectory_end_range" in script and "COMMENT ON COLUMN dwh.doorstroom.value" in script
    assert script == statements


@pytest.mark.parametrize("revision", ["0003", "+2", "base"])
def test_a_never_migrated_database_reaches_the_revision_online_mode_reaches(databases, empty_db, revision):
    online = databases.create()
    reached = []
    for url, run in ((empty_db, migrate.upgrade), (online, lambda conn, rev: command.upgrade(migrate.alembic_config(conn), rev))):
        engine = db.make_engine(url)
        try:
            with db.begin(engine) as conn:
                run(conn, revision)
                reached.append((migrate.current_revision(conn), conn.execute(sa.text("select to_regclass('public.alembic_version')")).scalar()))
        finally:
            engine.dispose()
    assert reached[0] == reached[1]
    assert reached[0] == ({"0003": "0003", "+2": "0002", "base": None}[revision], "alembic_version")


def test_a_range_of_revisions_is_refused_on_a_never_migrated_database(empty_db):
    """Alembic takes a range (a:b) only in offline mode: `dwh migrate` refuses it, and migrates nothing."""
    engine = db.make_engine(empty_db)
    try:
        with db.begin(engine) as conn:
            with pytest.raises(InputError, match="Range revision not allowed"):
                migrate.upgrade(conn, "0002:0004")
            assert conn.execute(sa.text("select to_regnamespace('dwh')")).scalar() is None
    finally:
        engine.dispose()
