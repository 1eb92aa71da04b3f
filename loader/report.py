"""Reading the report views and the catalogue of the document's tables."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from loader import schema
from loader.errors import DatabaseUnavailable, InputError
from loader.render import Table


@dataclass(frozen=True)
class CatalogEntry:
    table_id: str
    answer: str
    caption: str

    @property
    def view(self) -> str:
        return f"{schema.REPORT_SCHEMA}.{self.table_id.lower()}"


def catalog(conn: sa.Connection) -> list[CatalogEntry]:
    st = schema.source_table
    try:
        rows = conn.execute(sa.select(st.c.table_id, st.c.answer, st.c.caption).order_by(st.c.position)).all()
    except sa.exc.ProgrammingError as exc:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first") from exc
    if not rows:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first")
    return [CatalogEntry(*r) for r in rows]


def find(entries: list[CatalogEntry], table_id: str) -> CatalogEntry:
    for entry in entries:
        if entry.table_id.lower() == table_id.lower():
            return entry
    valid = ", ".join(e.table_id for e in entries)
    raise InputError(f"unknown table id {table_id!r} (expected one of: {valid})")


def label_columns(conn: sa.Connection, view: str) -> int:
    """How many leading columns of a view are row labels (text, not figures)."""
    schema_name, name = view.split(".")
    rows = conn.execute(
        sa.text(
            "select data_type from information_schema.columns "
            "where table_schema = :s and table_name = :n order by ordinal_position"
        ),
        {"s": schema_name, "n": name},
    ).scalars()
    count = 0
    for data_type in rows:
        if data_type not in ("text", "character varying"):
            break
        count += 1
    return count


def read_table(conn: sa.Connection, entry: CatalogEntry) -> Table:
    result = conn.execute(sa.text(f"select * from {entry.view}"))
    return Table(entry.table_id, entry.caption, list(result.keys()), [tuple(r) for r in result], label_columns(conn, entry.view))
