"""Reading the report views, the curation status of their cells and the catalogue of the document's tables.

Every function takes either a SQLAlchemy Connection (`dwh export`, the tests) or a plain libpq
connection (loader.libpq: `dwh show`, which answers without importing SQLAlchemy or psycopg at
all: those imports took most of its time). The queries are written in psycopg's parameter style,
which both accept (``exec_driver_sql`` passes them through).
"""

from __future__ import annotations

from dataclasses import dataclass

from loader.errors import DatabaseUnavailable, InputError
from loader.render import AMOUNT, COUNT, LABEL, Table

#: The warehouse's schemas (loader.schema's SCHEMA and REPORT_SCHEMA, which this module does not
#: import: it declares the tables with SQLAlchemy; tests/test_quick_commands.py keeps them equal).
WAREHOUSE_SCHEMA = "dwh"
REPORT_SCHEMA = "report"
CELLS_VIEW = f"{REPORT_SCHEMA}.cellen"


def _rows(conn, sql: str, params: dict | None = None) -> list[tuple]:
    """All rows of ``sql`` on a SQLAlchemy or a loader.libpq connection."""
    if hasattr(conn, "exec_driver_sql"):
        return [tuple(r) for r in conn.exec_driver_sql(sql, params or {})]
    return conn.execute(sql, params).fetchall()


@dataclass(frozen=True)
class CatalogEntry:
    table_id: str
    answer: str
    caption: str
    grain: str = ""

    @property
    def view(self) -> str:
        return f"{REPORT_SCHEMA}.{self.table_id.lower()}"


def catalog(conn) -> list[CatalogEntry]:
    """The catalogued tables that have a report view (every table of the document does), in the
    document's order. A catalogued table without one (a dataset with more tables than the
    document's) has nothing to show: unviewed() names them."""
    try:
        rows = _rows(
            conn,
            f"select table_id, answer, caption, grain from {WAREHOUSE_SCHEMA}.source_table "
            f"where {_HAS_VIEW} order by position",
        )
    except Exception as exc:
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) != "42P01":  # undefined_table
            raise
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first") from exc
    if not rows:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first")
    reasons = load_required(conn)
    if reasons:
        raise DatabaseUnavailable(f"the warehouse must be loaded again before it is read ({'; '.join(reasons)}): run `dwh load`")
    return [CatalogEntry(*r) for r in rows]


def unviewed(conn) -> list[str]:
    """The catalogued tables that have no report view, in the document's order."""
    return [t for (t,) in _rows(conn, f"select table_id from {WAREHOUSE_SCHEMA}.source_table where not {_HAS_VIEW} order by position")]


#: Whether a source_table row's report view exists (its name quoted: a table id may hold any character).
_HAS_VIEW = f"to_regclass(quote_ident('{REPORT_SCHEMA}') || '.' || quote_ident(lower(table_id))) is not null"

#: The document whose tables the report views show (a subquery): that of the first catalogued
#: table with a view. The shipped data holds one document; a dataset may hold more, and only the
#: document's own tables have views.
PUBLISHED_DOCUMENT = f"(select document_id from {WAREHOUSE_SCHEMA}.source_table where {_HAS_VIEW} order by position limit 1)"

#: The table ids the report views show (a subquery): what the exports publish of report.cellen.
PUBLISHED_TABLES = f"(select table_id from {WAREHOUSE_SCHEMA}.source_table where {_HAS_VIEW})"


def load_required(conn) -> list[str]:
    """Why a migration says the loaded data must be loaded again before it is read (empty: it may be read).

    Migration 0007 writes a row when it cannot bring what it adds up to date from the loaded figures;
    the views would then be wrong without saying so. The table is there from 0007 on.
    """
    if _rows(conn, f"select to_regclass('{WAREHOUSE_SCHEMA}.load_required')")[0][0] is None:
        return []
    return [reason for (reason,) in _rows(conn, f"select reason from {WAREHOUSE_SCHEMA}.load_required order by reason")]


def find(entries: list[CatalogEntry], table_id: str) -> CatalogEntry:
    for entry in entries:
        if entry.table_id.lower() == table_id.lower():
            return entry
    valid = ", ".join(e.table_id for e in entries)
    raise InputError(f"unknown table id {table_id!r} (expected one of: {valid})")


