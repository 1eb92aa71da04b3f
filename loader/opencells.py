"""Every figure cell of a report table with how sure it is: its curation status, its source line and,
for an open cell, the range of what it may hold.

The publication site (loader.site) reads the cells of a table through this one function only. Today
it joins two views: report.cellen (status and source line of every printed figure) and
report.onzekere_cellen (the cells of answer 2c, printed or blank, whose content differs between the
placements that fit the document, with their minimum and maximum). When the warehouse gets one
function that yields every cell of a report table with its status and range, ``table_cells`` becomes
a call to it and the rest of the site stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from loader.render import Table
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
    """Every figure cell of ``table`` (row index, column index), blanks included, in the table's order."""
    rows = {row_key(row[: table.label_columns]): r for r, row in enumerate(table.rows)}
    columns = {name: c for c, name in enumerate(table.columns)}

    def place(rij: str, kolom: str) -> tuple[int, int]:
        if rij not in rows or kolom not in columns:
            raise CellsOutOfStep(f"{table.table_id} has no cell {rij!r}, {kolom!r}; the cell views must build labels as report.{table.table_id.lower()} does")
        return rows[rij], columns[kolom]

    printed = {
        place(rij, kolom): (status, line)
        for rij, kolom, status, line in conn.execute(
            sa.text("select rij, kolom, status, bronregel from report.cellen where tabel = :t"), {"t": table.table_id}
        )
    }
    ranges = {
        place(rij, kolom): (low, high)
        for rij, kolom, low, high in conn.execute(
            sa.text("select rij, kolom, minimum, maximum from report.onzekere_cellen where tabel = :t"), {"t": table.table_id}
        )
    }
    out = {}
    for r, row in enumerate(table.rows):
        for c in range(table.label_columns, len(table.columns)):
            status, line = printed.get((r, c), (None, None))
            if (row[c] is None) != (status is None):
                raise CellsOutOfStep(f"{table.table_id} row {r + 1} column {table.columns[c]!r}: the view and report.cellen disagree on whether a figure is printed there")
            low, high = ranges.get((r, c), (None, None))
            out[(r, c)] = Cell(row[c], status, line, low, high)
    return out
