"""Every figure cell of a report table with how sure it is: its curation status, its source line and,
for an open cell, the range of what it may hold.

The publication site (loader.site) reads the cells of a table through this one function only: the
status and range of each cell as loader.render.cells gives them to `dwh show` and the workbook,
with the line of the text extraction each figure was read from (report.cellen).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from loader.render import OPEN, Table, cells
from loader.report import row_key


@dataclass(frozen=True)
class Cell:
    """One figure cell of a report table, printed or blank."""

    value: int | Decimal | None  # as the table prints it; None for a blank
    status: str | None  # curation status of a printed figure (dwh.observation_status); None for a blank
    source_line: int | None  # line of the text extraction the figure was read from; None for a blank
    #: for an open cell, the fewest and the most it may hold over every placement that fits the
    #: document (a blank counts as 0); None where the content is the same in all of them
    minimum: int | None = None
    maximum: int | None = None

    @property
    def is_open(self) -> bool:
        return self.minimum is not None


class CellsOutOfStep(RuntimeError):
    """A cell view names a cell its report view does not have: the SQL of the views drifted apart."""


def table_cells(conn: sa.Connection, table: Table) -> dict[tuple[int, int], Cell]:
    """Every figure cell of ``table`` (row index, column index), blanks included, in the table's order.

    Status and range come from loader.render.cells, the one account of how sure each cell is that
    `dwh show` and the workbook render too; the source line of each figure from report.cellen."""
    rows = {row_key(row[: table.label_columns]): r for r, row in enumerate(table.rows)}
    columns = {name: c for c, name in enumerate(table.columns)}

    def place(rij: str, kolom: str) -> tuple[int, int]:
        if rij not in rows or kolom not in columns:
            raise CellsOutOfStep(f"{table.table_id} has no cell {rij!r}, {kolom!r}; the cell views must build labels as report.{table.table_id.lower()} does")
        return rows[rij], columns[kolom]

    lines = {
        place(rij, kolom): line
        for rij, kolom, line in conn.execute(
            sa.text("select rij, kolom, bronregel from report.cellen where tabel = :t and waarde is not null"), {"t": table.table_id}
        )
    }
    out = {}
    for cell in cells(table):
        position = (cell.row, cell.column)
        if (cell.value is None) == (position in lines):
            raise CellsOutOfStep(f"{table.table_id} row {cell.row + 1} column {table.columns[cell.column]!r}: the view and report.cellen disagree on whether a figure is printed there")
        is_open = cell.status == OPEN
        out[position] = Cell(
            cell.value,
            cell.status if cell.value is not None else None,
            lines.get(position),
            cell.minimum if is_open else None,
            cell.maximum if is_open else None,
        )
    return out
