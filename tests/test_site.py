"""`dwh export DIR --format html` without a browser: the files, their weight, that they need no
network, and that every label from the warehouse is escaped. tests/test_site_browser.py opens the
same site in Chromium."""

from __future__ import annotations

import csv
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from loader import charts, site
from loader.cli import main

GOLDEN = Path(__file__).parent / "golden"
PAGES = ["index.html", "woordenboek.html", "bron.html"]


class _References(HTMLParser):
    """Every URL a page loads by itself (src, stylesheet href, srcset) and every link it offers."""

    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []
        self.ids: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("src", "srcset", "data", "poster"):
            if attrs.get(name):
                self.loaded.append(attrs[name])
        if tag == "link" and attrs.get("href"):
            self.loaded.append(attrs["href"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path: Path) -> _References:
    parser = _References()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_export_html_writes_the_pages_workbook_and_data_package(exported_site):
    for name in [*PAGES, "assets/site.css", "doorstroom-sv221-2024.xlsx", "doorstroom-sv221-2024-csv.zip", "csv/datapackage.json"]:
        assert (exported_site / name).is_file(), name
    with zipfile.ZipFile(exported_site / "doorstroom-sv221-2024-csv.zip") as archive:
        names = sorted(Path(n).name for n in archive.namelist())
    tables = [r["table_id"] for r in csv.DictReader(open(GOLDEN.parent.parent / "data" / "source_table.csv", encoding="utf-8"))]
    assert names == sorted([f"{t}.csv" for t in tables] + ["cellen.csv", "datapackage.json"])


def test_site_weighs_at_most_5_mib_and_loads_nothing_from_the_network(exported_site):
    assert site.size(exported_site) <= 5 * 1024 * 1024
    for page in PAGES:
        refs = _parse(exported_site / page)
        assert refs.lang == "nl"
        for url in refs.loaded:
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", url, re.IGNORECASE), f"{page} loads {url}"
            assert (exported_site / url).is_file(), f"{page} loads {url}, which the export did not write"
        for url in refs.links:
            if not re.match(r"^(https?:|#)", url):  # a link within the site points at a file it wrote
                path, _, fragment = url.partition("#")
                assert (exported_site / path).is_file(), f"{page} links {url}"
                if fragment:
                    assert fragment in _parse(exported_site / path).ids, f"{page} links {url}, which has no such id"
    text = (exported_site / "index.html").read_text(encoding="utf-8")
    assert "<script" not in text  # the page works without any script at all


def test_every_table_sits_in_an_element_with_its_id(exported_site):
    ids = set(_parse(exported_site / "index.html").ids)
    tables = [r["table_id"] for r in csv.DictReader(open(GOLDEN.parent.parent / "data" / "source_table.csv", encoding="utf-8"))]
    assert len(tables) == 18
    assert set(tables) <= ids


def test_source_page_names_the_question_its_page_and_the_load(exported_site):
    text = (exported_site / "bron.html").read_text(encoding="utf-8")
    assert "Schriftelijke vraag nr. 221" in text
    assert "2 februari 2024" in text
    assert 'href="https://www.vlaamsparlement.be/parlementaire-documenten/schriftelijke-vragen/1800591"' in text
    assert re.search(r"Cijfers geladen</dt><dd>\d+ \w+ \d{4}, \d\d:\d\d UTC, door dwh \d", text)
    # 35 figures whose place is open and 38 blanks that may hold some (data/CURATION.md).
    assert "vandaag 73 cellen, 35 gedrukte cijfers en 38 lege cellen" in text


def test_dictionary_lists_every_view_and_table_with_comment_columns_and_lineage(exported_site, loaded_engine):
    import sqlalchemy as sa

    with loaded_engine.connect() as conn:
        relations = conn.execute(
            sa.text(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_schema in ('report', 'dwh')"
            )
        ).scalars().all()
    text = (exported_site / "woordenboek.html").read_text(encoding="utf-8")
    ids = set(_parse(exported_site / "woordenboek.html").ids)
    assert len(relations) > 40
    for name in relations:
        assert name.replace(".", "-", 1) in ids, name
    assert "Zonder uitleg in de database" not in text  # every table and view has a comment
    # A view's figures are traced back to the curated file they were loaded from.
    assert "<code>data/doorstroom.csv</code> → <a href=\"#dwh-doorstroom\"><code>dwh.doorstroom</code></a> → <code>report.t1_provincie</code>" in text
    assert "not is_totaal" in text  # the recipe for adding figures up


def test_labels_and_captions_from_the_warehouse_are_escaped(exported_site, loaded_db):
    from loader import db, report

    evil = "<script>alert(1)</script>"
    engine = db.make_engine(loaded_db)
    try:
        with engine.connect() as conn:
            entries = report.catalog(conn)
            tables = [report.read_table(conn, e) for e in entries]
            published = site.collect(conn, entries, tables)
    finally:
        engine.dispose()
    # A caption, a row label, a column name, the document's title and a comment holding markup.
    published.tables[0].table.caption = evil
    published.tables[1].rows[0][1][0].text = evil
    published.tables[1].columns[1] = (evil, ["getal"])
    published.document["title"] = evil
    published.relations[0].comment = evil
    pages = site.render_pages(published)
    for html in pages.values():
        assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["index.html"]


def test_a_chart_label_holding_markup_is_text_in_the_svg():
    chart = charts.Chart(
        "grafiek-test",
        "Test",
        ["T1_provincie"],
        'Staafdiagram met <script>alert("x")</script>',
        "",
        {
            "data": {"values": [{"p": "<script>alert(1)</script>", "n": 1}]},
            "mark": "bar",
            "encoding": {"y": {"field": "p", "type": "nominal"}, "x": {"field": "n", "type": "quantitative"}},
        },
    )
    svg = charts.draw(chart).svg
    assert "<script" not in svg
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img" aria-label="Staafdiagram met &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in svg


def test_export_html_into_a_file_is_exit_2(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["export", str(target), "--format", "html"]) == 2
    err = capsys.readouterr().err
    assert err == f"dwh: error: {target} is a file, not a folder: give a folder to export into\n"


def test_site_files_are_readable_by_a_web_server(exported_site):
    for path in exported_site.rglob("*"):
        if path.is_file():
            # what a plain new file gets, not the 0600 of a temporary file
            assert path.stat().st_mode & 0o777 == 0o666 & ~_umask(), path


def _umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask
