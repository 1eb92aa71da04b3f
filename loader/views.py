"""The report views: one ``sql/report/<view>.sql`` file per view, brought to their files after loads and migrations.

Views are replaceable objects (Alembic cookbook): Alembic does not track them. Only the views
whose definition or comments differ from their file are replaced (loader.viewchanges), all of
them locked at once (loader.lockall), so that readers neither deadlock with a load nor wait for
views it leaves alone. ``CREATE OR REPLACE`` keeps a view's grants; when a view's columns change
it is dropped and created again, and the reader role's grant and the comments (in the same file)
come back with it.
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


def lock_views(conn: sa.Connection, names: set[str] | None = None) -> None:
    """Take the exclusive lock on the report views ``names`` (default: all) at once, before any is
    dropped or replaced.

    Replacing views one by one, each locked in turn, deadlocked with readers (loader.lockall).
    The names are listed in the order a reader locks them, a view before the views it reads.
    """
    from loader.lockall import lock_at_once

    lock_at_once(conn, lock_order(conn, names))


def lock_order(conn: sa.Connection, names: set[str] | None = None) -> list[str]:
    """The report views ``names`` (default: all) that exist, quoted, in the order a reader locks
    them: a view before the views it reads."""
    existing = existing_views(conn) if names is None else names & existing_views(conn)
    known = [name for name in reversed(dependency_order(view_files())) if name in existing]
    ordered = sorted(existing - set(known)) + known
    return [f'{schema.REPORT_SCHEMA}."{name}"' for name in ordered]


def drop_views(conn: sa.Connection) -> None:
    lock_views(conn)
    for name in existing_views(conn):
        _drop(conn, name)


def _drop(conn: sa.Connection, name: str) -> None:
    """Drop a report view and the report views that read it; never anything of someone else's.

    CASCADE would also drop, silently, a view a user made on a report view: such a view stops
    the load or migration instead (exit 3), naming it.
    """
    from loader.errors import DatabaseUnavailable

    theirs = conn.execute(sa.text(_OUTSIDE_DEPENDENTS), {"view": f'{schema.REPORT_SCHEMA}."{name}"', "s": schema.REPORT_SCHEMA}).scalars().all()
    if theirs:
        raise DatabaseUnavailable(
            f"report.{name} must be dropped and created again (its columns changed, or it has no file), "
            f"but {', '.join(theirs)} depends on it; drop or change that first (dwh never drops what it did not create)"
        )
    conn.exec_driver_sql(f'drop view if exists {schema.REPORT_SCHEMA}."{name}" cascade')


#: What DROP ... CASCADE of a view would take along outside the report schema: the relations whose
#: rewrite rule reads it, or reads a report view that does, and so on.
_OUTSIDE_DEPENDENTS = """
with recursive readers(oid) as (
    select to_regclass(:view)::oid
    union
    select r.ev_class
    from readers
    join pg_depend as d on d.refclassid = 'pg_class'::regclass and d.refobjid = readers.oid and d.classid = 'pg_rewrite'::regclass
    join pg_rewrite as r on r.oid = d.objid
    where r.ev_class <> readers.oid
)
select quote_ident(n.nspname) || '.' || quote_ident(c.relname)
from readers join pg_class as c on c.oid = readers.oid join pg_namespace as n on n.oid = c.relnamespace
where c.relnamespace <> cast(:s as regnamespace)
order by 1
"""


def create_views(conn: sa.Connection) -> list[str]:
    """Bring every view to its file: create the missing, replace those that differ (loader.viewchanges),
    drop views that have no file, grant the reader role. The views left alone are not locked, so
    their readers never wait; those replaced are locked all at once (lock_views)."""
    from loader.viewchanges import changed_views

    files = dependency_order(view_files())
    existing = existing_views(conn)
    stale = existing - set(files)
    changed = changed_views(conn, files)
    if stale:
        # Dropping a view with no file drops what reads it (cascade): lock them all.
        lock_views(conn)
    else:
        # A replacement that must drop and create the view afresh drops the views that read it.
        lock_views(conn, _with_readers(changed, files))
    for name in stale:
        _drop(conn, name)
    present = existing_views(conn)
    # Views not there yet are created together, in one round trip per run of them (all 29 on a
    # fresh load): their CREATE OR REPLACE has no old view whose columns could be in the way, so
    # they need no savepoint of their own. That was 29 statements and 58 savepoint commands.
    missing: list[str] = []

    def create_missing() -> None:
        if missing:
            from loader.db import run_together

            run_together(conn, missing)
            missing.clear()

    for name, path in files.items():
        if name not in changed and name in present:
            continue
        text = path.read_text(encoding="utf-8")
        if name not in present:
            missing.append(text)
            continue
        create_missing()  # the views before it in dependency order, first
        savepoint = conn.begin_nested()
        try:
            conn.exec_driver_sql(text)
            savepoint.commit()
        except sa.exc.ProgrammingError:
            # CREATE OR REPLACE cannot rename or drop columns: start the view afresh.
            savepoint.rollback()
            _drop(conn, name)
            conn.exec_driver_sql(text)
            present = existing_views(conn)  # the views that read it went with it; they come later in this order
    create_missing()
    grant_reader(conn)
    return list(files)


def _with_readers(names: set[str], files: dict[str, Path]) -> set[str]:
    """``names`` and every view that reads one of them, directly or through others."""
    reads = _reads(files)
    found = set(names)
    while True:
        more = {name for name, read in reads.items() if read & found} - found
        if not more:
            return found
        found |= more


def _reads(files: dict[str, Path]) -> dict[str, set[str]]:
    """Per view file: the other report views it reads."""
    return {
        name: {m for m in re.findall(rf"\b{schema.REPORT_SCHEMA}\.(\w+)", path.read_text(encoding="utf-8")) if m in files and m != name}
        for name, path in files.items()
    }


def dependency_order(files: dict[str, Path]) -> dict[str, Path]:
    """The view files, each after the report views it reads (the tidy views read report.cijfers).

    A view that is dropped and created afresh takes its dependants with it (cascade); they come
    later in this order, so they are created again too.
    """
    reads = _reads(files)
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
