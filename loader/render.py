"""Printing a report view the way the document prints it (text, markdown) or for scripts (csv, json).

Every output shows how sure each figure is: a figure whose curation status is not ``printed``
carries a mark (text, markdown) and a legend under the table says what the mark means; JSON gives
every figure its status. CSV stays clean numbers (``dwh export --format csv`` carries the status in
a companion file).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

from loader import textlayout

FORMATS = ("text", "csv", "json", "markdown")

LABEL, COUNT, AMOUNT = "label", "count", "amount"

#: The mark after a figure, per curation status; a status added later without a mark here gets "?".
MARKS = {"ambiguous": "*", "inconsistent": "!"}
#: Where a reader finds more about the figures of a status.
SEE_ALSO = {
    "ambiguous": "The possible placements are listed in data/CURATION.md and the view report.onzekere_cellen",
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
    #: (row index, column index) -> curation status, for every figure whose status is not "printed"
    status: dict[tuple[int, int], str] = field(default_factory=dict)
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


def counted_statuses(table: Table) -> list[tuple[str, int]]:
    """Each curation status other than printed that occurs in the table, with how many figures have it."""
    found = sorted(set(table.status.values()))
    return [(s, sum(1 for v in table.status.values() if v == s)) for s in found]


def legend(table: Table) -> list[str]:
    """One line per curation status that occurs in the table, with its mark."""
    return [
        f"{mark(status)} {status} ({count} {'figure' if count == 1 else 'figures'}): {explain(table, status)}"
        for status, count in counted_statuses(table)
    ]


def _cells(table: Table, escape_mark=lambda m: m) -> list[list[str]]:
    """Every cell as printed; marked figures get their mark and, so digits stay aligned, the other
    figures of a column that holds a mark get a space in its place."""
    marked_columns = {c for _, c in table.status}
    out = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, v in enumerate(row):
            if c < table.label_columns:
                cells.append("" if v is None else str(v))
                continue
            text = belgian(v)
            if c in marked_columns:
                m = mark(table.status.get((r, c)))
                text = text + escape_mark(m) if m else (text + " " if text else text)
            cells.append(text)
        out.append(cells)
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

    # The mark is escaped so that two marks in a line never turn into emphasis.
    cells = _cells(table, escape_mark=lambda m: "\\" + m)
    align = [":--" if i < table.label_columns else "--:" for i in range(len(table.columns))]
    out = [f"**{table.table_id}**: {esc(table.caption)}", ""]
    out.append("| " + " | ".join(esc(c) for c in table.columns) + " |")
    out.append("| " + " | ".join(align) + " |")
    out += ["| " + " | ".join(esc(v.rstrip()) for v in r) + " |" for r in cells]
    notes = legend(table)
    if notes:
        out.append("")
        out += ["\\" + note for note in notes]
    return "\n".join(out) + "\n"


def as_csv(table: Table, width: int | None = None) -> str:
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
    figures = range(table.label_columns, len(table.columns))
    document = {
        "table_id": table.table_id,
        "caption": table.caption,
        "columns": table.columns,
        "column_kinds": {c: table.kind(i) for i, c in enumerate(table.columns)},
        "rows": [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows],
        "cell_status": [
            {table.columns[c]: table.status.get((r, c), "printed") for c in figures if row[c] is not None}
            for r, row in enumerate(table.rows)
        ],
        "statuses": {s: table.statuses.get(s, "") for s in sorted(set(table.status.values()))},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"text": as_text, "csv": as_csv, "json": as_json, "markdown": as_markdown}


def render(table: Table, fmt: str, width: int | None = None) -> str:
    return RENDERERS[fmt](table, width)
