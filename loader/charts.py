"""The charts of the publication site: Vega-Lite specifications drawn to SVG by vl-convert.

vl-convert runs Vega-Lite and Vega inside the Python package (no browser, no network), so the SVG
is drawn once, at export time, and the page needs no script to show it. Each chart reads printed
figures from a tidy view (no totals: the chart adds them up where it stacks), in the document's
order, and carries a Dutch description that names every figure it draws, for screen readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

import sqlalchemy as sa

from loader.render import belgian

#: Belgian number format in the axes (1.234,56): d3-format's Dutch locale has the same separators.
FORMAT_LOCALE = "nl-NL"
WIDTH = 360  # of the plot; the SVG scales down to a phone's width (CSS max-width), never up
#: Vega measures text with the fonts vl-convert finds (DejaVu Sans here) and places the axes by it;
#: a browser drawing a narrower or wider font would clip or gap the labels. DejaVu Sans where the
#: reader has it, else Verdana, which has nearly the same widths.
FONT = "DejaVu Sans, Verdana, Geneva, sans-serif"
# Colour-blind-safe categories (Okabe and Ito), in the order of the series.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]


@dataclass
class Chart:
    chart_id: str  # the element id of the chart on the page
    title: str
    table_ids: list[str]  # the document tables the figures come from
    description: str  # every drawn figure in words: the accessible name of the SVG
    note: str  # what the chart adds up, under it
    spec: dict
    svg: str = ""


def _n(value) -> str:
    return belgian(value)


def _ordered(values) -> list:
    """Distinct values in the order they first come (the document's, when the query orders by it)."""
    return list(dict.fromkeys(values))


def _base(title: str, rows: list[dict], description: str) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "anchor": "start", "fontSize": 15},
        "description": description,
        "width": WIDTH,
        "data": {"values": rows},
        "config": {
            "font": FONT,
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 13, "titleFontSize": 13, "labelLimit": 240},
            "legend": {"labelFontSize": 13, "titleFontSize": 13, "orient": "top", "columns": 4},
            "view": {"stroke": None},
        },
    }


def doorstroom_per_province(conn: sa.Connection) -> Chart:
    rows = [
        {"provincie": p, "maatregel": m, "aantal": n}
        for p, m, n in conn.execute(
            sa.text(
                "select provincie, maatregel, aantal from report.doorstroom "
                "where tabel = 'T1_provincie' and not is_totaal order by bronregel, maatregel_volgorde"
            )
        )
    ]
    provinces = _ordered(r["provincie"] for r in rows)
    measures = _ordered(r["maatregel"] for r in rows)
    parts = "; ".join(
        f"{p}: " + ", ".join(f"{r['maatregel']} {_n(r['aantal'])}" for r in rows if r["provincie"] == p) for p in provinces
    )
    title = "Doorstroom in 2023 per provincie"
    description = f"Staafdiagram, {title.lower()}, CMW en LDE op elkaar gestapeld, in de volgorde van het document. {parts}."
    spec = _base(title, rows, description)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "y": {"field": "provincie", "type": "nominal", "sort": provinces, "title": None},
        "x": {"field": "aantal", "type": "quantitative", "title": "werknemers die doorstroomden", "stack": "zero"},
        "color": {"field": "maatregel", "type": "nominal", "sort": measures, "title": "maatregel"},
        "order": {"field": "maatregel", "sort": "ascending"},
    }
    return Chart("grafiek-doorstroom-provincie", title, ["T1_provincie"], description, "CMW en LDE samen geven de doorstroom van de provincie.", spec)


def trajectories_per_start_year(conn: sa.Connection) -> Chart:
    rows = [
        {"startjaar": y, "provincie": p, "aantal": n}
        for y, p, n in conn.execute(
            sa.text(
                "select startjaar_label, provincie, aantal from report.trajecten_gestart "
                "where tabel = 'T2ab_provincie' and not is_totaal order by startjaar, bronregel"
            )
        )
    ]
    years = _ordered(r["startjaar"] for r in rows)
    # The provinces in the order of the printed table's columns.
    printed = conn.execute(
        sa.text(
            "select column_name from information_schema.columns "
            "where table_schema = 'report' and table_name = 't2ab_provincie' order by ordinal_position"
        )
    ).scalars()
    present = {r["provincie"] for r in rows}
    provinces = [p for p in printed if p in present]
    parts = "; ".join(
        f"{y}: " + ", ".join(f"{r['provincie']} {_n(r['aantal'])}" for r in rows if r["startjaar"] == y) for y in years
    )
    title = "ESF-doorstroomtrajecten per startjaar en provincie"
    description = f"Staafdiagram, {title}, provincies op elkaar gestapeld. {parts}. Een provincie zonder cijfer in een jaar ontbreekt."
    spec = _base(title, rows, description)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "x": {"field": "startjaar", "type": "ordinal", "sort": years, "title": "startjaar", "axis": {"labelAngle": 0}},
        "y": {"field": "aantal", "type": "quantitative", "title": "gestarte trajecten", "stack": "zero"},
        "color": {"field": "provincie", "type": "nominal", "sort": provinces, "title": "provincie"},
    }
    spec["height"] = 260
    return Chart("grafiek-trajecten-startjaar", title, ["T2ab_provincie"], description, "Elk traject telt in het jaar waarin het startte.", spec)


