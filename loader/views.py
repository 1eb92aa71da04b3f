"""The report views: one ``sql/report/<view>.sql`` file per view, re-created after loads and migrations.

Views are replaceable objects (Alembic cookbook): Alembic does not track them. ``CREATE OR REPLACE``
keeps a view's grants; when a view's columns change it is dropped and created again, and the
reader role's grant and the comments (in the same file) come back with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from loader import schema
from loader.fingerprint import view_files, views_hash  # noqa: F401  (part of this module's interface)


def existing_views(conn: sa.Connection) -> set[str]:
    rows = conn.execute(
        sa.text("select table_name from information_schema.views where table_schema = :s"),
        {"s": schema.REPORT_SCHEMA},
    )
    return {r[0] for r in rows}


def drop_views(conn: sa.Connection) -> None:
    for name in existing_views(conn):
        conn.exec_driver_sql(f'drop view if exists {schema.REPORT_SCHEMA}."{name}" cascade')


def create_views(conn: sa.Connection) -> list[str]:
    """(Re)create every view from its file, drop views that have no file, grant the reader role."""
    files = view_files()
    for name in existing_views(conn) - set(files):
        conn.exec_driver_sql(f'drop view if exists {schema.REPORT_SCHEMA}."{name}" cascade')
    for name, path in dependency_order(files).items():
        text = path.read_text(encoding="utf-8")
        savepoint = conn.begin_nested()
        try:
            conn.exec_driver_sql(text)
            savepoint.commit()
        except sa.exc.ProgrammingError:
            # CREATE OR REPLACE cannot rename or drop columns: start the view afresh.
            savepoint.rollback()
            conn.exec_driver_sql(f'drop view if exists {schema.REPORT_SCHEMA}."{name}" cascade')
            conn.exec_driver_sql(text)
    grant_reader(conn)
    return list(files)


def dependency_order(files: dict[str, Path]) -> dict[str, Path]:
    """The view files, each after the report views it reads (the tidy views read report.cijfers).

    A view that is dropped and created afresh takes its dependants with it (cascade); they come
    later in this order, so they are created again too.
    """
    reads = {
        name: {m for m in re.findall(rf"\b{schema.REPORT_SCHEMA}\.(\w+)", path.read_text(encoding="utf-8")) if m in files and m != name}
        for name, path in files.items()
    }
    ordered: dict[str, Path] = {}

    def visit(name: str, seen: tuple[str, ...]) -> None:
        if name in ordered or name in seen:
            return  # done, or a cycle (the database will say what is wrong with it)
        for other in sorted(reads[name]):
            visit(other, (*seen, name))
        ordered[name] = files[name]

    for name in files:
        visit(name, ())
    return ordered


def grant_reader(conn: sa.Connection) -> None:
    """Give the reader role what it may read, as the schema's revision has it.

    From migration 0004 on that is this database's own role (loader.roles), set up again here
    because a copy of the database does not carry all of it; before, the shared role of 0002.
    """
    from loader import migrate, roles

    if roles.per_database_roles_applied(conn):
        roles.ensure_reader_role(conn)
        return
    legacy = conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": roles.LEGACY_READER_ROLE}).first()
    if legacy and migrate.current_revision(conn) not in (None, "0001"):
        for s in (schema.SCHEMA, schema.REPORT_SCHEMA):
            conn.exec_driver_sql(f"grant usage on schema {s} to {roles.LEGACY_READER_ROLE}")
            conn.exec_driver_sql(f"grant select on all tables in schema {s} to {roles.LEGACY_READER_ROLE}")
