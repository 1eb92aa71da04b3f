"""`dwh export DIR --format html`: a static publication site of the warehouse, in Dutch.

Three pages and one style sheet, all local, so the folder opens from ``file://`` and from any
static host with no network: ``index.html`` (the 18 tables as the document prints them, each in an
element whose id is the table id, and the charts), ``woordenboek.html`` (every report view and dwh
table with its comment, its columns and where its figures come from) and ``bron.html`` (the
question, how the figures were curated, what an open cell is, when they were loaded). The workbook
and the CSV data package are written beside them (loader.export) and linked.

Everything is read in the caller's transaction (``collect``) and written afterwards (``write``),
so the pages show one consistent state of the database. Jinja2 escapes every label and caption.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from loader import charts, opencells, schema
from loader.render import LABEL, MARKS, OPEN, Table, belgian
from loader.report import PUBLISHED_TABLES, CatalogEntry

INDEX = "index.html"
DICTIONARY = "woordenboek.html"
SOURCE = "bron.html"
STYLESHEET = "assets/site.css"
PACKAGE_DIR = "csv"  # the CSV data package, beside the pages
PACKAGE_ZIP = "doorstroom-sv221-2024-csv.zip"
MAX_BYTES = 5 * 1024 * 1024  # what the issue allows the whole folder to weigh

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_TOTAL = re.compile(r"^(eind)?totaal\b", re.IGNORECASE)
#: The mark of an open cell (the one `dwh show` prints after an open figure).
OPEN_MARK = MARKS[OPEN]
_MONTHS = "januari februari maart april mei juni juli augustus september oktober november december".split()


def dutch_date(day) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def dutch_time(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    return f"{dutch_date(utc)}, {utc:%H:%M} UTC"


def _range(cell: opencells.Cell) -> str:
    return f"{cell.minimum}–{cell.maximum}"


@dataclass
class CellView:
    """One cell of a table as the page shows it."""

    text: str
    classes: list[str] = field(default_factory=list)
    header: bool = False  # a row label: <th scope="row">
    title: str = ""  # shown on hover
    label: str = ""  # aria-label: what a screen reader says for an open cell
    bereik: str = ""  # the range of an open cell, shown on focus
    mark: str = ""
    source_line: int | None = None
    focusable: bool = False


@dataclass
class SiteTable:
    entry: CatalogEntry
    table: Table
    columns: list[tuple[str, list[str]]]  # name, classes
    rows: list[tuple[list[str], list[CellView]]]  # row classes, cells
    open_cells: int
    open_blanks: int
    marked: dict[str, int]  # curation status other than printed -> how many figures have it

    @property
    def table_id(self) -> str:
        return self.entry.table_id


def _cell_view(table: Table, r: int, c: int, cell: opencells.Cell | None, total: bool) -> CellView:
    kind = table.kind(c)
    value = table.rows[r][c]
    if kind == LABEL:
        return CellView("" if value is None else str(value), header=True)
    view = CellView(belgian(value), ["getal"] + (["totaal"] if total else []))
    if cell is None:  # a table without cell information would be a defect of opencells
        raise opencells.CellsOutOfStep(f"{table.table_id} row {r + 1}: no cell information for column {table.columns[c]!r}")
    view.source_line = cell.source_line
    line = f"bronregel {cell.source_line}" if cell.source_line is not None else ""
    if cell.is_open:
        view.classes.append("open")
        view.mark = OPEN_MARK
        view.bereik = _range(cell)
        view.focusable = True
        if value is None:
            what = f"Open cel, leeg gedrukt: kan {_range(cell)} bevatten volgens de plaatsingen die het document toelaat."
        else:
            what = f"Open cel: {belgian(value)} gekozen; de plaatsingen die het document toelaat geven {_range(cell)}."
        view.title = " ".join(p for p in (what, line.capitalize() + "." if line else "") if p)
        view.label = view.title
    elif cell.status not in (None, "printed"):
        view.classes.append(cell.status)
        view.mark = MARKS.get(cell.status, "?")
        view.title = f"{cell.status}; {line}."
    elif line:
        view.title = line.capitalize()
    return view


def site_table(entry: CatalogEntry, table: Table, cells: dict[tuple[int, int], opencells.Cell]) -> SiteTable:
    total_columns = {c for c, name in enumerate(table.columns) if c >= table.label_columns and _TOTAL.match(name)}
    columns = [
        (name, (["label"] if c < table.label_columns else ["getal"]) + (["totaal"] if c in total_columns else []))
        for c, name in enumerate(table.columns)
    ]
    rows = []
    for r, row in enumerate(table.rows):
        total_row = any(isinstance(v, str) and _TOTAL.match(v) for v in row[: table.label_columns])
        views = [_cell_view(table, r, c, cells.get((r, c)), total_row or c in total_columns) for c in range(len(row))]
        rows.append((["totaal"] if total_row else [], views))
    open_cells = [cell for cell in cells.values() if cell.is_open]
    marked: dict[str, int] = {}
    for cell in cells.values():
        if not cell.is_open and cell.status not in (None, "printed"):
            marked[cell.status] = marked.get(cell.status, 0) + 1
    return SiteTable(entry, table, columns, rows, len(open_cells), sum(1 for c in open_cells if c.value is None), marked)


# ------------------------------------------------------------------ the data dictionary


@dataclass
class Column:
    name: str
    type: str
    comment: str


@dataclass
class Relation:
    schema: str
    name: str
    kind: str  # "view" or "table"
    comment: str
    columns: list[Column]
    reads: list[str] = field(default_factory=list)  # relations this view selects from
    read_by: list[str] = field(default_factory=list)  # views that select from this relation
    sources: list[str] = field(default_factory=list)  # the dwh tables a view's figures come from, through any view
    csv_file: str | None = None  # the curated file a dwh table is loaded from
    table_id: str | None = None  # the document table a report view reproduces

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def anchor(self) -> str:
        return f"{self.schema}-{self.name}"


def anchor(qualified: str) -> str:
    return qualified.replace(".", "-", 1)


def dictionary(conn: sa.Connection, entries: list[CatalogEntry]) -> list[Relation]:
    """Every view of report and table of dwh with its comment, columns and lineage, from the catalog."""
    schemas = (schema.REPORT_SCHEMA, schema.SCHEMA)
    relations = {
        (s, n): Relation(s, n, "view" if k == "v" else "table", comment or "", [])
        for s, n, k, comment in conn.execute(
            sa.text(
                "select n.nspname, c.relname, c.relkind, obj_description(c.oid, 'pg_class') "
                "from pg_class as c inner join pg_namespace as n on n.oid = c.relnamespace "
                "where n.nspname in (:r, :d) and c.relkind in ('r', 'v', 'p')"
            ),
            {"r": schemas[0], "d": schemas[1]},
        )
    }
    for s, n, column, kind, comment in conn.execute(
        sa.text(
            "select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum) "
            "from pg_attribute as a inner join pg_class as c on c.oid = a.attrelid "
            "inner join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname in (:r, :d) and c.relkind in ('r', 'v', 'p') and a.attnum > 0 and not a.attisdropped "
            "order by n.nspname, c.relname, a.attnum"
        ),
        {"r": schemas[0], "d": schemas[1]},
    ):
        if (s, n) in relations:
            relations[(s, n)].columns.append(Column(column, kind, comment or ""))
    # A view's rewrite rule depends on every relation its query reads.
    for vs, vn, ts, tn in conn.execute(
        sa.text(
            "select distinct vn.nspname, v.relname, tn.nspname, t.relname "
            "from pg_depend as d inner join pg_rewrite as rw on rw.oid = d.objid "
            "inner join pg_class as v on v.oid = rw.ev_class inner join pg_namespace as vn on vn.oid = v.relnamespace "
            "inner join pg_class as t on t.oid = d.refobjid inner join pg_namespace as tn on tn.oid = t.relnamespace "
            "where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass and t.oid <> v.oid "
            "and vn.nspname in (:r, :d) and tn.nspname in (:r, :d) order by 1, 2, 3, 4"
        ),
        {"r": schemas[0], "d": schemas[1]},
    ):
        if (vs, vn) in relations and (ts, tn) in relations:
            relations[(vs, vn)].reads.append(f"{ts}.{tn}")
            relations[(ts, tn)].read_by.append(f"{vs}.{vn}")
    loaded = list(schema.LOAD_ORDER)  # the tables `dwh load` fills, each from data/<name>.csv
    for name in loaded:
        if (schema.SCHEMA, name) in relations:
            relations[(schema.SCHEMA, name)].csv_file = f"data/{name}.csv"
    # Where the figures of a view come from: every dwh table it reads, directly or through other views.
    for relation in relations.values():
        if relation.kind == "view":
            seen, todo = set(), list(relation.reads)
            while todo:
                name = todo.pop()
                if name not in seen:
                    seen.add(name)
                    todo += relations[tuple(name.split(".", 1))].reads
            relation.sources = sorted(n for n in seen if n.startswith(f"{schema.SCHEMA}."))
    document = {e.table_id.lower(): e.table_id for e in entries}
    for (s, n), relation in relations.items():
        if s == schema.REPORT_SCHEMA and n in document:
            relation.table_id = document[n]

    def order(relation: Relation):
        if relation.schema == schema.REPORT_SCHEMA:
            ids = [e.table_id.lower() for e in entries]
            return (0, ids.index(relation.name) if relation.name in ids else len(ids), relation.name)
        return (1, loaded.index(relation.name) if relation.name in loaded else len(loaded), relation.name)

    return sorted(relations.values(), key=order)


# ------------------------------------------------------------------ collecting and writing


@dataclass
class Published:
    document: dict
    tables: list[SiteTable]
    charts: list[charts.Chart]
    relations: list[Relation]
    statuses: dict[str, str]  # curation status -> its description (dwh.observation_status)
    status_counts: dict[str, int]  # curation status -> how many printed figures have it
    last_load: dict | None
    version: str
    generated_at: datetime
    workbook: str
    package_dir: str = PACKAGE_DIR
    package_zip: str = PACKAGE_ZIP

    @property
    def open_cells(self) -> int:
        return sum(t.open_cells for t in self.tables)

    @property
    def open_blanks(self) -> int:
        return sum(t.open_blanks for t in self.tables)

    @property
    def figures(self) -> int:
        return sum(self.status_counts.values())

    def answers(self) -> list[tuple[str, list[SiteTable]]]:
        """The tables grouped by the answer they belong to, in document order."""
        groups: dict[str, list[SiteTable]] = {}
        for t in self.tables:
            groups.setdefault(t.entry.answer, []).append(t)
        return list(groups.items())


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("doorstroom-dwh")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        from loader import __version__

        return __version__


def collect(conn: sa.Connection, entries: list[CatalogEntry], tables: list[Table]) -> Published:
    """Everything the pages show, read in the caller's transaction; the charts are drawn here too."""
    from loader.export import WORKBOOK, published_document

    site_tables = [site_table(e, t, opencells.table_cells(conn, t)) for e, t in zip(entries, tables, strict=True)]
    document = published_document(conn)
    if not document:  # report.catalog found tables with views, so their document is there
        raise RuntimeError("no document of the published tables in dwh.source_document")
    os_ = schema.observation_status
    statuses = dict(conn.execute(sa.select(os_.c.status_id, os_.c.description).order_by(os_.c.status_id)).all())
    counts = dict(conn.execute(sa.text(
        f"select status, count(*) from report.cellen where waarde is not null and tabel in {PUBLISHED_TABLES} group by status"
    )).all())
    lh = schema.load_history
    last = conn.execute(sa.select(lh).where(lh.c.outcome == "loaded").order_by(lh.c.load_id.desc()).limit(1)).mappings().first()
    return Published(
        document=document,
        tables=site_tables,
        charts=[charts.draw(c) for c in charts.collect(conn)],
        relations=dictionary(conn, entries),
        statuses=statuses,
        status_counts=counts,
        last_load=dict(last) if last else None,
        version=version(),
        generated_at=datetime.now(timezone.utc),
        workbook=WORKBOOK,
    )


