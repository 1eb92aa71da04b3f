"""`dwh export`: every report table as a sheet of one workbook, or as a Frictionless data package.

The workbook is for reading: counts as #,##0 and euros as #,##0.00 (chosen from the view's column
types), columns as wide as their labels, caption above the table, header frozen, every figure that
is not placed without doubt shaded and carrying a cell note, and a legend under the table.

The CSV export is for tools: one CSV per table whose first line is the header and whose figures
are plain numbers (amounts with a decimal point), plus ``cellen.csv`` with the curation status of
every figure (the view report.cellen), and ``datapackage.json`` that describes them all, each
table titled with its caption.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from loader import render
from loader.errors import DwhError, InputError
from loader.render import AMOUNT, COUNT, LABEL, Table

WORKBOOK = "doorstroom-sv221-2024.xlsx"
CELLS_FILE = "cellen.csv"
CELLS_COLUMNS = ["tabel", "rij", "kolom", "waarde", "status", "bronregel"]
PACKAGE_FILE = "datapackage.json"

NUMBER_FORMATS = {COUNT: "#,##0", AMOUNT: "#,##0.00"}
_MAX_WIDTH = 80  # longer labels wrap in their cell rather than push the figures off screen
_NOTE_FILL = "FFF2CC"  # light yellow: the cell is not placed without doubt


class ExportFailed(DwhError):
    """The export folder cannot be written (exit 3: the environment, not the arguments)."""

    exit_code = 3


def check_target(directory: Path) -> None:
    """Refuse, before any work, a folder that is a file or lies under a file."""
    for path in (directory, *directory.parents):
        if path.exists():
            if not path.is_dir():
                raise InputError(f"{path} is a file, not a folder: give a folder to export into")
            if not os.access(path, os.W_OK | os.X_OK):
                raise ExportFailed(f"cannot write to {path}: permission denied")
            return


def cells(conn: sa.Connection) -> list[tuple]:
    """Every printed figure with its place and curation status (report.cellen), in document order."""
    columns = ", ".join(CELLS_COLUMNS)
    return [tuple(r) for r in conn.execute(sa.text(f"select {columns} from report.cellen"))]


def export(tables: list[Table], directory: Path, fmt: str, cell_rows: list[tuple] | None = None) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            _package(tables, directory, cell_rows or [])
            return directory
        path = directory / WORKBOOK
        _replace(path, lambda tmp: _workbook(tables).save(tmp))
        return path
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        raise InputError(f"cannot export into {directory}: {exc.strerror or exc}") from exc
    except OSError as exc:
        raise ExportFailed(f"cannot write the export into {directory}: {exc.strerror or exc}") from exc


def write_tables_csv(tables: list[Table], directory: Path) -> Path:
    """`dwh show --all --format csv --output DIR`: <table id>.csv per table, as `dwh show ID --format csv` prints it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for table in tables:
            _write_csv(directory / f"{table.table_id}.csv", table.columns, table.rows)
        return directory
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        raise InputError(f"cannot write into {directory}: {exc.strerror or exc}") from exc
    except OSError as exc:
        raise ExportFailed(f"cannot write into {directory}: {exc.strerror or exc}") from exc


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it; set back at once
    os.umask(mask)
    return mask


