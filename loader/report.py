"""Reading the report views, the curation status of their cells and the catalogue of the document's tables."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from loader import schema
from loader.errors import DatabaseUnavailable, InputError
from loader.render import AMOUNT, COUNT, LABEL, Table

CELLS_VIEW = f"{schema.REPORT_SCHEMA}.cellen"


@dataclass(frozen=True)
class CatalogEntry:
    table_id: str
    answer: str
    caption: str
    grain: str = ""

    @property
    def view(self) -> str:
        return f"{schema.REPORT_SCHEMA}.{self.table_id.lower()}"


def catalog(conn: sa.Connection) -> list[CatalogEntry]:
    st = schema.source_table
    try:
        rows = conn.execute(sa.select(st.c.table_id, st.c.answer, st.c.caption, st.c.grain).order_by(st.c.position)).all()
    except sa.exc.ProgrammingError as exc:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first") from exc
    if not rows:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first")
    reasons = load_required(conn)
    if reasons:
        raise DatabaseUnavailable(f"the warehouse must be loaded again before it is read ({'; '.join(reasons)}): run `dwh load`")
    return [CatalogEntry(*r) for r in rows]


def load_required(conn: sa.Connection) -> list[str]:
    """Why a migration says the loaded data must be loaded again before it is read (empty: it may be read).

    Migration 0007 writes a row when it cannot bring what it adds up to date from the loaded figures;
    the views would then be wrong without saying so. The table is there from 0007 on.
    """
    if conn.execute(sa.text("select to_regclass('dwh.load_required')")).scalar() is None:
        return []
    return list(conn.execute(sa.select(schema.load_required.c.reason).order_by(schema.load_required.c.reason)).scalars())


def find(entries: list[CatalogEntry], table_id: str) -> CatalogEntry:
    for entry in entries:
        if entry.table_id.lower() == table_id.lower():
            return entry
    valid = ", ".join(e.table_id for e in entries)
    raise InputError(f"unknown table id {table_id!r} (expected one of: {valid})")


def column_kinds(conn: sa.Connection, view: str) -> list[str]:
    """Per column of a view: a row label (text), a count (integer) or an amount in euro (numeric)."""
    schema_name, name = view.split(".")
    rows = conn.execute(
        sa.text(
            "select data_type from information_schema.columns "
            "where table_schema = :s and table_name = :n order by ordinal_position"
        ),
        {"s": schema_name, "n": name},
    ).scalars()
    kinds = []
    for data_type in rows:
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


def cell_status(conn: sa.Connection, table: Table) -> None:
    """Fill in which figures of the table are not placed without doubt, and what their status means."""
    if conn.execute(sa.text("select to_regclass(:v)"), {"v": CELLS_VIEW}).scalar() is None:
        raise DatabaseUnavailable(f"the report views predate {CELLS_VIEW}: run `dwh migrate` to re-create them")
    uncertain = conn.execute(
        sa.text(f"select rij, kolom, status from {CELLS_VIEW} where tabel = :t and status <> 'printed'"),
        {"t": table.table_id},
    ).all()
    if not uncertain:
        return
    rows = {row_key(row[: table.label_columns]): r for r, row in enumerate(table.rows)}
    columns = {name: c for c, name in enumerate(table.columns)}
    for rij, kolom, status in uncertain:
        if rij not in rows or kolom not in columns:
            # A view was changed without sql/report/cellen.sql: say so rather than mark a wrong cell.
            raise RuntimeError(f"report.cellen names a cell {rij!r}, {kolom!r} that {table.table_id} does not have; sql/report/cellen.sql must build the labels as the view does")
        table.status[(rows[rij], columns[kolom])] = status
    os_ = schema.observation_status
    wanted = sorted(set(table.status.values()))
    table.statuses = dict(conn.execute(sa.select(os_.c.status_id, os_.c.description).where(os_.c.status_id.in_(wanted))).all())


def read_table(conn: sa.Connection, entry: CatalogEntry) -> Table:
    result = conn.execute(sa.text(f"select * from {entry.view}"))
    columns, rows = list(result.keys()), [tuple(r) for r in result]
    kinds = column_kinds(conn, entry.view)
    labels = next((i for i, k in enumerate(kinds) if k != LABEL), len(kinds))
    table = Table(entry.table_id, entry.caption, columns, rows, labels, kinds)
    cell_status(conn, table)
    table.description, table.column_comments = comments(conn, entry.view)
    return table


def comments(conn: sa.Connection, view: str) -> tuple[str, dict[str, str]]:
    """The COMMENT of a view and of each of its columns."""
    described = conn.execute(sa.text("select obj_description(cast(:v as regclass), 'pg_class')"), {"v": view}).scalar()
    columns = conn.execute(
        sa.text(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute as a "
            "where a.attrelid = cast(:v as regclass) and a.attnum > 0 and not a.attisdropped"
        ),
        {"v": view},
    ).all()
    return described or "", {name: text for name, text in columns if text}