def column_kinds(conn, view: str) -> list[str]:
    """Per column of a view: a row label (text), a count (integer) or an amount in euro (numeric)."""
    # pg_attribute, not information_schema.columns, whose planning alone took longer than the read
    # of the view; the type of a domain is its base type's, as information_schema's data_type says.
    rows = _rows(
        conn,
        "select format_type(case when t.typtype = 'd' then t.typbasetype else a.atttypid end, null) "
        "from pg_attribute as a inner join pg_type as t on t.oid = a.atttypid "
        "where a.attrelid = cast(%(v)s as regclass) and a.attnum > 0 and not a.attisdropped order by a.attnum",
        {"v": view},
    )
    kinds = []
    for (data_type,) in rows:
        if data_type in ("text", "character varying"):
            kinds.append(LABEL)
        elif data_type == "numeric":
            kinds.append(AMOUNT)
        else:
            kinds.append(COUNT)
    return kinds


def row_key(labels) -> str:
    """A row of a report view as report.cellen names it: its labels, empty ones skipped, joined with ' / '."""
    return " / ".join(str(v) for v in labels if v is not None)


def cell_status(conn, table: Table) -> None:
    """Fill in which cells of the table are not fixed by the printed numbers (open figures and open
    blanks, inconsistent totals), with their range, and what their status means."""
    if _rows(conn, "select to_regclass(%(v)s)", {"v": CELLS_VIEW})[0][0] is None:
        raise DatabaseUnavailable(f"the report views predate {CELLS_VIEW}: run `dwh migrate` to re-create them")
    try:
        flagged = _rows(
            conn,
            f"select rij, kolom, status, minimum, maximum from {CELLS_VIEW} where tabel = %(t)s and status <> 'printed'",
            {"t": table.table_id},
        )
    except Exception as exc:  # report.cellen of an older dwh, without the ranges
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) != "42703":  # undefined_column
            raise
        raise DatabaseUnavailable(f"the report views predate the ranges of {CELLS_VIEW}: run `dwh migrate` to re-create them") from exc
    if not flagged:
        return
    rows = {row_key(row[: table.label_columns]): r for r, row in enumerate(table.rows)}
    columns = {name: c for c, name in enumerate(table.columns)}
    for rij, kolom, status, minimum, maximum in flagged:
        if rij not in rows or kolom not in columns:
            # A view was changed without sql/report/cellen.sql: say so rather than mark a wrong cell.
            raise RuntimeError(f"report.cellen names a cell {rij!r}, {kolom!r} that {table.table_id} does not have; sql/report/cellen.sql must build the labels as the view does")
        where = (rows[rij], columns[kolom])
        table.status[where] = status
        if minimum is not None:
            table.ranges[where] = (_plain_number(minimum), _plain_number(maximum))
    # The few statuses are read whole and picked here: no array parameter, which loader.libpq does not send.
    wanted = set(table.status.values())
    described = _rows(conn, f"select status_id, description from {WAREHOUSE_SCHEMA}.observation_status order by status_id")
    table.statuses = {status: description for status, description in described if status in wanted}


def _plain_number(value):
    """report.cellen gives every range as numeric; a count's range is shown as a whole number."""
    return int(value) if value == int(value) and value.as_tuple().exponent == 0 else value


def read_table(conn, entry: CatalogEntry) -> Table:
    columns, rows = _columns_and_rows(conn, f"select * from {entry.view}")
    kinds = column_kinds(conn, entry.view)
    labels = next((i for i, k in enumerate(kinds) if k != LABEL), len(kinds))
    table = Table(entry.table_id, entry.caption, columns, rows, labels, kinds)
    cell_status(conn, table)
    table.description, table.column_comments = comments(conn, entry.view)
    return table


def _columns_and_rows(conn, sql: str) -> tuple[list[str], list[tuple]]:
    if hasattr(conn, "exec_driver_sql"):
        result = conn.exec_driver_sql(sql)
        return list(result.keys()), [tuple(r) for r in result]
    cursor = conn.execute(sql)
    return [c.name for c in cursor.description], cursor.fetchall()


def comments(conn, view: str) -> tuple[str, dict[str, str]]:
    """The COMMENT of a view and of each of its columns."""
    described = _rows(conn, "select obj_description(cast(%(v)s as regclass), 'pg_class')", {"v": view})[0][0]
    columns = _rows(
        conn,
        "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute as a "
        "where a.attrelid = cast(%(v)s as regclass) and a.attnum > 0 and not a.attisdropped",
        {"v": view},
    )
    return described or "", {name: text for name, text in columns if text}
