"""The tidy report views as a BI user reads them: the documented recipe, years, map codes, document order.

The recipe (docs/connecting.md, every tidy view's comment): take one `tabel`, leave out the rows
where `is_totaal` is true, add up. For every one of the 18 tables it must give exactly the
table's printed detail cells (compared with tests/golden, the tables as printed) and add up to the
total the document prints, typed below from shared/seed/000_b0f9d5d62dee0a8f.txt.
"""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader import views

GOLDEN = Path(__file__).parent / "golden"

# The document's own totals: Belgian amounts of the T2e Totaal row (lines 385 and 432).
T2E_TOTAAL = [
    "136567.75", "163881.30", "173860.73", "43344.00", "96010.51", "177025.39",
    "247879.38", "181860.00", "-7193.98", "23640.40", "46546.20", "34707.20",
]  # fmt: skip

# table id -> (tidy view, label columns of the printed table, what the detail cells add up to)
TABLES = {
    # Answer 1, line 84: CMW 1010, LDE 2320; answer 6 (line 493): "in totaal 3330 personen doorstroomden".
    "T1_totaal": ("doorstroom", 0, 1010 + 2320),
    "T1_provincie": ("doorstroom", 1, 3330),
    "T1_leeftijd": ("doorstroom", 1, 3330),
    # Answer 2a-b, the Totaal of lines 120, 135 and 163: 686 trajectories.
    "T2ab_provincie": ("trajecten_gestart", 1, 686),
    "T2ab_leeftijd": ("trajecten_gestart", 1, 686),
    "T2ab_project": ("trajecten_gestart", 1, 686),
    # Answer 2c, Eindtotaal of lines 187, 198 and 254: 54 87 11 142 22 64.
    "T2c_provincie": ("trajecten_beeindigd", 2, 54 + 87 + 11 + 142 + 22 + 64),
    "T2c_leeftijd": ("trajecten_beeindigd", 2, 54 + 87 + 11 + 142 + 22 + 64),
    "T2c_project": ("trajecten_beeindigd", 2, 54 + 87 + 11 + 142 + 22 + 64),
    # Answer 2d, Totaal 2022 19 97 116 and Totaal 2023 19 144 163 (lines 287/305, 315/322, 327/331).
    "T2d_project": ("doorstroom_na_evaluatie", 2, 116 + 163),
    "T2d_provincie": ("doorstroom_na_evaluatie", 2, 116 + 163),
    "T2d_leeftijd": ("doorstroom_na_evaluatie", 2, 116 + 163),
    "T2e_betalingen": ("betalingen", 1, sum(Decimal(a) for a in T2E_TOTAAL)),
    # Answer 3, line 438: CMW 176, LDE 48; answer 6 (line 492): "224 doelgroepwerknemers gescreend".
    "T3_totaal": ("screeningen", 0, 176 + 48),
    "T3_provincie": ("screeningen", 1, 224),
    "T3_leeftijd": ("screeningen", 1, 224),
    # Answer 4, Eindtotaal of line 475 per column: the thresholds are nested, so one at a time.
    "T4_duurzaam": ("duurzame_doorstroom", 2, {0: 4945, 3: 3549, 6: 3086, 12: 2717}),
    # Answer 4, line 476: "1140 (1070 binnen CMW en 70 binnen LDE)".
    "T4_sec_nec_sec": ("sec_nec_sec_overgangen", 0, 1140),
}

TIDY_VIEWS = {view for view, _, _ in TABLES.values()}
VALUE = {"betalingen": "bedrag_euro"}


def _text(value) -> str:
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def _printed_details(table_id: str, label_columns: int) -> Counter:
    """The detail cells of the printed table: not in a total row or column, not empty."""
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    cells = Counter()
    for row in rows:
        labels = row[:label_columns]
        if any(label.startswith("Totaal") or label == "Eindtotaal" for label in labels):
            continue
        for name, value in zip(header[label_columns:], row[label_columns:]):
            if name != "Totaal" and value != "":
                cells[value] += 1
    return cells


def _recipe(conn, view: str, table_id: str, extra: str = "") -> list:
    """The figures the recipe adds up; an open cell our placement leaves blank has a row but no figure."""
    value = VALUE.get(view, "aantal")
    figures = conn.execute(sa.text(f"select {value} from report.{view} where tabel = :t and not is_totaal {extra}"), {"t": table_id}).scalars()
    return [v for v in figures if v is not None]


def test_every_table_and_every_tidy_view_is_covered(loaded_engine):
    with loaded_engine.connect() as conn:
        catalogue = set(conn.execute(sa.text("select table_id from dwh.source_table")).scalars())
        tidy = set(
            conn.execute(
                sa.text("select distinct view_name from information_schema.view_table_usage where table_schema = 'report' and table_name = 'cijfers'")
            ).scalars()
        )
        for view in TIDY_VIEWS:
            held = set(conn.execute(sa.text(f"select distinct tabel from report.{view}")).scalars())
            assert held == {t for t, (v, _, _) in TABLES.items() if v == view}, view
    assert set(TABLES) == catalogue and len(catalogue) == 18
    assert tidy == TIDY_VIEWS and len(tidy) == 8


@pytest.mark.parametrize("table_id", list(TABLES))
def test_the_recipe_gives_the_printed_detail_cells_and_their_total(loaded_engine, table_id):
    view, label_columns, total = TABLES[table_id]
    with loaded_engine.connect() as conn:
        details = _recipe(conn, view, table_id)
        if isinstance(total, dict):
            sums = {m: sum(_recipe(conn, view, table_id, f"and minimum_maanden = {m}")) for m in total}
    assert Counter(_text(v) for v in details) == _printed_details(table_id, label_columns)
    if isinstance(total, dict):
        assert sums == total
    else:
        assert sum(details) == total


def test_a_figure_is_not_a_total_because_its_table_is_not_split_that_way(loaded_engine):
    # The row of the issue: T1_provincie Antwerpen LDE 790 (line 85) has leeftijd Totaal, yet is a detail cell.
    with loaded_engine.connect() as conn:
        row = conn.execute(
            sa.text("select leeftijd, is_totaal from report.doorstroom where tabel = 'T1_provincie' and provincie = 'Antwerpen' and maatregel = 'LDE'")
        ).one()
        flagged = conn.execute(sa.text("select count(*) from report.doorstroom where is_totaal")).scalar_one()
        everything = conn.execute(sa.text("select sum(aantal) from report.doorstroom")).scalar_one()
    assert tuple(row) == ("Totaal", False)
    assert flagged == 0  # answer 1 prints no total inside its tables
    # Without the tabel filter the three breakdowns of answer 1 count the same 3330 people three times.
    assert everything == 3 * 3330


def test_totaal_is_voltooid_plus_stopgezet_and_is_flagged(loaded_engine):
    # T2c_provincie line 170-172: ANTWERPEN Voltooid 25, Stopgezet 3, Totaal ANTWERPEN 28 (2021 CMW).
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select fase, aantal, is_totaal from report.trajecten_beeindigd "
                "where tabel = 'T2c_provincie' and provincie = 'Antwerpen' and eindjaar = 2021 and maatregel = 'CMW' order by fase_volgorde"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("Voltooid", 25, False), ("Stopgezet", 3, False), ("Totaal", 28, True)]


YEAR_COLUMNS = {
    "doorstroom": "jaar", "screeningen": "jaar", "trajecten_gestart": "startjaar", "trajecten_beeindigd": "eindjaar",
    "doorstroom_na_evaluatie": "jaar_doorstroom", "betalingen": "betalingsjaar", "duurzame_doorstroom": "jaar_doorstroom",
}  # fmt: skip


@pytest.mark.parametrize("view", sorted(YEAR_COLUMNS))
def test_years_are_integers_and_empty_only_on_totals_over_years(loaded_engine, view):
    year = YEAR_COLUMNS[view]
    with loaded_engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text("select column_name, data_type from information_schema.columns where table_schema = 'report' and table_name = :v"),
                {"v": view},
            ).all()
        )
        bad = conn.execute(
            sa.text(
                f"select count(*) from report.{view} where ({year} is null) <> ({year}_label = 'Totaal') "
                f"or ({year} is null and not is_totaal) or {year}::text <> coalesce({year}_label, '')"
                f" and {year} is not null"
            )
        ).scalar_one()
        years = set(conn.execute(sa.text(f"select distinct {year} from report.{view}")).scalars())
    assert types[year] == "integer" and types[f"{year}_label"] == "text"
    assert bad == 0
    assert years - {None} <= set(range(2018, 2025)) and years - {None}


def test_year_totals_are_null_and_flagged(loaded_engine):
    # T2ab_provincie line 120: Totaal 227 2 129 148 92 88 686 (over the start years 2018-2023).
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select provincie, aantal from report.trajecten_gestart "
                "where tabel = 'T2ab_provincie' and startjaar is null and is_totaal order by provincie_volgorde"
            )
        ).all()
    # In the printed order: alphabetically, Brussel second (line 108).
    assert [tuple(r) for r in rows] == [
        ("Antwerpen", 227), ("Brussel", 2), ("Limburg", 129), ("Oost-Vlaanderen", 148), ("Vlaams-Brabant", 92),
        ("West-Vlaanderen", 88), ("Totaal", 686),
    ]  # fmt: skip


def test_provinces_have_iso_codes_and_the_document_order(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select provincie, provincie_iso, provincie_nis, provincie_nuts from report.doorstroom "
                "where tabel = 'T1_provincie' and maatregel = 'CMW' order by provincie_volgorde"
            )
        ).all()
    # Answer 1, lines 85-91, in printed order; ISO 3166-2:BE, NIS (Statbel) and NUTS (Eurostat) codes.
    assert [tuple(r) for r in rows] == [
        ("Antwerpen", "BE-VAN", "10000", "BE21"),
        ("Limburg", "BE-VLI", "70000", "BE22"),
        ("Oost-Vlaanderen", "BE-VOV", "40000", "BE23"),
        ("Vlaams-Brabant", "BE-VBR", "20001", "BE24"),
        ("West-Vlaanderen", "BE-VWV", "30000", "BE25"),
        ("Brussel", "BE-BRU", "04000", "BE1"),
        ("Buiten Brussel/Vlaanderen", None, None, None),
    ]


def test_sort_orders_follow_the_document(loaded_engine):
    with loaded_engine.connect() as conn:

        def ordered(sql: str) -> list:
            return conn.execute(sa.text(sql)).scalars().all()

        projects = ordered(
            "select esf_project_nummer from report.trajecten_gestart where tabel = 'T2ab_project' and startjaar is null order by esf_project_volgorde"
        )
        ages = ordered("select leeftijd from report.screeningen where tabel = 'T3_leeftijd' and maatregel = 'CMW' order by leeftijd_volgorde")
        phases = ordered(
            "select distinct fase, fase_volgorde from report.trajecten_beeindigd order by fase_volgorde"
        )
        thresholds = ordered(
            "select duurzaamheid from report.duurzame_doorstroom where tabel = 'T4_duurzaam' and jaar_doorstroom is null order by duurzaamheid_volgorde"
        )
        types = set(
            conn.execute(
                sa.text("select data_type from information_schema.columns where table_schema = 'report' and column_name like '%\\_volgorde'")
            ).scalars()
        )
    # T2ab_project lines 138-162: the projects by number, then Totaal.
    assert projects == [7738, 7874, 7875, 7876, 7877, 7878, 7880, 7881, 7882, 7883, 7887, 7889, None]
    assert ages == ["0-25 jaar", "25-59 jaar", "60 jaar en +"]  # lines 450-452
    assert phases == ["Voltooid", "Stopgezet", "Totaal"]
    assert thresholds == ["doorstroom", "duurzaam 3 maand of langer", "duurzaam 6 maand of langer", "duurzaam 12 maand of langer"]
    assert types == {"smallint"}


