"""Printing a report view the way the document prints it (text, markdown) or for scripts (csv, json)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal

FORMATS = ("text", "csv", "json", "markdown")


@dataclass
class Table:
    table_id: str
    caption: str
    columns: list[str]
    rows: list[tuple]
    label_columns: int  # how many leading columns are row labels


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


def _cells(table: Table) -> list[list[str]]:
    return [[belgian(v) if i >= table.label_columns else ("" if v is None else str(v)) for i, v in enumerate(row)] for row in table.rows]


def as_text(table: Table) -> str:
    cells = _cells(table)
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(table.columns)]

    def line(values: list[str]) -> str:
        parts = [v.ljust(w) if i < table.label_columns else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [f"{table.table_id}: {table.caption}", "", line(table.columns), rule]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


def as_markdown(table: Table) -> str:
    def esc(v: str) -> str:
        return v.replace("|", "\\|")

    cells = _cells(table)
    align = [":--" if i < table.label_columns else "--:" for i in range(len(table.columns))]
    out = [f"**{table.table_id}**: {esc(table.caption)}", ""]
    out.append("| " + " | ".join(esc(c) for c in table.columns) + " |")
    out.append("| " + " | ".join(align) + " |")
    out += ["| " + " | ".join(esc(v) for v in r) + " |" for r in cells]
    return "\n".join(out) + "\n"


def as_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else (f"{v:.2f}" if isinstance(v, Decimal) else v) for v in row])
    return buffer.getvalue()


def _json_value(v):
    if isinstance(v, Decimal):
        return float(v)  # two decimals survive: repr of a float is the shortest round-tripping form
    return v


def as_json(table: Table) -> str:
    document = {
        "table_id": table.table_id,
        "caption": table.caption,
        "columns": table.columns,
        "rows": [{c: _json_value(v) for c, v in zip(table.columns, row)} for row in table.rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"text": as_text, "csv": as_csv, "json": as_json, "markdown": as_markdown}


def render(table: Table, fmt: str) -> str:
    return RENDERERS[fmt](table)
