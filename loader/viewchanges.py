"""Which report views a set of view files would change: only those are replaced.

Replacing a view takes an exclusive lock on it, which makes every reader of it wait to the end of
the transaction; replacing all 29 on a busy server held readers for about half a second. So the
files are first created as temporary views (the session's own pg_temp schema, which no reader
sees and no lock of a reader's touches), and each is compared with the report view of the same
name: its definition as PostgreSQL prints it, its columns, and the comments on it and on its
columns. The temporary views are then rolled back. What differs, or is missing, is replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from loader import schema

_REPORT = re.compile(rf"\b{schema.REPORT_SCHEMA}\.")
_TEMP = re.compile(r"\bpg_temp(_\d+)?\.")

#: Per view: how PostgreSQL prints it, and its columns with their types and comments.
_DESCRIBE = """
select c.relname,
       pg_get_viewdef(c.oid),
       obj_description(c.oid, 'pg_class'),
       (select json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum))
                        order by a.attnum)
        from pg_attribute as a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)::text
from pg_class as c
where c.relkind = 'v' and c.relnamespace = {namespace}
"""


def changed_views(conn: sa.Connection, files: dict[str, Path]) -> set[str]:
    """The names of ``files`` (view name -> file, in dependency order) whose report view is missing
    or differs from what the file creates. Inside ``conn``'s transaction; leaves nothing behind."""
    savepoint = conn.begin_nested()
    try:
        # With report on the search path, a view that reads another prints its name unqualified,
        # as a temporary view prints its temporary neighbour's: the two print alike.
        conn.exec_driver_sql(f"select set_config('search_path', '{schema.REPORT_SCHEMA}', true)")
        existing = _described(conn, f"'{schema.REPORT_SCHEMA}'::regnamespace")
        if not existing:
            return set(files)
        for path in files.values():
            conn.exec_driver_sql(_REPORT.sub("pg_temp.", path.read_text(encoding="utf-8")))
        wanted = _described(conn, "pg_my_temp_schema()")
    except sa.exc.DBAPIError:
        # A file the database refuses: replace everything, so that the error is the real one.
        return set(files)
    finally:
        savepoint.rollback()
    return {name for name in files if name not in existing or wanted.get(name) != existing[name]}


def _described(conn: sa.Connection, namespace: str) -> dict[str, tuple]:
    rows = conn.exec_driver_sql(_DESCRIBE.format(namespace=namespace)).all()
    # The files' "report." became "pg_temp." in the temporary views' comments too.
    return {name: tuple(_TEMP.sub(f"{schema.REPORT_SCHEMA}.", v or "") for v in rest) for name, *rest in rows}