def test_the_flag_is_declared_once(loaded_engine):
    """No tidy view decides totals itself: they all read report.cijfers, which reads dwh.source_table_dimension."""
    for name in TIDY_VIEWS:
        text = views.view_files()[name].read_text(encoding="utf-8")
        assert "report.cijfers" in text and "_T" not in text and "case" not in text.lower(), name
    with loaded_engine.connect() as conn:
        reads = set(
            conn.execute(
                sa.text("select table_name from information_schema.view_table_usage where view_schema = 'report' and view_name = 'cijfers'")
            ).scalars()
        )
    assert "source_table_dimension" in reads


def test_the_flag_looks_at_every_dimension_a_table_can_break_down_by(loaded_engine):
    """dwh.dimension lists the dimensions of the fact tables, and report.cijfers checks each for _T."""
    from loader import schema
    from loader.breakdowns import fact_dimensions

    text = views.view_files()["cijfers"].read_text(encoding="utf-8")
    with loaded_engine.connect() as conn:
        listed = set(conn.execute(sa.text("select dimension_id from dwh.dimension")).scalars())
    in_facts = {d for fact in schema.FACT_TABLES for d in fact_dimensions(fact)}
    assert listed == in_facts
    for dimension in listed:
        assert f"('{dimension}', f." in text, dimension


def _range_file() -> dict[tuple, tuple[int, int]]:
    """data/trajectory_end_range.csv, the placement search's open cells (tests/test_placements.py checks it)."""
    data = Path(__file__).parent.parent / "data" / "trajectory_end_range.csv"
    with open(data, newline="", encoding="utf-8") as fh:
        return {
            (r["table_id"], int(r["end_year_id"]), r["measure_id"], r["phase_id"].capitalize(), int(r["esf_project_id"])): (int(r["minimum"]), int(r["maximum"]))
            for r in csv.DictReader(fh)
        }


def test_every_open_cell_is_a_row_of_its_tidy_view_with_its_range(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select tabel, eindjaar, maatregel, fase, esf_project_nummer, aantal, minimum, maximum "
                "from report.trajecten_beeindigd where status = 'open'"
            )
        ).all()
    found = {tuple(r[:5]): (r.minimum, r.maximum) for r in rows}
    assert len(found) == len(rows)
    assert found == _range_file()
    # data/CURATION.md, "Open cells: 73": the 35 flagged figures and 38 cells blank in our choice.
    assert sum(r.aantal is not None for r in rows) == 35
    assert sum(r.aantal is None for r in rows) == 38
    assert all(r.minimum <= r.aantal <= r.maximum for r in rows if r.aantal is not None)


@pytest.mark.parametrize("view", sorted(TIDY_VIEWS))
def test_a_fixed_figure_is_its_own_range(loaded_engine, view):
    value = VALUE.get(view, "aantal")
    with loaded_engine.connect() as conn:
        bad = conn.execute(
            sa.text(f"select count(*) from report.{view} where status <> 'open' and not (minimum = {value} and maximum = {value})")
        ).scalar_one()
        fixed = conn.execute(sa.text(f"select count(*) from report.{view} where status <> 'open'")).scalar_one()
    assert bad == 0 and fixed > 0


def _printed_runs(table_id: str) -> list[list[str]]:
    """The labels of a printed table as read: the header, then each label column down the rows, cut
    where the column is empty (a new group starts after a Totaal row, as in T2d)."""
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    runs = [header]
    for c in range(_label_columns(table_id)):
        run: list[str] = []
        for row in rows:
            if row[c] == "":
                runs.append(run)
                run = []
            else:
                run.append(row[c])
        runs.append(run)
    return runs


def _label_columns(table_id: str) -> int:
    return max(TABLES[table_id][1], 0)


# table id -> the tidy columns (label as printed, order) whose printed order the table shows
ORDERED = {
    t: [("provincie_gedrukt", "provincie_volgorde")] for t in ("T1_provincie", "T2ab_provincie", "T2c_provincie", "T2d_provincie", "T3_provincie")
} | {
    t: [("leeftijd_gedrukt", "leeftijd_volgorde")] for t in ("T1_leeftijd", "T2ab_leeftijd", "T2c_leeftijd", "T2d_leeftijd", "T3_leeftijd")
} | {
    "T4_sec_nec_sec": [("maatregel", "maatregel_volgorde")],
    "T1_totaal": [("maatregel", "maatregel_volgorde")],
    "T4_duurzaam": [("duurzaamheid", "duurzaamheid_volgorde")],
}


