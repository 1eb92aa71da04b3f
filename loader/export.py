"""`dwh export`: every report table as a sheet of one workbook, or as a Frictionless data package.

The workbook is for reading: counts as #,##0 and euros as #,##0.00 (chosen from the view's column
types), columns as wide as their labels, caption above the table, header frozen, every cell the
printed numbers leave open (a figure, or a blank with the range it may hold) or show inconsistent
shaded and carrying a cell note, and a legend under the table that counts them. It is also for
printing (_for_print): landscape, one page wide, titles repeated, the caption in the page header;
and it says where it comes from: a first sheet about the source, document properties.

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
CELLS_COLUMNS = ["tabel", "rij", "kolom", "waarde", "status", "minimum", "maximum", "bronregel"]
PACKAGE_FILE = "datapackage.json"

NUMBER_FORMATS = {COUNT: "#,##0", AMOUNT: "#,##0.00"}
_MAX_WIDTH = 80  # longer labels wrap in their cell rather than push the figures off screen
_NOTE_FILL = "FFF2CC"  # light yellow: the printed numbers do not fix the cell


class ExportFailed(DwhError):
    """The export folder cannot be written (exit 3: the environment, not the arguments)."""

    exit_code = 3


def check_target(directory: Path, fmt: str = "csv") -> None:
    """Refuse, before any work, a folder that is a file or lies under a file (a workbook's name
    may be an existing file: it is replaced)."""
    workbook = workbook_path(directory, fmt)
    if workbook is not None and workbook == directory:
        directory = directory.parent
    for path in (directory, *directory.parents):
        if path.exists():
            if not path.is_dir():
                raise InputError(f"{path} is a file, not a folder: give a folder to export into")
            if not os.access(path, os.W_OK | os.X_OK):
                raise ExportFailed(f"cannot write to {path}: permission denied")
            return


def cells(conn: sa.Connection) -> list[tuple]:
    """Every printed figure of the published tables with its place and curation status
    (report.cellen), in document order."""
    from loader.report import PUBLISHED_TABLES

    columns = ", ".join(CELLS_COLUMNS)
    return [tuple(r) for r in conn.execute(sa.text(f"select {columns} from report.cellen where tabel in {PUBLISHED_TABLES}"))]


def workbook_path(target: Path, fmt: str) -> Path | None:
    """The workbook `dwh export TARGET` writes: TARGET itself when it names an .xlsx file (and is no
    folder already), else the default name inside the folder TARGET; None for the data package."""
    if fmt != "xlsx":
        if target.suffix.lower() == ".xlsx" and not target.is_dir():
            raise InputError(f"{target} names a workbook, but --format {fmt} writes a folder: give a folder")
        return None
    if target.suffix.lower() == ".xlsx" and not target.is_dir():
        return target
    return target / WORKBOOK


def export(
    tables: list[Table], directory: Path, fmt: str, cell_rows: list[tuple] | None = None, about: dict | None = None,
    say: Callable[[str], None] = lambda line: None, published=None,
) -> Path:
    """Write the export; ``directory`` may also name the workbook itself (see workbook_path).
    ``say`` hears, before the write, that an existing workbook is replaced; ``published`` is what
    loader.site.collect read, for html."""
    path = workbook_path(directory, fmt)
    folder = directory if path is None else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "html":
            # The site links the workbook and the data package, so both are written beside it.
            from loader import site

            export(tables, directory, "xlsx", about=about)
            export(tables, directory / site.PACKAGE_DIR, "csv", cell_rows)
            return site.write(published, directory)
        if path is None:
            _package(tables, directory, cell_rows or [])
            return directory
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        if path.exists():
            say(f"replacing {path}")
        _replace(path, lambda tmp: _workbook(tables, about or {}).save(tmp))
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
    flagged = " ".join(
        f"{render.how_many(figures, blanks)} are {s}: {render.explain(table, s)}" for s, figures, blanks in render.counted_statuses(table)
    )
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
    "its status and range. printed: fixed by the printed numbers; open: the printed numbers leave the cell open, a figure "
    "placed by a documented choice or a blank (waarde empty) other placements fill, holding minimum to maximum (see "
    "data/CURATION.md and the view report.open_cellen); inconsistent: a total that disagrees with its cells.",
    "profile": "tabular-data-resource",
    "format": "csv",
    "mediatype": "text/csv",
    "encoding": "utf-8",
    "schema": {
        "fields": [
            {"name": "tabel", "type": "string", "description": "Table id; the table's file is <tabel>.csv"},
            {"name": "rij", "type": "string", "description": "The row labels of the figure, empty ones skipped, joined with ' / '"},
            {"name": "kolom", "type": "string", "description": "The column of the figure"},
            # Only waarde is ever empty (an open blank cell); an empty rij is a table without row labels.
            {"name": "waarde", "type": "number", "description": "The figure: a count, or euro for T2e_betalingen; empty on an open blank cell", "missingValues": [""]},
            {"name": "status", "type": "string", "description": "printed, open or inconsistent", "constraints": {"enum": ["printed", "open", "inconsistent"]}},
            {"name": "minimum", "type": "number", "description": "Smallest value the placements that fit the document put in the cell (a blank counts as 0)"},
            {"name": "maximum", "type": "number", "description": "Largest value the placements that fit the document put in the cell"},
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


def published_document(conn: sa.Connection) -> dict:
    """The row of dwh.source_document that the report views' tables come from ({} when none has a view)."""
    from loader import schema
    from loader.report import PUBLISHED_DOCUMENT

    sd = schema.source_document
    row = conn.execute(sa.select(sd).where(sd.c.document_id == sa.literal_column(PUBLISHED_DOCUMENT))).mappings().first()
    return dict(row) if row else {}


