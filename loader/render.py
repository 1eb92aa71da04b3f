"""Printing a report view the way the document prints it (text, markdown) or for scripts (csv, json).

Every output shows how sure each cell is (``cells`` yields them, for every output alike): a cell
the printed numbers do not fix carries a mark (text, markdown): an open figure, an open blank with
the range it may hold, an inconsistent total; a legend under the table counts them and says what
the mark means. JSON gives every cell its status and every open cell its range. CSV stays clean
numbers (``dwh export --format csv`` carries the status in a companion file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from loader import textlayout

FORMATS = ("text", "csv", "json", "markdown")

LABEL, COUNT, AMOUNT = "label", "count", "amount"

#: The mark after a cell, per status; a status added later without a mark here gets "?".
OPEN = "open"
MARKS = {OPEN: "*", "inconsistent": "!"}
#: Where a reader finds more about the cells of a status.
SEE_ALSO = {
    OPEN: "The range of every open cell is in the view report.open_cellen, the possible placements in data/CURATION.md",
    "inconsistent": "Both figures are in dwh.source_inconsistency and `dwh reconcile`",
}


@dataclass
class Table:
    table_id: str
    caption: str
    columns: list[str]
    rows: list[tuple]
    label_columns: int  # how many leading columns are row labels
    #: per column: "label", "count" or "amount" (euro), from the view's column types
    kinds: list[str] = field(default_factory=list)
    #: (row index, column index) -> status, for every cell the printed numbers do not fix (report.cellen):
    #: "open" (a figure, or a blank, other placements fill differently) or "inconsistent"
    status: dict[tuple[int, int], str] = field(default_factory=dict)
    #: (row index, column index) -> (minimum, maximum) the placements allow, for every open cell
    ranges: dict[tuple[int, int], tuple] = field(default_factory=dict)
    #: curation status -> what it means (dwh.observation_status), for the statuses in `status`
    statuses: dict[str, str] = field(default_factory=dict)
    #: the view's comment and its columns' comments, for the data package of `dwh export`
    description: str = ""
    column_comments: dict[str, str] = field(default_factory=dict)

    def kind(self, column: int) -> str:
        if self.kinds:
            return self.kinds[column]
        return LABEL if column < self.label_columns else COUNT


def mark(status: str | None) -> str:
    return "" if status in (None, "printed") else MARKS.get(status, "?")


@dataclass(frozen=True)
class Cell:
    """One figure cell of a report table: its value (None where blank), how sure it is, its range."""

    row: int
    column: int
    value: object
    #: "printed" (a figure the printed numbers fix), "open", "inconsistent", or None for a blank
    #: that every placement leaves blank
    status: str | None
    minimum: object = None  # the range the placements allow: the figure itself where it is fixed
    maximum: object = None

    @property
    def is_open_blank(self) -> bool:
        return self.value is None and self.status is not None


def cells(table: Table):
    """Every figure cell of the table, row by row, with its status and range: the one account of
    how sure each cell is that `dwh show`, the workbook and other publications render."""
    for r, row in enumerate(table.rows):
        for c in range(table.label_columns, len(table.columns)):
            value = row[c]
            status = table.status.get((r, c), None if value is None else "printed")
            low, high = table.ranges.get((r, c), (value, value))
            yield Cell(r, c, value, status, low, high)


def span(cell: Cell) -> str:
    """An open blank's range as the outputs print it: [0-1]."""
    return f"[{belgian(cell.minimum)}-{belgian(cell.maximum)}]"


def belgian(value) -> str:
    """A figure as the document prints it: amounts as 27.313,55, counts as 1010, blanks as blanks."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        sign = "-" if value < 0 else ""
        whole, _, cents = f"{abs(value):.2f}".partition(".")
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        return f"{sign}{'.'.join(groups)},{cents}"
    return str(value)


def plain(value) -> str:
    """A figure for machines: amounts with a decimal point and two decimals, counts as digits, blanks empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def explain(table: Table, status: str) -> str:
    """What a curation status means and where to read more, as sentences."""
    what = table.statuses.get(status, "").rstrip(".")
    return f"{what}. {SEE_ALSO.get(status, 'See dwh.observation_status')}."


def counted_statuses(table: Table) -> list[tuple[str, int, int]]:
    """Each status other than printed that occurs in the table, with how many figures and how many
    blank cells have it."""
    found: dict[str, list[int]] = {}
    for cell in cells(table):
        if cell.status not in (None, "printed"):
            found.setdefault(cell.status, [0, 0])[cell.is_open_blank] += 1
    return [(s, *found[s]) for s in sorted(found)]


#: The words how_many counts in, singular and plural: figures, then blank cells (the terminal's English).
COUNT_WORDS = (("figure", "figures"), ("blank cell", "blank cells"))