def _replace(path: Path, write: Callable[[str], None]) -> None:
    """Write to a temporary file next to path, then rename: a reader never sees half a file.

    mkstemp makes the file 0600 whatever the umask; the finished file gets the mode any new file
    would (0666 less the umask), like a file written by any other tool."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(path: Path, header: list[str], rows, value: Callable = render.plain) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([value(v) for v in row])

    _replace(path, write)


# ------------------------------------------------------------------ CSV and datapackage.json

_FIELD_TYPES = {LABEL: "string", COUNT: "integer", AMOUNT: "number"}


def _status_note(table: Table) -> str:
    flagged = " ".join(f"{n} figures are {s}: {render.explain(table, s)}" for s, n in render.counted_statuses(table))
    return (
        f" The curation status of every figure is in resource cellen (tabel = '{table.table_id}', rij = the row "
        "labels joined with ' / ', kolom = the column name)." + (f" {flagged}" if flagged else " Every figure is placed without doubt.")
    )


def _resource(table: Table) -> dict:
    fields = []
    for i, name in enumerate(table.columns):
        field = {"name": name, "type": _FIELD_TYPES[table.kind(i)]}
        if table.column_comments.get(name):
            field["description"] = table.column_comments[name]
        fields.append(field)
    return {
        "name": table.table_id.lower(),
        "path": f"{table.table_id}.csv",
        "title": table.caption,
        "description": (table.description or table.table_id) + _status_note(table),
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields, "missingValues": [""]},
    }


_CELLS_RESOURCE = {
    "name": "cellen",
    "path": CELLS_FILE,
    "title": "Curation status of every printed figure",
    "description": "One row per figure the document prints (the view report.cellen): where it stands in its table's CSV "
    "(tabel, rij = the row labels joined with ' / ', empty labels skipped, kolom = the column name), its value and "
    "its curation status. printed: placed without doubt; ambiguous: printed, but the printed totals allow other cells "
    "(see data/CURATION.md and the view report.onzekere_cellen); inconsistent: a total that disagrees with its cells.",
    "profile": "tabular-data-resource",
    "format": "csv",
    "mediatype": "text/csv",
    "encoding": "utf-8",
    "schema": {
        "fields": [
            {"name": "tabel", "type": "string", "description": "Table id; the table's file is <tabel>.csv"},
            {"name": "rij", "type": "string", "description": "The row labels of the figure, empty ones skipped, joined with ' / '"},
            {"name": "kolom", "type": "string", "description": "The column of the figure"},
            {"name": "waarde", "type": "number", "description": "The figure: a count, or euro for T2e_betalingen"},
            {"name": "status", "type": "string", "description": "printed, ambiguous or inconsistent", "constraints": {"enum": ["printed", "ambiguous", "inconsistent"]}},
            {"name": "bronregel", "type": "integer", "description": "Line of the text extraction of the PDF where the figure is printed"},
        ],
        "primaryKey": ["tabel", "rij", "kolom"],
        "missingValues": [],
    },
}


def descriptor(tables: list[Table]) -> dict:
    return {
        "profile": "tabular-data-package",
        "name": "doorstroom-sv221-2024-tables",
        "title": "Doorstroom naar het normaal economisch circuit: the tables of schriftelijke vraag nr. 221 (2 februari 2024)",
        "description": "The 18 tables of the answer as the document prints them, one CSV each (header on the first line; "
        "counts as integers, euro amounts with a decimal point and two decimals, an empty field where the document "
        "prints no figure), and cellen.csv with the curation status of every figure. Written by `dwh export --format csv`.",
        "sources": [{"title": "Vlaams Parlement, schriftelijke vraag nr. 221 van 2 februari 2024", "path": "https://docs.vlaamsparlement.be/pfile?id=2042937"}],
        "resources": [_resource(t) for t in tables] + [_CELLS_RESOURCE],
    }


def _package(tables: list[Table], directory: Path, cell_rows: list[tuple]) -> None:
    for table in tables:
        _write_csv(directory / f"{table.table_id}.csv", table.columns, table.rows)
    # waarde holds counts and amounts: each keeps its own scale (1010, 27313.55).
    _write_csv(directory / CELLS_FILE, CELLS_COLUMNS, cell_rows, value=lambda v: "" if v is None else str(v))
    text = json.dumps(descriptor(tables), ensure_ascii=False, indent=2) + "\n"
    _replace(directory / PACKAGE_FILE, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# ------------------------------------------------------------------ workbook


def _display(value, kind: str) -> str:
    """The figure as the spreadsheet shows it with its number format, to size the column."""
    if value is None:
        return ""
    if kind == AMOUNT:
        return f"{value:,.2f}"
    if kind == COUNT:
        return f"{value:,}"
    return str(value)


def _workbook(tables: list[Table]):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        _sheet(workbook.create_sheet(table.table_id), table)
    return workbook


def _sheet(sheet, table: Table) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_row, first_row = 3, 4
    ncols = len(table.columns)
    kinds = [table.kind(i) for i in range(ncols)]

    for c, name in enumerate(table.columns, start=1):
        cell = sheet.cell(row=header_row, column=c, value=name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="left" if kinds[c - 1] == LABEL else "right", wrap_text=True, vertical="bottom")
    fill = PatternFill(start_color=_NOTE_FILL, end_color=_NOTE_FILL, fill_type="solid")
    for r, row in enumerate(table.rows):
        for c, value in enumerate(row):
            cell = sheet.cell(row=first_row + r, column=c + 1, value=value)
            if kinds[c] != LABEL:
                cell.number_format = NUMBER_FORMATS[kinds[c]]
            status = table.status.get((r, c))
            if status:
                cell.comment = Comment(f"{status}: {render.explain(table, status)}", "dwh", width=320, height=140)
                cell.fill = fill

    widths = []
    for c in range(ncols):
        texts = [table.columns[c]] + [_display(row[c], kinds[c]) for row in table.rows]
        widths.append(min(max(len(t) for t in texts) + 2, _MAX_WIDTH))
        sheet.column_dimensions[get_column_letter(c + 1)].width = widths[-1]
        if kinds[c] == LABEL and widths[-1] == _MAX_WIDTH:
            for r in range(len(table.rows)):
                sheet.cell(row=first_row + r, column=c + 1).alignment = Alignment(wrap_text=True, vertical="top")

    caption = _spanning_text(sheet, 1, f"{table.table_id}: {table.caption}", widths)
    caption.font = Font(bold=True)

    sheet.freeze_panes = sheet.cell(row=first_row, column=table.label_columns + 1)

    legend_row = first_row + len(table.rows) + 1
    for n, (status, count) in enumerate(render.counted_statuses(table)):
        text = f"Shaded cells with a note ({count}) are {status}: {render.explain(table, status)}"
        _spanning_text(sheet, legend_row + n, text, widths).font = Font(italic=True)


_MIN_SPAN = 60  # over a narrower table a caption would wrap into a tall column of short lines


def _spanning_text(sheet, row: int, text: str, widths: list[float]):
    """A line of text over the width of the table, wrapped; over a narrow table it stays one line
    that runs on into the empty cells to its right (merging beyond the table would widen the
    sheet's range for the tools that read it).

    Excel does not size the height of merged cells, so the row height is set from the length."""
    from openpyxl.styles import Alignment

    cell = sheet.cell(row=row, column=1, value=text)
    span = sum(widths)
    if span < _MIN_SPAN or len(widths) < 2:
        return cell
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(widths))
    sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(text) * 1.1 / span))
    return cell
