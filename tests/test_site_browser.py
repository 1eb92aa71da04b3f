"""The site of `dwh export --format html`, opened from file:// in headless Chromium with every
network request refused: the document's tables and figures, the open cells and their ranges, the
charts, the console, the network, axe-core's accessibility rules and the phone width.

One browser and one export per test session (fixtures ``browser`` and ``exported_site``). The tests
skip, saying why, where no Chromium with its chromedriver is installed; .ci/run installs Debian's
``chromium`` and ``chromium-driver``. With DWH_SITE_SCREENSHOTS=DIR they also leave full-page
screenshots at 1280 and 390 pixels in DIR, to look at.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from extraction import source_text

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).resolve().parents[1] / "data"
PAGES = ["index.html", "woordenboek.html", "bron.html"]
DESKTOP, PHONE = 1280, 390


def _golden(table_id: str) -> list[list[str]]:
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _table_ids() -> list[str]:
    with open(DATA / "source_table.csv", newline="", encoding="utf-8") as fh:
        return [r["table_id"] for r in sorted(csv.DictReader(fh), key=lambda r: int(r["position"]))]


def _printed(value: str) -> str:
    """A golden figure as the document prints it: 27313.55 as 27.313,55; counts and labels as they are."""
    if not re.fullmatch(r"-?\d+\.\d\d", value):
        return value
    whole, cents = value.split(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + ".".join([whole, *groups]) + "," + cents


def _binaries() -> tuple[str, str] | None:
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="session")
def browser():
    found = _binaries()
    if found is None:
        pytest.skip("no headless Chromium with chromedriver on PATH (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox will not start
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        # Every request that leaves the machine fails: no proxy answers there and no name resolves.
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_script_timeout(180)  # axe-core takes its time over the long data dictionary
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
        yield driver
    finally:
        driver.quit()


def _open(driver, folder: Path, page: str, width: int = DESKTOP) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get_log("browser")  # reading the logs empties them: what follows is this page's
    driver.get_log("performance")
    driver.get((folder / page).as_uri())


@pytest.fixture(scope="session")
def index(browser, exported_site):
    _open(browser, exported_site, "index.html")
    return browser


_TABLES_JS = """
const out = [];
for (const section of document.querySelectorAll('section.tabel')) {
  const table = section.querySelector('table');
  const own = cell => [...cell.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('').trim();
  out.push({
    id: section.id,
    header: [...table.tHead.rows[0].cells].map(c => c.textContent.trim()),
    rows: [...table.tBodies[0].rows].map(r => [...r.cells].map(own)),
    bold: [...table.tBodies[0].rows].map(r => getComputedStyle(r.cells[r.cells.length - 1]).fontWeight),
  });
}
return out;
"""


def test_all_18_tables_show_the_documents_figures_under_their_ids(index):
    shown = {t["id"]: t for t in index.execute_script(_TABLES_JS)}
    ids = _table_ids()
    assert list(shown) == ids and len(ids) == 18  # in the document's order
    for table_id in ids:
        header, *rows = _golden(table_id)
        assert shown[table_id]["header"] == header, table_id
        assert shown[table_id]["rows"] == [[_printed(v) for v in row] for row in rows], table_id
        # Totals are set apart: a total row is bold.
        for row, weight in zip(rows, shown[table_id]["bold"]):
            if re.match(r"(Eind)?totaal", row[0], re.IGNORECASE):
                assert int(weight) >= 700, (table_id, row[0])


def test_a_table_is_reached_by_its_id(browser, exported_site):
    browser.get((exported_site / "index.html").as_uri() + "#T2c_project")
    top = browser.execute_script("return document.getElementById('T2c_project').getBoundingClientRect().top")
    assert abs(top) < 5


def test_the_73_open_cells_of_T2c_project_show_their_range_on_hover_and_focus(index, loaded_engine):
    import sqlalchemy as sa

    with loaded_engine.connect() as conn:
        expected = {
            (rij, kolom): f"{low}–{high}"
            for rij, kolom, low, high in conn.execute(
                sa.text("select rij, kolom, minimum, maximum from report.open_cellen where tabel = 'T2c_project'")
            )
        }
    cells = index.execute_script(
        """
        const table = document.querySelector('#T2c_project table');
        const names = [...table.tHead.rows[0].cells].map(c => c.textContent.trim());
        return [...table.querySelectorAll('td.open')].map(td => {
          const row = td.parentElement;
          return {row: [row.cells[0].textContent.trim(), row.cells[1].textContent.trim()].join(' / '),
                  column: names[td.cellIndex], title: td.title, label: td.getAttribute('aria-label'),
                  range: td.dataset.bereik, tabindex: td.tabIndex, value: td.firstChild && td.firstChild.nodeType === 3 ? td.firstChild.textContent : ''};
        });
        """
    )
    # 35 printed figures whose place is open and 38 blanks that may hold a few (data/CURATION.md).
    assert len(cells) == 73
    assert sum(1 for c in cells if c["value"]) == 35
    assert len(expected) == 73
    for c in cells:
        shown = expected[(c["row"], c["column"])]
        assert c["range"] == shown
        assert shown in c["title"] and shown in c["label"]
        assert c["tabindex"] == 0
    assert index.execute_script("return document.querySelectorAll('td.open').length") == 73  # no other table has any

    # The range shows on keyboard focus, not only in the title a mouse brings up.
    first = index.execute_script("const td = document.querySelector('#T2c_project td.open'); td.focus(); return document.activeElement === td")
    assert first
    content = index.execute_script("return getComputedStyle(document.querySelector('#T2c_project td.open'), '::after').content")
    assert re.fullmatch(r'"\d+–\d+"', content)
    legend = index.execute_script("return document.getElementById('lezen').textContent")
    assert "Open cel (73, waarvan 38 leeg gedrukt)" in " ".join(legend.split())


def test_each_figure_shows_the_line_of_the_source_text_it_was_read_from(index):
    lines = source_text().read_text(encoding="utf-8").splitlines()
    hidden = index.execute_script("return getComputedStyle(document.querySelector('#T1_provincie .bronregel')).display")
    index.execute_script("document.getElementById('toon-bronregels').click()")
    try:
        shown = index.execute_script(
            "return [...document.querySelectorAll('#T1_provincie td')].map(td => [td.firstChild.textContent, td.dataset.bronregel, "
            "getComputedStyle(td.querySelector('.bronregel')).display, td.querySelector('.bronregel').textContent])"
        )
    finally:
        index.execute_script("document.getElementById('toon-bronregels').click()")
    assert hidden == "none"
    assert len(shown) == 14
    for figure, line, display, text in shown:
        assert display != "none" and text == f"r. {line}"
        assert re.search(rf"(?<!\d){figure}(?!\d)", lines[int(line) - 1]), (figure, line, lines[int(line) - 1])


def _shapes(browser, chart_id: str, marks: str) -> list[dict]:
    """Where the browser drew the marks of a chart (bars: g.mark-rect, points: g.mark-symbol)."""
    return browser.execute_script(
        f"return [...document.querySelectorAll('#{chart_id} svg g.{marks}.role-mark path')]"
        ".map(p => { const r = p.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )


def _axis_labels(browser, chart_id: str) -> list[list[str]]:
    return browser.execute_script(
        f"return [...document.querySelectorAll('#{chart_id} svg g.role-axis-label')].map(g => [...g.querySelectorAll('text')].map(t => t.textContent))"
    )


def _proportional(drawn: list[float], values: list[float], tolerance: float = 1.0) -> bool:
    """Each drawn length is its value times one scale (to within a pixel)."""
    scale = max(drawn) / max(values)
    return len(drawn) == len(values) and all(abs(d - v * scale) <= tolerance for d, v in zip(sorted(drawn), sorted(values)))


def test_the_charts_are_drawn_labelled_and_show_the_documents_figures(index):
    charts = index.execute_script(
        "return [...document.querySelectorAll('figure.grafiek')].map(f => { const s = f.querySelector('svg');"
        " return {id: f.id, role: s && s.getAttribute('role'), label: s && s.getAttribute('aria-label'),"
        " title: s && s.querySelector('title') && s.querySelector('title').textContent, width: s && s.getBoundingClientRect().width}; })"
    )
    assert [c["id"] for c in charts] == [
        "grafiek-doorstroom-provincie",
        "grafiek-trajecten-startjaar",
        "grafiek-betalingen-project",
        "grafiek-duurzame-doorstroom",
    ]
    for c in charts:
        assert c["role"] == "img" and len(c["label"]) > 50 and c["title"] == c["label"] and c["width"] > 200, c["id"]
    labels = {c["id"]: c["label"] for c in charts}

    # Doorstroom per province, in the document's order: a bar per printed figure, as long as it.
    _, *t1 = _golden("T1_provincie")
    figures = [int(v) for _, cmw, lde in t1 for v in (cmw, lde)]
    bars = _shapes(index, "grafiek-doorstroom-provincie", "mark-rect")
    assert _proportional([b["width"] for b in bars], figures)
    assert [p for p, _, _ in t1] in _axis_labels(index, "grafiek-doorstroom-provincie")
    for province, cmw, lde in t1:
        assert f"{province}: CMW {cmw}, LDE {lde}" in labels["grafiek-doorstroom-provincie"]

    # Trajectories over the start years: every figure of T2ab_provincie that is not a total.
    header, *t2ab = _golden("T2ab_provincie")
    figures = [int(v) for row in t2ab if row[0] != "Totaal" for v in row[1:-1] if v]
    bars = _shapes(index, "grafiek-trajecten-startjaar", "mark-rect")
    assert _proportional([b["height"] for b in bars], figures)
    assert [row[0] for row in t2ab if row[0] != "Totaal"] in _axis_labels(index, "grafiek-trajecten-startjaar")
    assert "2020: Antwerpen 98, Limburg 62, Oost-Vlaanderen 48, Vlaams-Brabant 41, West-Vlaanderen 40" in labels["grafiek-trajecten-startjaar"]

    # Payments per project and fund: the printed amounts of each project added up per fund.
    header, *t2e = _golden("T2e_betalingen")
    sums = []
    for row in t2e[:-1]:
        per_fund = {f: sum((Decimal(v) for h, v in zip(header[1:], row[1:]) if h.startswith(f + "-")), Decimal("0")) for f in ("VCF", "ESF")}
        sums += per_fund.values()
        words = ", ".join(f"{f} {_printed(f'{per_fund[f]:.2f}')} euro" for f in ("VCF", "ESF"))
        assert f"{row[0]}: {words}" in labels["grafiek-betalingen-project"], row[0]
    bars = _shapes(index, "grafiek-betalingen-project", "mark-rect")
    assert _proportional([b["width"] for b in bars], [float(s) for s in sums])

    # Sustained doorstroom after 3, 6 and 12 months: a point per printed figure, as high as it.
    header, *t4 = _golden("T4_duurzaam")
    figures = [int(v) for row in t4 if row[1] for v in row[2:]]
    points = _shapes(index, "grafiek-duurzame-doorstroom", "mark-symbol")
    assert len(points) == len(figures) == 16
    tops = sorted((p["y"] + p["height"] / 2 for p in points), reverse=True)  # lowest point first
    low, high = min(figures), max(figures)
    scale = (tops[0] - tops[-1]) / (high - low)
    assert all(abs(t - (tops[0] - (v - low) * scale)) <= 1.0 for t, v in zip(tops, sorted(figures)))
    for row in t4:
        if row[1]:
            assert f"{row[0]} {row[1]}: doorstroom {row[2]}, duurzaam 3 maand of langer {row[3]}," in labels["grafiek-duurzame-doorstroom"]


@pytest.mark.parametrize("page", PAGES)
def test_no_console_error_and_no_network_request(browser, exported_site, page):
    _open(browser, exported_site, page)
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    requested = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested and all(url.startswith("file://") for url in requested), requested
    assert any(url.endswith("/assets/site.css") for url in requested)
    # The style sheet was applied: a page that loaded nothing would look like this too.
    assert browser.execute_script("return getComputedStyle(document.body).margin") == "0px"


#: axe-core 3's colour-contrast rule takes about 10 ms per element, a minute over the data
#: dictionary's 5,000; every one of its sections comes from the same template lines and style
#: rules, so the rule runs there over the parts that differ: the page's own sections, the first
#: document view, a tidy view and a table. Every other rule runs over the whole page.
_CONTRAST_SAMPLE = {
    "woordenboek.html": ["header", "#lagen", "#optellen", "main > nav", "#report-t1_totaal", "#report-cellen", "#dwh-doorstroom", "footer"],
}


@pytest.mark.parametrize("page", PAGES)
def test_no_serious_or_critical_accessibility_violation(browser, exported_site, page):
    from axe_selenium_python import Axe

    _open(browser, exported_site, page)
    axe = Axe(browser)
    axe.inject()
    sample = _CONTRAST_SAMPLE.get(page)
    if sample:
        violations = axe.run(options=json.dumps({"rules": {"color-contrast": {"enabled": False}}}))["violations"]
        context = {"include": [[selector] for selector in sample]}
        contrast = axe.run(context=context, options=json.dumps({"runOnly": {"type": "rule", "values": ["color-contrast"]}}))
        assert contrast["passes"], "the colour-contrast rule checked nothing"
        violations += contrast["violations"]
    else:
        violations = axe.run()["violations"]
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], axe.report(serious)


@pytest.mark.parametrize("page", PAGES)
def test_a_phone_never_scrolls_sideways_and_wide_tables_scroll_in_their_box(browser, exported_site, page):
    _open(browser, exported_site, page, PHONE)
    width, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == PHONE
    assert width <= inner
    if page == "index.html":
        box = browser.execute_script("const b = document.querySelector('#T2e_betalingen .schuif'); return [b.scrollWidth, b.clientWidth]")
        assert box[0] > box[1]  # the table is wider than the phone: its box scrolls
    _screenshots(browser, exported_site, page)


def _screenshots(browser, folder: Path, page: str) -> None:
    """Full-page screenshots at desktop and phone width, when DWH_SITE_SCREENSHOTS names a folder."""
    target = os.environ.get("DWH_SITE_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for width in (DESKTOP, PHONE):
        _open(browser, folder, page, width)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, height, 1800)):
            clip = {"x": 0, "y": top, "width": width, "height": min(1800, height - top), "scale": 1}
            shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
            (Path(target) / f"{Path(page).stem}-{width}-{n:02d}.png").write_bytes(base64.b64decode(shot["data"]))