def about(conn: sa.Connection) -> dict:
    """What the workbook's first sheet says about the source: the document (dwh.source_document),
    when the data was loaded, and the version of dwh that wrote it. Readable by a reader login."""
    from loader import __version__, schema

    doc = published_document(conn)
    lh = schema.load_history
    loaded = conn.execute(
        sa.select(lh.c.finished_at, lh.c.data_hash).where(lh.c.outcome == "loaded").order_by(lh.c.load_id.desc()).limit(1)
    ).first()
    return {
        **dict(doc),
        "loaded_at": loaded.finished_at if loaded else None,
        "data_hash": loaded.data_hash if loaded else None,
        "version": __version__,
    }


#: One named font for every cell: unnamed fonts print in LibreOffice's default serif beside the
#: body's sans. Arial is on every Excel; LibreOffice prints it as the metric-compatible Liberation Sans.
FONT = "Arial"
SOURCE_SHEET = "Bron"
_DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def _dutch_date(day) -> str:
    return f"{day.day} {_DUTCH_MONTHS[day.month - 1]} {day.year}"


def _workbook(tables: list[Table], about: dict):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    _source_sheet(workbook.create_sheet(SOURCE_SHEET), tables, about)
    for table in tables:
        sheet = workbook.create_sheet(table.table_id)
        _sheet(sheet, table)
        _for_print(sheet, table, about)
    _properties(workbook, about)
    return workbook


def _title(about: dict) -> str:
    number = about.get("question_number", 221)
    asked = _dutch_date(about["asked_on"]) if about.get("asked_on") else "2 februari 2024"
    return f"Schriftelijke vraag nr. {number} van {asked}: {about.get('title', 'Doorstroom naar normaal economisch circuit (NEC)')}"


def _properties(workbook, about: dict) -> None:
    """File > Properties: what the workbook is, whose figures, written by which dwh."""
    import datetime

    props = workbook.properties
    props.title = _title(about)
    props.subject = "De tabellen van het antwoord, zoals gedrukt, met de status van elk cijfer"
    props.creator = f"dwh {about.get('version', '')}".strip()
    props.lastModifiedBy = props.creator
    props.description = (
        f"Vraag van {about.get('author', 'Allessia Claes')} aan minister {about.get('minister', 'Jo Brouns')}; bron: "
        f"{about.get('page_url', '')}. Zie het blad {SOURCE_SHEET}."
    )
    props.keywords = "doorstroom; sociale economie; collectief maatwerk; lokale diensteneconomie; Vlaams Parlement"
    props.category = "Vlaams Parlement, schriftelijke vraag"
    props.created = props.modified = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _source_sheet(sheet, tables: list[Table], about: dict) -> None:
    """The first sheet: where the figures come from, how they were curated, what "open" means."""
    from openpyxl.styles import Alignment, Font

    loaded = about.get("loaded_at")
    loaded_text = f"{loaded:%Y-%m-%d %H:%M:%S %Z}".strip() if loaded else "(geen lading geregistreerd)"
    marked = [cell for t in tables for cell in render.cells(t) if cell.status not in (None, "printed")]
    figures = sum(1 for cell in marked if cell.value is not None)
    flagged = render.how_many(figures, len(marked) - figures, _TELWOORDEN, both=True, sep=" en ")
    rows = [
        ("Vraag", _title(about)),
        ("Gesteld door", f"{about.get('author', 'Allessia Claes')}, aan {about.get('minister', 'Jo Brouns')}, {about.get('minister_title', '')}".rstrip(", ")),
        ("Datum", _dutch_date(about["asked_on"]) if about.get("asked_on") else "2 februari 2024"),
        ("Pagina van de vraag", about.get("page_url", "")),
        ("Vraag en antwoord (PDF)", about.get("pdf_url", "")),
        ("Tabellen", f"{len(tables)}, elk op een eigen blad in de volgorde van het document; het bijschrift staat boven de tabel en in de koptekst van elke afgedrukte pagina."),
        (
            "Hoe de cijfers zijn verzameld",
            "De PDF heeft geen bruikbare tabellen: de tekst ervan is twee keer onafhankelijk met de hand overgetypt en de "
            "twee versies zijn vergeleken. Elk cijfer is getoetst aan de totalen die het document zelf drukt (rij-, kolom- "
            "en eindtotalen, en dezelfde trajecten geteld per provincie, per leeftijd en per project). De redenering achter "
            "elk cijfer staat in data/CURATION.md van het project.",
        ),
        (
            "Wat \"open\" betekent",
            "De tekstversie van de PDF verloor de lege cellen. Waar de gedrukte totalen meer dan één plaats voor een cijfer "
            "toelaten, is die cel open: het cijfer is gedrukt, maar de kolom (eindjaar en maatregel) ligt niet vast, of een cel "
            "die hier leeg is kan in een andere plaatsing enkele trajecten bevatten. "
            f"Zulke cellen zijn geel gearceerd en hebben een notitie met hun bereik ({flagged} in dit bestand); een legende "
            "staat onder de tabel. De totalen die het document drukt, liggen wel vast. De grenzen van elke open cel staan in "
            "de view report.open_cellen.",
        ),
        ("Geladen", loaded_text + (f"; gegevens {about['data_hash'][:12]} (SHA-256 van de CSV-bestanden)" if about.get("data_hash") else "")),
        ("Geschreven door", f"dwh {about.get('version', '')} (doorstroom-dwh), `dwh export`"),
    ]
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 100
    title = sheet.cell(row=1, column=1, value="Doorstroom naar het normaal economisch circuit: de tabellen van schriftelijke vraag nr. 221")
    title.font = Font(name=FONT, bold=True, size=13)
    for n, (label, text) in enumerate(rows, start=3):
        key = sheet.cell(row=n, column=1, value=label)
        key.font = Font(name=FONT, bold=True)
        key.alignment = Alignment(vertical="top")
        cell = sheet.cell(row=n, column=2, value=text)
        cell.font = Font(name=FONT)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if text.startswith("https://"):
            cell.hyperlink = text
            cell.font = Font(name=FONT, color="0563C1", underline="single")
        sheet.row_dimensions[n].height = 15 * max(1, math.ceil(len(text) / 95))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.oddFooter.center.text = "&P / &N"
    sheet.oddFooter.center.font = FONT


#: First words of a row label that make the row a total (set apart in print and on screen).
_TOTAL_WORDS = ("totaal", "eindtotaal")


def _is_total(table: Table, row: tuple) -> bool:
    return any(isinstance(v, str) and v.split()[:1] and v.split()[0].lower().rstrip(":") in _TOTAL_WORDS for v in row[: table.label_columns])


def _for_print(sheet, table: Table, about: dict) -> None:
    """How the sheet prints, and the looks that are not the cell marks: landscape A4 fitted to
    the page width, the header row and the label columns on every page, the caption in the page
    header, one named font, total rows bold over a rule. Done after _sheet, over the cells it
    wrote, so that the marking of open cells there stays as it is."""
    from copy import copy

    from openpyxl.styles import Border, Side
    from openpyxl.utils import get_column_letter

    header_row, first_row = 3, 4
    ncols = len(table.columns)
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None or cell.has_style:
                font = copy(cell.font)
                font.name = FONT
                cell.font = font
    for c in range(1, ncols + 1):  # as wide as its header, which does not wrap (was "CM/W")
        letter = get_column_letter(c)
        header = str(table.columns[c - 1])
        wanted = len(header) * 1.2 + 3  # bold Arial is wider than the width unit (a body digit)
        if (sheet.column_dimensions[letter].width or 0) < wanted:
            sheet.column_dimensions[letter].width = wanted
        if table.kind(c - 1) != LABEL:
            cell = sheet.cell(row=header_row, column=c)
            alignment = copy(cell.alignment)
            alignment.wrap_text = False
            cell.alignment = alignment
    rule = Side(style="thin")
    for r, values in enumerate(table.rows):
        if _is_total(table, values):
            for c in range(1, ncols + 1):
                cell = sheet.cell(row=first_row + r, column=c)
                font = copy(cell.font)
                font.bold = True
                cell.font = font
                cell.border = Border(top=rule)
    for c in range(1, ncols + 1):
        sheet.cell(row=header_row, column=c).border = Border(bottom=rule)

    last_row = max(sheet.max_row, first_row + len(table.rows) - 1)
    # Row 1's caption is printed in the page header of every page instead: over a narrow table it
    # runs on to the right of the table, where a page ends.
    sheet.print_area = f"A{header_row}:{get_column_letter(ncols)}{last_row}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    if table.label_columns:
        sheet.print_title_cols = f"A:{get_column_letter(table.label_columns)}"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    setup.fitToWidth, setup.fitToHeight = 1, 0  # one page wide, as many pages long as it takes
    sheet.page_margins.top, sheet.page_margins.header = 1.1, 0.3
    caption = f"{table.table_id}: {table.caption}".replace("&", "&&")
    sheet.oddHeader.left.text = f"&B{caption}"  # &B: bold
    sheet.oddHeader.left.size = 9
    source = f"Vlaams Parlement, schriftelijke vraag nr. {about.get('question_number', 221)}"
    sheet.oddFooter.left.text = source
    for part in (sheet.oddHeader.left, sheet.oddFooter.left, sheet.oddFooter.right):
        part.font = FONT  # a part without a font prints in the program's default, not the sheet's
    sheet.oddFooter.left.size = sheet.oddFooter.right.size = 8
    sheet.oddFooter.right.text = "&P / &N"