def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every label and caption from the warehouse is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["getal"] = belgian
    env.filters["datum"] = dutch_date
    env.filters["tijdstip"] = dutch_time
    env.globals["open_mark"] = OPEN_MARK
    env.filters["anker"] = anchor
    return env


def render_pages(published: Published) -> dict[str, str]:
    """Each page's path in the site and its HTML."""
    from markupsafe import Markup

    env = environment()
    svgs = {c.chart_id: Markup(c.svg) for c in published.charts}  # drawn by vl-convert, which escapes its text
    csv_files = {r.qualified: r.csv_file for r in published.relations if r.csv_file}
    common = {"site": published, "svgs": svgs, "pages": PAGES, "csv_files": csv_files}
    return {path: env.get_template(template).render(current=path, **common) for path, template, _ in PAGES}


#: path, template, name in the navigation
PAGES = [
    (INDEX, "index.html.j2", "Tabellen en grafieken"),
    (DICTIONARY, "woordenboek.html.j2", "Woordenboek"),
    (SOURCE, "bron.html.j2", "Over de bron"),
]


def _write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside path, then rename: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def zip_package(directory: Path) -> None:
    """The CSV data package as one file, for a static host that lists no folders."""
    folder = directory / PACKAGE_DIR
    handle, tmp = tempfile.mkstemp(prefix=f".{PACKAGE_ZIP}.", dir=directory)
    os.close(handle)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    archive.write(path, f"doorstroom-sv221-2024/{path.name}")
        os.replace(tmp, directory / PACKAGE_ZIP)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode() -> int:
    """The mode a new file gets from the umask (the temporary files we rename are 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write(published: Published, directory: Path) -> Path:
    """The pages, the style sheet and the zipped data package into directory; the workbook and the
    package's files are written by the caller (loader.export) before."""
    for path, html in render_pages(published).items():
        _write_text(directory / path, html)
    _write_text(directory / STYLESHEET, (_TEMPLATES / "site.css").read_text(encoding="utf-8"))
    zip_package(directory)
    # A web server reads the files as another user: give every file of the site the mode a plain
    # new file would get, not the 0600 of the temporary files they were renamed from.
    mode = _file_mode()
    for path in [*(p for p, _, _ in PAGES), STYLESHEET, PACKAGE_ZIP, published.workbook]:
        os.chmod(directory / path, mode)
    for path in (directory / PACKAGE_DIR).iterdir():
        if path.is_file() and not path.name.startswith("."):
            os.chmod(path, mode)
    return directory / INDEX


def size(directory: Path) -> int:
    """Bytes of every file of the site folder."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
