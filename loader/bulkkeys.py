"""A load into empty fact tables builds their primary keys after the copy, as pg_restore does.

COPY into a table with its primary key in place inserts each row into the key's index as it
goes: at 1M observations the copy of every file took 3.9-4.7 s that way, against 1.3-1.4 s into
the fact tables without their keys plus 0.9-1.2 s to build the keys afterwards, from the sorted
rows (one transaction each, measured side by side on 2 cores). So when the warehouse holds no
data at all, the load drops the fact tables' primary keys, copies, and adds each key again,
with the same name and definition (read from the database, as the migrations made it).

- Only the fact tables: they hold nearly all rows, and no foreign key refers to them (a key
  another table's foreign key refers to is left in place).
- Only into empty tables, and only for a large load (loader.sidechecks.large). Dropping a key
  locks its table exclusively until the load commits, so a reader of a report view waits for
  the load instead of reading empty tables; a load into tables that hold data (a reload, which
  merges) never touches the keys, and its readers keep reading the old rows.
- The fact tables are locked at once with the report views (loader.lockall), so that a reader
  never deadlocks with the load.
- A login that may not alter a table (not its owner) copies into it with its key in place, as before.
- A repeated key makes adding the key fail (SQLSTATE 23505), which sends the load to the Python
  checks, as COPY's own refusal did; the savepoint the streamed route runs in brings the keys
  back with everything else.
"""

from __future__ import annotations

import sqlalchemy as sa

from loader import schema, views

#: Memory for sorting each key's rows while it is built, for the key's statement only.
BUILD_MEMORY = {"maintenance_work_mem": "256MB"}


def _facts() -> list[str]:
    return [f"{schema.SCHEMA}.{name}" for name in schema.FACT_TABLES]


def drop(conn: sa.Connection) -> list[tuple[str, str, str]]:
    """Drop the primary keys of the fact tables the login may alter (their owner's) that nothing
    else depends on; what to add back: (table, constraint, definition).

    A key something depends on stays, and its table is copied into with the key in place: a
    foreign key refers to its index, or a view a user made groups by it (its other columns then
    depend on the key). Dropping it would fail, or need CASCADE, which would drop the user's
    object with it."""
    from loader.db import run_together
    from loader.lockall import lock_at_once

    keys = conn.exec_driver_sql(
        "select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "from pg_constraint as c join pg_class as t on t.oid = c.conrelid "
        "where c.contype = 'p' and c.conrelid = any(%s::regclass[]) and pg_has_role(t.relowner, 'USAGE') "
        # Nothing but the key's own index (an internal dependency) depends on the key or its index.
        "and not exists (select from pg_depend as d where d.deptype <> 'i' and ("
        "(d.refclassid = 'pg_constraint'::regclass and d.refobjid = c.oid) "
        "or (d.refclassid = 'pg_class'::regclass and d.refobjid = c.conindid))) "
        "order by 1",
        (_facts(),),
    ).all()
    if keys:
        # With the report views, at once: a reader holds a view while it waits for a table the
        # load has locked, and the load replaces the views at its end (loader.views.lock_views);
        # taken in that order the two would wait for each other. Locking a view locks the
        # relations it reads too.
        lock_at_once(conn, [*views.lock_order(conn), *(table for table, _, _ in keys)])
        run_together(conn, [f'alter table {table} drop constraint "{name}"' for table, name, _ in keys])
    return [tuple(key) for key in keys]


def add(conn: sa.Connection, keys: list[tuple[str, str, str]]) -> None:
    """Add back the keys ``drop`` dropped, each built from the rows copied."""
    from loader.db import local_settings, run_together

    if keys:
        with local_settings(conn, BUILD_MEMORY):
            run_together(conn, [f'alter table {table} add constraint "{name}" {definition}' for table, name, definition in keys])