@pytest.mark.parametrize("table_id", sorted(ORDERED))
def test_labels_and_sort_orders_are_the_ones_each_table_prints(loaded_engine, table_id):
    """Sorted by its *_volgorde, a tidy view lists the members in the order the table prints them,
    spelled as it prints them (tests/golden: the header and the row labels)."""
    view = TABLES[table_id][0]
    runs = _printed_runs(table_id)
    with loaded_engine.connect() as conn:
        for label, order in ORDERED[table_id]:
            rows = conn.execute(
                sa.text(f"select {label}, min({order}) from report.{view} where tabel = :t group by {label} order by 2"), {"t": table_id}
            ).all()
            # Totaal is last, except where a table prints it first (T4_sec_nec_sec: Totaal, CMW, LDE).
            rank = {r[0]: r[1] for r in rows if r[0] != "Totaal" or label == "maatregel"}
            seen = set()
            for run in runs:
                members = [v for v in run if v in rank]
                members = [v for i, v in enumerate(members) if i == 0 or members[i - 1] != v]  # Voltooid, Stopgezet rows
                assert [rank[v] for v in members] == sorted(rank[v] for v in set(members)), (table_id, label, members)
                seen |= set(members)
            assert seen == set(rank), (table_id, label)  # every label as the table prints it


@pytest.mark.parametrize("view", sorted(TIDY_VIEWS | {"cijfers"}))
def test_the_comments_of_tabel_is_totaal_and_the_value_each_give_the_whole_recipe(loaded_engine, view):
    """BI tools show column comments, not view comments: each of the three columns says it all."""
    value = "waarde" if view == "cijfers" else VALUE.get(view, "aantal")
    with loaded_engine.connect() as conn:
        comments = dict(
            conn.execute(
                sa.text(
                    "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute as a "
                    "where a.attrelid = cast(:v as regclass) and a.attnum > 0"
                ),
                {"v": f"report.{view}"},
            ).all()
        )
    for column in ("tabel", "is_totaal", value):
        text = comments[column]
        assert "take one tabel" in text and "leave out the rows where is_totaal is true" in text, (view, column)
        if view in ("duurzame_doorstroom", "cijfers"):
            assert "pick one duurzaamheid" in text, (view, column)


def test_cijfers_says_the_unit_of_every_figure(loaded_engine):
    with loaded_engine.connect() as conn:
        units = dict(conn.execute(sa.text("select feit, string_agg(distinct eenheid, ',') from report.cijfers group by feit")).all())
        per_table = conn.execute(sa.text("select tabel from report.cijfers group by tabel having count(distinct eenheid) <> 1")).all()
        euro = conn.execute(sa.text("select sum(waarde) from report.cijfers where eenheid = 'euro' and tabel = 'T2e_betalingen' and not is_totaal")).scalar_one()
    assert units == {
        "doorstroom": "personen", "screening": "screenings", "trajectory_start": "trajecten", "trajectory_end": "trajecten",
        "doorstroom_after_evaluation": "personen", "payment": "euro", "sustained_doorstroom": "personen", "sec_nec_sec": "overgangen",
    }  # fmt: skip
    assert per_table == []
    assert euro == sum(Decimal(a) for a in T2E_TOTAAL)


def test_a_figure_over_a_period_has_no_year_to_plot_it_at(loaded_engine):
    # Line 476: "In totaal (over alle jaren heen sinds 2018) tellen we 1140".
    with loaded_engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text("select column_name, data_type from information_schema.columns where table_schema = 'report' and table_name = 'sec_nec_sec_overgangen'")
            ).all()
        )
        periods = set(conn.execute(sa.text("select periode from report.sec_nec_sec_overgangen")).scalars())
    assert types["periode"] == "text"
    assert not any("jaar" in c for c in types)
    assert periods == {"sinds 2018 (alle jaren tot het antwoord van 2024)"}
