"""The normalized warehouse schema (``dwh``) as SQLAlchemy Core tables.

The migrations in ``migrations/versions`` are written by hand from these definitions and a test
(`alembic check`) proves that the two agree. Dimension members named ``_T`` are the statistical
convention for "total over this dimension": the document prints marginals (per province, per age
band) and never a province-by-age cross-tab, so a fact row has ``_T`` (or one fixed member, like
2023 in answer 1) in the dimensions its source table does not break down by. Which dimensions each
table does break down by is declared once, in ``source_table_dimension``: a figure is a total when
it has ``_T`` in one of those (the tidy report views' ``is_totaal``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "dwh"
REPORT_SCHEMA = "report"
READER_ROLE = "dwh_reader"

metadata = sa.MetaData(
    schema=SCHEMA,
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    },
)

TOTAL = "_T"


def _code(name: str, comment: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, comment=comment, **kw)


def _is_total(key: str) -> sa.Column:
    return sa.Column(
        "is_total",
        sa.Boolean,
        sa.Computed(f"{key} = '{TOTAL}'", persisted=True),
        comment="True for the member '_T' that stands for the total over this dimension",
    )


def _sort_order() -> sa.Column:
    return sa.Column("sort_order", sa.SmallInteger, nullable=False, comment="Order in which the document lists the members")


# ---------------------------------------------------------------- the source document

source_document = sa.Table(
    "source_document",
    metadata,
    _code("document_id", "Key of the document, e.g. 'SV-221-2024'", primary_key=True),
    sa.Column("question_number", sa.Integer, nullable=False, comment="Number of the written question (schriftelijke vraag nr.)"),
    sa.Column("asked_on", sa.Date, nullable=False, comment="Date of the question"),
    sa.Column("author", sa.Text, nullable=False, comment="Member of the Flemish Parliament who asked the question"),
    sa.Column("minister", sa.Text, nullable=False, comment="Minister who answered"),
    sa.Column("minister_title", sa.Text, nullable=False, comment="The minister's portfolio as printed"),
    sa.Column("title", sa.Text, nullable=False, comment="Title of the question as printed"),
    sa.Column("pdf_url", sa.Text, nullable=False, comment="Link to the PDF of the question and answer"),
    sa.Column("page_url", sa.Text, nullable=False, comment="Link to the parliament's page of the question"),
    comment="The parliamentary document whose tables this warehouse holds: one row per document",
)

source_table = sa.Table(
    "source_table",
    metadata,
    _code("table_id", "Id of the table, as in tables.md, e.g. 'T2ab_project'; the report view is report.<id in lower case>", primary_key=True),
    sa.Column("document_id", sa.Text, sa.ForeignKey("source_document.document_id"), nullable=False, comment="Document the table is printed in"),
    sa.Column("answer", sa.Text, nullable=False, comment="Answer (and sub-question) the table belongs to, e.g. '2c'"),
    sa.Column("position", sa.SmallInteger, nullable=False, unique=True, comment="Order of the table in the document"),
    sa.Column("caption", sa.Text, nullable=False, comment="Caption or lead-in text as printed above the table"),
    sa.Column("grain", sa.Text, nullable=False, comment="What one row of the document's table is"),
    sa.Column("fact_table", sa.Text, nullable=False, comment="The dwh table that holds the table's cells"),
    sa.Column("source_lines", sa.Text, nullable=False, comment="Line range of the table in the text extraction of the PDF"),
    sa.Column("printed_cells", sa.SmallInteger, nullable=False, comment="How many cells the document prints in the table, printed totals included; the facts hold exactly these"),
    comment="Catalogue of the tables printed in the document: one row per table",
)

dimension = sa.Table(
    "dimension",
    metadata,
    _code("dimension_id", "Code: the name of the dwh table that lists the dimension's members, e.g. 'province'", primary_key=True),
    sa.Column("label", sa.Text, nullable=False, comment="Name of the dimension as the tidy report views call it, e.g. 'provincie'"),
    sa.Column("description", sa.Text, nullable=False, comment="What the dimension distinguishes"),
    comment="The dimensions a printed table can break down by (year, measure, province, ...); one row per dimension",
)

source_table_dimension = sa.Table(
    "source_table_dimension",
    metadata,
    sa.Column("table_id", sa.Text, sa.ForeignKey("source_table.table_id"), primary_key=True, comment="The printed table"),
    sa.Column("dimension_id", sa.Text, sa.ForeignKey("dimension.dimension_id"), primary_key=True, comment="A dimension whose members the table prints as rows or columns"),
    comment="Which dimensions each printed table breaks down by: one row per table and dimension. A figure is a total "
    "(is_totaal in the tidy report views) when it has the total member _T in one of these dimensions; _T in any other "
    "dimension only says that the table does not break down by it. `dwh validate` checks that the cells agree",
)

# ---------------------------------------------------------------- dimensions

observation_status = sa.Table(
    "observation_status",
    metadata,
    _code("status_id", "Curation status code", primary_key=True),
    sa.Column("description", sa.Text, nullable=False, comment="What the status means for a figure"),
    comment="How a figure was curated: printed and placed without doubt, placed by a choice among possibilities, or part of a disagreement inside the source. One row per status",
)

measure = sa.Table(
    "measure",
    metadata,
    _code("measure_id", "Code of the social economy measure: CMW, LDE, or _T for both", primary_key=True),
    sa.Column("name", sa.Text, nullable=False, comment="Full Dutch name of the measure (beleidsinstrument)"),
    sa.Column("label", sa.Text, nullable=False, comment="Label as printed in the document's column headers"),
    _is_total("measure_id"),
    _sort_order(),
    comment="Social economy measures (beleidsinstrumenten): collectief maatwerk and lokale diensteneconomie; one row per measure plus the total member _T",
)

province = sa.Table(
    "province",
    metadata,
    _code("province_id", "Code: ISO 3166-2 for Flemish provinces and Brussels, OUT for outside Brussels and Flanders, _T for the total", primary_key=True),
    sa.Column("name", sa.Text, nullable=False, comment="Name as printed in the document"),
    sa.Column("nis_code", sa.Text, comment="Statbel NIS (REFNIS) code of the province or region; empty for OUT and _T"),
    sa.Column("nuts_code", sa.Text, comment="Eurostat NUTS code (NUTS 2 for provinces, NUTS 1 for Brussels); empty for OUT and _T"),
    _is_total("province_id"),
    _sort_order(),
    comment="Provinces of residence (and Brussels, and outside Brussels/Flanders) used in the document; one row per province plus the total member _T",
)

age_band = sa.Table(
    "age_band",
    metadata,
    _code("age_band_id", "Code: Y_LT25 (under 25), Y25T59, Y_GE60, _T for all ages", primary_key=True),
    sa.Column("label", sa.Text, nullable=False, comment="Label as printed in answers 1 and 3, e.g. '0-25 jaar'"),
    sa.Column("label_esf", sa.Text, nullable=False, comment="Label as printed in the ESF tables of answer 2, e.g. '-25 jaar'"),
    sa.Column("min_age", sa.SmallInteger, comment="Lowest age in the band, in years"),
    sa.Column("max_age", sa.SmallInteger, comment="Highest age in the band, in years; empty when open-ended"),
    _is_total("age_band_id"),
    _sort_order(),
    comment="Age bands of the target-group workers; one row per band plus the total member _T",
)

year = sa.Table(
    "year",
    metadata,
    _code("year_id", "Code: the calendar year ('2018'...'2024') or _T for all years", primary_key=True),
    sa.Column("calendar_year", sa.SmallInteger, comment="The calendar year; empty for _T"),
    _is_total("year_id"),
    comment="Calendar years; facts say which role the year plays (start year, end year, year of doorstroom, payment year). One row per year plus _T",
)

esf_project = sa.Table(
    "esf_project",
    metadata,
    _code("esf_project_id", "Code: the ESF project number as text, or _T for all projects", primary_key=True),
    sa.Column("project_number", sa.Integer, comment="ESF project number as printed; empty for _T"),
    sa.Column("name", sa.Text, nullable=False, comment="Project name as printed"),
    sa.Column("organisation", sa.Text, comment="Recognised organisation or consortium, as printed in brackets after the name; empty when none is printed"),
    sa.Column(
        "label",
        sa.Text,
        sa.Computed(
            "CASE WHEN project_number IS NULL THEN name ELSE (project_number::text || ' ' || name || COALESCE(' (' || organisation || ')', '')) END",
            persisted=True,
        ),
        comment="Number, name and organisation as the document prints them in one cell",
    ),
    _is_total("esf_project_id"),
    _sort_order(),
    comment="ESF projects of call 432 'Doorstroom Sociale Economie' offering doorstroom trajectories; one row per project plus _T",
)

fund = sa.Table(
    "fund",
    metadata,
    _code("fund_id", "Code: ESF or VCF", primary_key=True),
    sa.Column("name", sa.Text, nullable=False, comment="Full name of the fund"),
    comment="Funds that financed the ESF call: the European Social Fund and the Flemish co-financing fund; one row per fund",
)

trajectory_phase = sa.Table(
    "trajectory_phase",
    metadata,
    _code("phase_id", "Code: VOLTOOID, STOPGEZET or _T", primary_key=True),
    sa.Column("label", sa.Text, nullable=False, comment="Label as printed"),
    _is_total("phase_id"),
    _sort_order(),
    comment="How a doorstroom trajectory ended: completed (Voltooid) or stopped early (Stopgezet); one row per phase plus _T",
)

sustain_threshold = sa.Table(
    "sustain_threshold",
    metadata,
    _code("threshold_id", "Code: ANY (all doorstroom), M03, M06, M12", primary_key=True),
    sa.Column("min_months", sa.SmallInteger, nullable=False, comment="Months of uninterrupted work in the NEC required; 0 for all doorstroom"),
    sa.Column("label", sa.Text, nullable=False, comment="Column header as printed in answer 4"),
    _sort_order(),
    comment="Thresholds of sustained doorstroom: uninterrupted work in the NEC for at least 3, 6 or 12 months; one row per threshold",
)

prose_figure = sa.Table(
    "prose_figure",
    metadata,
    _code("figure_id", "Key of the figure, e.g. 'A6_SCREENED_2023'", primary_key=True),
    sa.Column("answer", sa.Text, nullable=False, comment="Answer whose text quotes the figure"),
    sa.Column("quote", sa.Text, nullable=False, comment="The sentence fragment as printed"),
    sa.Column("value", sa.Integer, nullable=False, comment="The figure"),
    sa.Column("source_line", sa.Integer, nullable=False, comment="Line of the text extraction where the figure is printed"),
    sa.Column("derivation", sa.Text, nullable=False, comment="How the figure follows from the tables; `dwh validate` checks it"),
    comment="Figures quoted in the answer's prose (not in a table) that the tables must reproduce; one row per figure",
)

source_inconsistency = sa.Table(
    "source_inconsistency",
    metadata,
    _code("identity", "The identity that fails, as `dwh reconcile` names it, e.g. 'T2c_provincie[...] = sum over phase'", primary_key=True),
    sa.Column("table_id", sa.Text, sa.ForeignKey("source_table.table_id"), nullable=False, comment="Table whose printed total disagrees"),
    sa.Column("printed", sa.Numeric, nullable=False, comment="The total as printed"),
    sa.Column("computed", sa.Numeric, nullable=False, comment="What the printed cells add up to"),
    sa.Column("note", sa.Text, nullable=False, comment="What was checked and why the figures are kept as printed"),
    info={"may_be_empty": True},  # a source without disagreements has none
    comment="Disagreements inside the source: a printed total that no placement of the printed cells reproduces. Both figures are kept as printed; one row per failing identity",
)


# ---------------------------------------------------------------- facts

def _fk(column: str, target: str, comment: str, **kw) -> sa.Column:
    return sa.Column(column, sa.Text, sa.ForeignKey(target), nullable=False, comment=comment, **kw)


def _fact(name: str, comment: str, *dims: sa.Column, value: sa.Column) -> sa.Table:
    key = ["table_id", *(d.name for d in dims)]
    return sa.Table(
        name,
        metadata,
        _fk("table_id", "source_table.table_id", "The document table the figure is printed in"),
        *dims,
        value,
        _fk("status_id", "observation_status.status_id", "Curation status of the figure (see dwh.observation_status)", server_default="printed"),
        sa.Column("source_line", sa.Integer, nullable=False, comment="Line of the text extraction of the PDF where the figure is printed"),
        sa.PrimaryKeyConstraint(*key),
        sa.CheckConstraint("source_line > 0", name="source_line_positive"),
        comment=comment,
    )


def _count(comment: str) -> sa.Column:
    return sa.Column(
        "value",
        sa.Integer,
        sa.CheckConstraint("value >= 0", name="value_not_negative"),
        nullable=False,
        comment=comment,
    )


def _measure(comment: str = "Social economy measure, or _T for both") -> sa.Column:
    return _fk("measure_id", "measure.measure_id", comment)


def _province(comment: str = "Province of residence, or _T when the table does not break down by province") -> sa.Column:
    return _fk("province_id", "province.province_id", comment)


def _age(comment: str = "Age band, or _T when the table does not break down by age") -> sa.Column:
    return _fk("age_band_id", "age_band.age_band_id", comment)


def _project(comment: str = "ESF project, or _T when the table does not break down by project") -> sa.Column:
    return _fk("esf_project_id", "esf_project.esf_project_id", comment)


def _year(column: str, comment: str) -> sa.Column:
    return _fk(column, "year.year_id", comment)


doorstroom = _fact(
    "doorstroom",
    "Answer 1: target-group workers who moved from the social economy (SEC) to the normal economic circuit (NEC), "
    "counted in the year of the first NEC job after the SEC job ended. One row per printed cell: year x measure x "
    "(province or age band; _T in the other)",
    _year("year_id", "Year of doorstroom"),
    _measure(),
    _province(),
    _age(),
    value=_count("Number of workers"),
)

trajectory_start = _fact(
    "trajectory_start",
    "Answer 2a-b: ESF-funded doorstroom trajectories, each counted once in the year it started. One row per printed "
    "cell: start year x (province, age band or ESF project; _T in the others); _T in start_year_id is the printed Totaal",
    _year("start_year_id", "Year the trajectory started, or _T for all years"),
    _province(),
    _age(),
    _project(),
    value=_count("Number of trajectories started"),
)

trajectory_end = _fact(
    "trajectory_end",
    "Answer 2c: doorstroom trajectories without internship that ended, by end year, measure and how they ended "
    "(Voltooid, Stopgezet, _T for the printed Totaal). One row per printed cell: end year x measure x phase x "
    "(province, age band or ESF project; _T in the others)",
    _year("end_year_id", "Year the trajectory ended"),
    _measure(),
    _fk("phase_id", "trajectory_phase.phase_id", "How the trajectory ended, or _T for both"),
    _province(),
    _age(),
    _project(),
    value=_count("Number of trajectories"),
)

doorstroom_after_evaluation = _fact(
    "doorstroom_after_evaluation",
    "Answer 2d: doorstroom from SEC to NEC in 2022 and 2023 of workers who followed (and completed) a doorstroom "
    "trajectory during their SEC evaluation. One row per printed cell: year of doorstroom x measure x (ESF project, "
    "province of residence or age band; _T in the others)",
    _year("doorstroom_year_id", "Year of doorstroom"),
    _measure("Measure (Type maatregel), or _T for the printed Totaal column"),
    _province("Province of residence (provincie verblijfplaats), or _T"),
    _age(),
    _project(),
    value=_count("Number of workers"),
)

payment = _fact(
    "payment",
    "Answer 2e: payments (negative: recoveries after a stop) per calendar year to the projects of ESF call 432, "
    "executed up to 12/2/2024, from the ESF or the Flemish co-financing fund (VCF). One row per printed cell: "
    "project (or _T) x fund x payment year",
    _project("ESF project, or _T for the printed Totaal row"),
    _fk("fund_id", "fund.fund_id", "Fund the money came from"),
    _year("payment_year_id", "Calendar year of the payment"),
    value=sa.Column("amount", sa.Numeric(12, 2), nullable=False, comment="Amount in euro; negative for a recovery"),
)

screening = _fact(
    "screening",
    "Answer 3: target-group workers screened by VDAB with a view to doorstroom to the NEC. One row per printed cell: "
    "year x measure x (province or age band; _T in the other)",
    _year("year_id", "Year of the screening"),
    _measure("Measure the worker was employed in"),
    _province(),
    _age(),
    value=_count("Number of workers screened"),
)

sustained_doorstroom = _fact(
    "sustained_doorstroom",
    "Answer 4: doorstroom and sustained doorstroom, i.e. uninterrupted NEC work for at least 3, 6 or 12 months "
    "after the first NEC job. One row per printed cell: year of doorstroom (or _T) x measure (or _T) x threshold",
    _year("doorstroom_year_id", "Year of doorstroom, or _T for the printed Eindtotaal"),
    _measure(),
    _fk("threshold_id", "sustain_threshold.threshold_id", "Threshold: ANY for all doorstroom, else the minimum months"),
    value=_count("Number of workers"),
)

sec_nec_sec = _fact(
    "sec_nec_sec",
    "Answer 4 (prose): transitions SEC-NEC-SEC since 2018, i.e. doorstroom to the regular circuit followed by a new "
    "job in the social economy. One row per figure: measure (or _T)",
    _year("since_year_id", "First year counted (all years since then)"),
    _measure(),
    value=_count("Number of transitions"),
)

FACT_TABLES = {
    t.name: t
    for t in (
        doorstroom,
        trajectory_start,
        trajectory_end,
        doorstroom_after_evaluation,
        payment,
        screening,
        sustained_doorstroom,
        sec_nec_sec,
    )
}

DIMENSION_TABLES = {
    t.name: t
    for t in (
        source_document,
        source_table,
        dimension,
        source_table_dimension,
        observation_status,
        measure,
        province,
        age_band,
        year,
        esf_project,
        fund,
        trajectory_phase,
        sustain_threshold,
        prose_figure,
        source_inconsistency,
    )
}

# ---------------------------------------------------------------- curation

trajectory_end_range = sa.Table(
    "trajectory_end_range",
    metadata,
    _fk("table_id", "source_table.table_id", "The document table the cell belongs to"),
    _year("end_year_id", "Year the trajectory ended (the cell's column)"),
    _measure("Social economy measure (the cell's column)"),
    _fk("phase_id", "trajectory_phase.phase_id", "Voltooid, Stopgezet or _T for a Totaal row (the cell's row)"),
    _province("Province of the cell's row, or _T when the table does not break down by province"),
    _age("Age band of the cell's row, or _T when the table does not break down by age"),
    _project("ESF project of the cell's row, or _T when the table does not break down by project"),
    sa.Column("minimum", sa.Integer, nullable=False, comment="Smallest number of trajectories any placement puts in the cell (a blank cell counts as 0)"),
    sa.Column("maximum", sa.Integer, nullable=False, comment="Largest number of trajectories any placement puts in the cell"),
    sa.Column(
        "placements",
        sa.Integer,
        nullable=False,
        comment="How many placements of the printed numbers fit every identity of the document, counted over the "
        "rows that are placed together with this cell (e.g. all Stopgezet rows of T2c_project)",
    ),
    sa.Column(
        "placements_as_chosen",
        sa.Integer,
        nullable=False,
        comment="Of those placements, how many give the cell the content dwh.trajectory_end holds (a figure, or blank when it has no row)",
    ),
    sa.PrimaryKeyConstraint("table_id", "end_year_id", "measure_id", "phase_id", "province_id", "age_band_id", "esf_project_id"),
    sa.CheckConstraint("minimum >= 0", name="minimum_not_negative"),
    sa.CheckConstraint("minimum < maximum", name="range_not_empty"),
    sa.CheckConstraint("placements_as_chosen > 0", name="chosen_placements_positive"),
    sa.CheckConstraint("placements_as_chosen < placements", name="chosen_among_placements"),
    info={
        "may_be_empty": True,  # a document whose identities fix every cell has none
        # Rules between two columns: Table Schema has no way to say them (the loader checks them).
        "not_in_datapackage": ("ck_trajectory_end_range_range_not_empty", "ck_trajectory_end_range_chosen_among_placements"),
    },
    comment="Cells of answer 2c (printed or blank) whose content differs between the placements of the printed "
    "numbers that fit the document, with the range over all of them; written by `dwh placements --write` from "
    "the text extraction and the document's identities. One row per open cell",
)

CURATION_TABLES = {trajectory_end_range.name: trajectory_end_range}

# ---------------------------------------------------------------- bookkeeping

load_history = sa.Table(
    "load_history",
    metadata,
    sa.Column("load_id", sa.Integer, sa.Identity(), primary_key=True, comment="Number of the load attempt"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, comment="When the load started"),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, comment="When the load ended"),
    sa.Column("outcome", sa.Text, nullable=False, comment="loaded: data replaced; unchanged: same data as the last load, nothing done; failed: rolled back"),
    sa.Column("data_hash", sa.Text, nullable=False, comment="SHA-256 over the curated CSV files"),
    sa.Column("views_hash", sa.Text, nullable=False, comment="SHA-256 over the view definitions in sql/"),
    sa.Column("data_source", sa.Text, nullable=False, comment="Folder the curated data was read from"),
    sa.Column("row_counts", JSONB, nullable=False, comment="Rows loaded per table"),
    sa.Column("loader_version", sa.Text, nullable=False, comment="Version of the loader package"),
    sa.Column("message", sa.Text, comment="Why a failed load failed"),
    sa.CheckConstraint("outcome IN ('loaded', 'unchanged', 'failed')", name="outcome_known"),
    comment="Every `dwh load`: one row per load attempt, newest last",
)

#: Why the warehouse may not be read until the next load (written by migrations, cleared by the load).
load_required = sa.Table(
    "load_required",
    metadata,
    sa.Column("reason", sa.Text, primary_key=True, comment="What is out of date and what to do, as `dwh show`, `export` and `reconcile` say it"),
    sa.Column("revision", sa.Text, nullable=False, comment="The migration that wrote the row"),
    sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()"), comment="When it was written"),
    comment="Why the warehouse must be loaded again before it is read: a migration that cannot bring what it adds up to "
    "date from the loaded data writes a row, and `dwh show`, `export` and `reconcile` refuse (exit 3, run dwh load) "
    "while there is one; every `dwh load` deletes them all. Empty in a warehouse that may be read",
)

LOAD_ORDER = [*DIMENSION_TABLES, *FACT_TABLES, *CURATION_TABLES]