def payments_per_project_and_fund(conn: sa.Connection) -> Chart:
    # Summed in SQL over numeric, so the sums are exact to the cent.
    rows = [
        # The axis names a project by its number and organisation where the document gives one:
        # the full names would squeeze the bars on a phone; the description keeps them whole.
        {"project": f"{nr} {org}" if org else p, "naam": p, "fonds": f, "bedrag": float(a), "bedrag_tekst": _n(a)}
        for p, nr, org, f, a in conn.execute(
            sa.text(
                "select esf_project, esf_project_nummer, organisatie, fonds, sum(bedrag_euro) from report.betalingen "
                "where tabel = 'T2e_betalingen' and not is_totaal "
                "group by esf_project, esf_project_nummer, organisatie, esf_project_volgorde, fonds "
                "order by esf_project_volgorde, fonds desc"
            )
        )
    ]
    projects = _ordered(r["project"] for r in rows)
    funds = _ordered(r["fonds"] for r in rows)
    parts = "; ".join(
        f"{p}: " + ", ".join(f"{r['fonds']} {r['bedrag_tekst']} euro" for r in rows if r["naam"] == p)
        for p in _ordered(r["naam"] for r in rows)
    )
    title = "Betalingen per ESF-project en fonds, 2018-2024 samen"
    description = f"Staafdiagram, {title}, in euro, VCF en ESF op elkaar gestapeld. {parts}."
    spec = _base(title, rows, description)
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {
        "y": {"field": "project", "type": "nominal", "sort": projects, "title": None},
        "x": {"field": "bedrag", "type": "quantitative", "title": "euro", "axis": {"format": ",.0f"}, "stack": "zero"},
        "color": {"field": "fonds", "type": "nominal", "sort": funds, "title": "fonds"},
        "order": {"field": "fonds", "sort": "descending"},
    }
    return Chart(
        "grafiek-betalingen-project",
        title,
        ["T2e_betalingen"],
        description,
        "De betalingen van 2018 tot 2024 per fonds opgeteld (uitgevoerd tot 12/2/2024); een terugvordering telt negatief.",
        spec,
    )


def sustained_doorstroom(conn: sa.Connection) -> Chart:
    rows = [
        # The axis says how long after doorstroom (the printed labels are too long for it).
        {"reeks": f"{y} {m}", "duurzaamheid": d, "moment": f"na {months} maanden" if months else "bij doorstroom", "aantal": n}
        for y, m, d, months, n in conn.execute(
            sa.text(
                "select jaar_doorstroom_label, maatregel, duurzaamheid, minimum_maanden, aantal from report.duurzame_doorstroom "
                "where tabel = 'T4_duurzaam' and not is_totaal "
                "order by jaar_doorstroom, maatregel_volgorde, duurzaamheid_volgorde"
            )
        )
    ]
    series = _ordered(r["reeks"] for r in rows)
    steps = _ordered(r["moment"] for r in rows)
    parts = "; ".join(
        f"{s}: " + ", ".join(f"{r['duurzaamheid']} {_n(r['aantal'])}" for r in rows if r["reeks"] == s) for s in series
    )
    title = "Duurzame doorstroom na 3, 6 en 12 maanden"
    description = f"Lijndiagram, {title.lower()}, per jaar van doorstroom en maatregel. {parts}."
    spec = _base(title, rows, description)
    spec["mark"] = {"type": "line", "point": True, "tooltip": True}
    spec["encoding"] = {
        "x": {"field": "moment", "type": "ordinal", "sort": steps, "title": "nog aan het werk", "axis": {"labelAngle": 0}},
        "y": {"field": "aantal", "type": "quantitative", "title": "werknemers"},
        "color": {"field": "reeks", "type": "nominal", "sort": series, "title": "jaar en maatregel"},
    }
    spec["height"] = 260
    spec["width"] = WIDTH + 80  # four labels side by side need the room
    return Chart(
        "grafiek-duurzame-doorstroom",
        title,
        ["T4_duurzaam"],
        description,
        "Wie na 6 maanden nog werkt, telt ook bij 3 maanden: de reeksen dalen van links naar rechts.",
        spec,
    )


CHARTS = (doorstroom_per_province, trajectories_per_start_year, payments_per_project_and_fund, sustained_doorstroom)


def collect(conn: sa.Connection) -> list[Chart]:
    return [make(conn) for make in CHARTS]


_SVG_OPEN = re.compile(r"<svg\b")
#: The ARIA that Vega writes on the parts of a chart (graphics-* roles, a label per bar and axis).
_PARTS_ARIA = re.compile(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"')


def draw(chart: Chart) -> Chart:
    """Draw the chart to SVG and name it for screen readers as one image: role img, the description
    (which names every figure) as its accessible name and as its <title>, shown on hover.

    Inside an image its parts are presentational, so the ARIA Vega writes on them is dropped: a
    screen reader would skip it, and axe-core before version 4 rejects the WAI-ARIA Graphics roles
    it uses. Vega escapes its attribute values, so no quote ends one early."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.spec, format_locale=FORMAT_LOCALE)
    if not _SVG_OPEN.match(svg):
        raise RuntimeError(f"vl-convert drew {chart.chart_id} as something other than an <svg> element")
    label = escape(chart.description, quote=True)
    head, rest = svg.split(">", 1)
    chart.svg = f'{head} role="img" aria-label="{label}"><title>{label}</title>{_PARTS_ARIA.sub("", rest)}'
    return chart