def how_many(figures: int, blanks: int, words=COUNT_WORDS, *, both: bool = False, sep: str = ", ") -> str:
    """'35 figures, 38 blank cells': each kind that occurs (the figures also when nothing does; both kinds when ``both``)."""
    (figure, figures_word), (blank, blanks_word) = words
    parts = []
    if figures or not blanks or both:
        parts.append(f"{figures} {figure if figures == 1 else figures_word}")
    if blanks or both:
        parts.append(f"{blanks} {blank if blanks == 1 else blanks_word}")
    return sep.join(parts)


def legend(table: Table) -> list[str]:
    """One line per status that occurs in the table, with its mark and how many cells have it."""
    out = []
    for status, figures, blanks in counted_statuses(table):
        blank_note = f" A blank shown as [0-1]{mark(status)} is empty in our placement, but other placements put 0 to 1 there." if blanks else ""
        out.append(f"{mark(status)} {status} ({how_many(figures, blanks)}): {explain(table, status)}{blank_note}")
    return out


def _cells(table: Table, escape=lambda text: text) -> list[list[str]]:
    """Every cell as printed; a cell that is not fixed gets its mark (an open blank its range too) and,
    so digits stay aligned, the other figures of a column that holds a mark get a space in its place."""
    marked_columns = {c for _, c in table.status}
    out = [["" if v is None else str(v) for v in row[: table.label_columns]] for row in table.rows]
    for cell in cells(table):
        text = belgian(cell.value)
        if cell.column in marked_columns:
            m = mark(cell.status)
            if cell.is_open_blank:
                text = escape(span(cell) + m)
            elif m:
                text = text + escape(m)
            elif text:
                text = text + " "
        out[cell.row].append(text)
    return out


def as_text(table: Table, width: int | None = None) -> str:
    width = width or textlayout.terminal_width()
    out = textlayout.wrap(f"{table.table_id}: {table.caption}", width) + [""]
    out += textlayout.layout(table.columns, _cells(table), table.label_columns, width)
    notes = legend(table)
    if notes:
        out.append("")
        for note in notes:
            out += textlayout.wrap(note, width)
    return "\n".join(out) + "\n"


def as_markdown(table: Table, width: int | None = None) -> str:
    def esc(v: str) -> str:
        return v.replace("|", "\\|")

    def escape(text: str) -> str:
        # Marks and brackets are escaped so that two marks in a line never turn into emphasis, nor a
        # range into a link.
        return "".join("\\" + ch if ch in "*![]" else ch for ch in text)

    shown = _cells(table, escape=escape)
    align = [":--" if i < table.label_columns else "--:" for i in range(len(table.columns))]
    out = [f"**{table.table_id}**: {esc(table.caption)}", ""]
    out.append("| " + " | ".join(esc(c) for c in table.columns) + " |")
    out.append("| " + " | ".join(align) + " |")
    out += ["| " + " | ".join(esc(v.rstrip()) for v in r) + " |" for r in shown]
    notes = legend(table)
    if notes:
        out.append("")
        out += [escape(note) for note in notes]
    return "\n".join(out) + "\n"


def as_csv(table: Table, width: int | None = None) -> str:
    import csv  # here, not at the top: `dwh show` prints text unless asked, and answers at once
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([plain(v) for v in row])
    return buffer.getvalue()


def _json_value(v):
    # Amounts as decimal strings ("-7193.98"): exact, and no JSON reader turns them into floats.
    if isinstance(v, Decimal):
        return f"{v:.2f}"
    return v


def as_json(table: Table, width: int | None = None) -> str:
    status: list[dict] = [{} for _ in table.rows]
    ranges: list[dict] = [{} for _ in table.rows]
    for cell in cells(table):
        name = table.columns[cell.column]
        if cell.status is not None:
            status[cell.row][name] = cell.status
        if cell.status not in (None, "printed"):
            ranges[cell.row][name] = [_json_value(cell.minimum), _json_value(cell.maximum)]
    document = {
        "table_id": table.table_id,
        "caption": table.caption,
        "columns": table.columns,
        "column_kinds": {c: table.kind(i) for i, c in enumerate(table.columns)},
        "rows": [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows],
        # Per row: the status of every figure and of every open blank; a blank that every
        # placement leaves blank has none.
        "cell_status": status,
        # Per row: [minimum, maximum] of every cell that is not fixed (a blank counts as 0).
        "cell_range": ranges,
        "statuses": {s: table.statuses.get(s, "") for s in sorted(set(table.status.values()))},
        "status_counts": {s: {"figures": f, "blank_cells": b} for s, f, b in counted_statuses(table)},
    }
    import json

    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"text": as_text, "csv": as_csv, "json": as_json, "markdown": as_markdown}


def render(table: Table, fmt: str, width: int | None = None) -> str:
    return RENDERERS[fmt](table, width)