_OPEN_RANGES = "Het bereik van elke open cel staat in de view report.open_cellen, de mogelijke plaatsingen in data/CURATION.md"

#: What a status means, in the workbook's language (Dutch, as the Bron sheet and the site); the
#: status words themselves are the same in every output. dwh.observation_status says it in English.
_STATUS_UITLEG = {
    render.OPEN: "de gedrukte totalen leggen de cel niet vast: andere plaatsingen die bij het document passen, zetten het "
    "gedrukte cijfer elders of enkele trajecten in een cel die hier leeg is, dus de cel kan alles van haar minimum tot "
    "haar maximum bevatten. " + _OPEN_RANGES,
    "inconsistent": "een gedrukt totaal dat verschilt van de som van zijn gedrukte cellen; bewaard zoals gedrukt. Beide "
    "cijfers staan in dwh.source_inconsistency en in `dwh reconcile`",
}


#: render.how_many's words in the workbook's language.
_TELWOORDEN = (("cijfer", "cijfers"), ("lege cel", "lege cellen"))


def _explain(status: str) -> str:
    return _STATUS_UITLEG.get(status, f"zie dwh.observation_status ({status})") + "."


def _sheet(sheet, table: Table) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_row, first_row = 3, 4
    ncols = len(table.columns)
    kinds = [table.kind(i) for i in range(ncols)]

    for c, name in enumerate(table.columns, start=1):
        cell = sheet.cell(row=header_row, column=c, value=name)
        cell.font = Font(name=FONT, bold=True)
        cell.alignment = Alignment(horizontal="left" if kinds[c - 1] == LABEL else "right", wrap_text=True, vertical="bottom")
    fill = PatternFill(start_color=_NOTE_FILL, end_color=_NOTE_FILL, fill_type="solid")
    for r, row in enumerate(table.rows):
        for c, value in enumerate(row):
            cell = sheet.cell(row=first_row + r, column=c + 1, value=value)
            if kinds[c] != LABEL:
                cell.number_format = NUMBER_FORMATS[kinds[c]]
    for shown in render.cells(table):
        if shown.status in (None, "printed"):
            continue
        cell = sheet.cell(row=first_row + shown.row, column=shown.column + 1)
        if shown.is_open_blank:
            note = (
                f"leeg in onze plaatsing, maar andere plaatsingen die bij het document passen, zetten hier "
                f"{shown.minimum} tot {shown.maximum}. {_OPEN_RANGES}."
            )
        elif shown.status == render.OPEN:
            note = f"andere plaatsingen zetten hier {shown.minimum} tot {shown.maximum}. {_explain(shown.status)}"
        else:
            note = _explain(shown.status)
        cell.comment = Comment(f"{shown.status}: {note}", "dwh", width=320, height=160)
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
    caption.font = Font(name=FONT, bold=True)

    sheet.freeze_panes = sheet.cell(row=first_row, column=table.label_columns + 1)

    legend_row = first_row + len(table.rows) + 1
    for n, (status, figures, blanks) in enumerate(render.counted_statuses(table)):
        text = f"Gearceerde cellen met een notitie ({render.how_many(figures, blanks, _TELWOORDEN)}) zijn {status}: {_explain(status)}"
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
