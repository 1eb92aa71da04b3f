"""The warehouse schema: the source document, its table catalogue, dimensions and facts.

Written from loader/schema.py (autogenerate, then reviewed); the `report` schema is created here
and its views are (re)built from sql/ by the loader after every upgrade.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 15:21:36.373030
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA dwh")
    op.execute(
        "COMMENT ON SCHEMA dwh IS 'Normalized tables of written question 221 (2024) on doorstroom: "
        "dimensions, facts (one row per printed cell) and the load history. Read the report schema for the document''s tables.'"
    )
    op.execute("CREATE SCHEMA report")
    op.execute(
        "COMMENT ON SCHEMA report IS 'One view per table of the answer to written question 221 (2024), "
        "shaped like the printed table, plus tidy views for analysis.'"
    )
    op.create_table('age_band',
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Code: Y_LT25 (under 25), Y25T59, Y_GE60, _T for all ages'),
    sa.Column('label', sa.Text(), nullable=False, comment="Label as printed in answers 1 and 3, e.g. '0-25 jaar'"),
    sa.Column('label_esf', sa.Text(), nullable=False, comment="Label as printed in the ESF tables of answer 2, e.g. '-25 jaar'"),
    sa.Column('min_age', sa.SmallInteger(), nullable=True, comment='Lowest age in the band, in years'),
    sa.Column('max_age', sa.SmallInteger(), nullable=True, comment='Highest age in the band, in years; empty when open-ended'),
    sa.Column('is_total', sa.Boolean(), sa.Computed("age_band_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False, comment='Order in which the document lists the members'),
    sa.PrimaryKeyConstraint('age_band_id', name=op.f('pk_age_band')),
    schema='dwh',
    comment='Age bands of the target-group workers; one row per band plus the total member _T'
    )
    op.create_table('esf_project',
    sa.Column('esf_project_id', sa.Text(), nullable=False, comment='Code: the ESF project number as text, or _T for all projects'),
    sa.Column('project_number', sa.Integer(), nullable=True, comment='ESF project number as printed; empty for _T'),
    sa.Column('name', sa.Text(), nullable=False, comment='Project name as printed'),
    sa.Column('organisation', sa.Text(), nullable=True, comment='Recognised organisation or consortium, as printed in brackets after the name; empty when none is printed'),
    sa.Column('label', sa.Text(), sa.Computed("CASE WHEN project_number IS NULL THEN name ELSE (project_number::text || ' ' || name || COALESCE(' (' || organisation || ')', '')) END", persisted=True), nullable=True, comment='Number, name and organisation as the document prints them in one cell'),
    sa.Column('is_total', sa.Boolean(), sa.Computed("esf_project_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.PrimaryKeyConstraint('esf_project_id', name=op.f('pk_esf_project')),
    schema='dwh',
    comment="ESF projects of call 432 'Doorstroom Sociale Economie' offering doorstroom trajectories; one row per project plus _T"
    )
    op.create_table('fund',
    sa.Column('fund_id', sa.Text(), nullable=False, comment='Code: ESF or VCF'),
    sa.Column('name', sa.Text(), nullable=False, comment='Full name of the fund'),
    sa.PrimaryKeyConstraint('fund_id', name=op.f('pk_fund')),
    schema='dwh',
    comment='Funds that financed the ESF call: the European Social Fund and the Flemish co-financing fund; one row per fund'
    )
    op.create_table('load_history',
    sa.Column('load_id', sa.Integer(), sa.Identity(always=False), nullable=False, comment='Number of the load attempt'),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False, comment='When the load started'),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False, comment='When the load ended'),
    sa.Column('outcome', sa.Text(), nullable=False, comment='loaded: data replaced; unchanged: same data as the last load, nothing done; failed: rolled back'),
    sa.Column('data_hash', sa.Text(), nullable=False, comment='SHA-256 over the curated CSV files'),
    sa.Column('views_hash', sa.Text(), nullable=False, comment='SHA-256 over the view definitions in sql/'),
    sa.Column('data_source', sa.Text(), nullable=False, comment='Folder the curated data was read from'),
    sa.Column('row_counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='Rows loaded per table'),
    sa.Column('loader_version', sa.Text(), nullable=False, comment='Version of the loader package'),
    sa.Column('message', sa.Text(), nullable=True, comment='Why a failed load failed'),
    sa.CheckConstraint("outcome IN ('loaded', 'unchanged', 'failed')", name=op.f('ck_load_history_outcome_known')),
    sa.PrimaryKeyConstraint('load_id', name=op.f('pk_load_history')),
    schema='dwh',
    comment='Every `dwh load`: one row per load attempt, newest last'
    )
    op.create_table('measure',
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Code of the social economy measure: CMW, LDE, or _T for both'),
    sa.Column('name', sa.Text(), nullable=False, comment='Full Dutch name of the measure (beleidsinstrument)'),
    sa.Column('label', sa.Text(), nullable=False, comment="Label as printed in the document's column headers"),
    sa.Column('is_total', sa.Boolean(), sa.Computed("measure_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False, comment='Order in which the document lists the members'),
    sa.PrimaryKeyConstraint('measure_id', name=op.f('pk_measure')),
    schema='dwh',
    comment='Social economy measures (beleidsinstrumenten): collectief maatwerk and lokale diensteneconomie; one row per measure plus the total member _T'
    )
    op.create_table('observation_status',
    sa.Column('status_id', sa.Text(), nullable=False, comment='Curation status code'),
    sa.Column('description', sa.Text(), nullable=False, comment='What the status means for a figure'),
    sa.PrimaryKeyConstraint('status_id', name=op.f('pk_observation_status')),
    schema='dwh',
    comment='How a figure was curated: printed and placed without doubt, placed by a choice among possibilities, or part of a disagreement inside the source. One row per status'
    )
    op.create_table('prose_figure',
    sa.Column('figure_id', sa.Text(), nullable=False, comment="Key of the figure, e.g. 'A6_SCREENED_2023'"),
    sa.Column('answer', sa.Text(), nullable=False, comment='Answer whose text quotes the figure'),
    sa.Column('quote', sa.Text(), nullable=False, comment='The sentence fragment as printed'),
    sa.Column('value', sa.Integer(), nullable=False, comment='The figure'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction where the figure is printed'),
    sa.Column('derivation', sa.Text(), nullable=False, comment='How the figure follows from the tables; `dwh validate` checks it'),
    sa.PrimaryKeyConstraint('figure_id', name=op.f('pk_prose_figure')),
    schema='dwh',
    comment="Figures quoted in the answer's prose (not in a table) that the tables must reproduce; one row per figure"
    )
    op.create_table('province',
    sa.Column('province_id', sa.Text(), nullable=False, comment='Code: ISO 3166-2 for Flemish provinces and Brussels, OUT for outside Brussels and Flanders, _T for the total'),
    sa.Column('name', sa.Text(), nullable=False, comment='Name as printed in the document'),
    sa.Column('nis_code', sa.Text(), nullable=True, comment='Statbel NIS (REFNIS) code of the province or region; empty for OUT and _T'),
    sa.Column('nuts_code', sa.Text(), nullable=True, comment='Eurostat NUTS code (NUTS 2 for provinces, NUTS 1 for Brussels); empty for OUT and _T'),
    sa.Column('is_total', sa.Boolean(), sa.Computed("province_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False, comment='Order in which the document lists the members'),
    sa.PrimaryKeyConstraint('province_id', name=op.f('pk_province')),
    schema='dwh',
    comment='Provinces of residence (and Brussels, and outside Brussels/Flanders) used in the document; one row per province plus the total member _T'
    )
    op.create_table('source_document',
    sa.Column('document_id', sa.Text(), nullable=False, comment="Key of the document, e.g. 'SV-221-2024'"),
    sa.Column('question_number', sa.Integer(), nullable=False, comment='Number of the written question (schriftelijke vraag nr.)'),
    sa.Column('asked_on', sa.Date(), nullable=False, comment='Date of the question'),
    sa.Column('author', sa.Text(), nullable=False, comment='Member of the Flemish Parliament who asked the question'),
    sa.Column('minister', sa.Text(), nullable=False, comment='Minister who answered'),
    sa.Column('minister_title', sa.Text(), nullable=False, comment="The minister's portfolio as printed"),
    sa.Column('title', sa.Text(), nullable=False, comment='Title of the question as printed'),
    sa.Column('pdf_url', sa.Text(), nullable=False, comment='Link to the PDF of the question and answer'),
    sa.Column('page_url', sa.Text(), nullable=False, comment="Link to the parliament's page of the question"),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_source_document')),
    schema='dwh',
    comment='The parliamentary document whose tables this warehouse holds: one row per document'
    )
    op.create_table('sustain_threshold',
    sa.Column('threshold_id', sa.Text(), nullable=False, comment='Code: ANY (all doorstroom), M03, M06, M12'),
    sa.Column('min_months', sa.SmallInteger(), nullable=False, comment='Months of uninterrupted work in the NEC required; 0 for all doorstroom'),
    sa.Column('label', sa.Text(), nullable=False, comment='Column header as printed in answer 4'),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False, comment='Order in which the document lists the members'),
    sa.PrimaryKeyConstraint('threshold_id', name=op.f('pk_sustain_threshold')),
    schema='dwh',
    comment='Thresholds of sustained doorstroom: uninterrupted work in the NEC for at least 3, 6 or 12 months; one row per threshold'
    )
    op.create_table('trajectory_phase',
    sa.Column('phase_id', sa.Text(), nullable=False, comment='Code: VOLTOOID, STOPGEZET or _T'),
    sa.Column('label', sa.Text(), nullable=False, comment='Label as printed'),
    sa.Column('is_total', sa.Boolean(), sa.Computed("phase_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.Column('sort_order', sa.SmallInteger(), nullable=False, comment='Order in which the document lists the members'),
    sa.PrimaryKeyConstraint('phase_id', name=op.f('pk_trajectory_phase')),
    schema='dwh',
    comment='How a doorstroom trajectory ended: completed (Voltooid) or stopped early (Stopgezet); one row per phase plus _T'
    )
    op.create_table('year',
    sa.Column('year_id', sa.Text(), nullable=False, comment="Code: the calendar year ('2018'...'2024') or _T for all years"),
    sa.Column('calendar_year', sa.SmallInteger(), nullable=True, comment='The calendar year; empty for _T'),
    sa.Column('is_total', sa.Boolean(), sa.Computed("year_id = '_T'", persisted=True), nullable=True, comment="True for the member '_T' that stands for the total over this dimension"),
    sa.PrimaryKeyConstraint('year_id', name=op.f('pk_year')),
    schema='dwh',
    comment='Calendar years; facts say which role the year plays (start year, end year, year of doorstroom, payment year). One row per year plus _T'
    )
    op.create_table('source_table',
    sa.Column('table_id', sa.Text(), nullable=False, comment="Id of the table, as in tables.md, e.g. 'T2ab_project'; the report view is report.<id in lower case>"),
    sa.Column('document_id', sa.Text(), nullable=False, comment='Document the table is printed in'),
    sa.Column('answer', sa.Text(), nullable=False, comment="Answer (and sub-question) the table belongs to, e.g. '2c'"),
    sa.Column('position', sa.SmallInteger(), nullable=False, comment='Order of the table in the document'),
    sa.Column('caption', sa.Text(), nullable=False, comment='Caption or lead-in text as printed above the table'),
    sa.Column('grain', sa.Text(), nullable=False, comment="What one row of the document's table is"),
    sa.Column('fact_table', sa.Text(), nullable=False, comment="The dwh table that holds the table's cells"),
    sa.Column('source_lines', sa.Text(), nullable=False, comment='Line range of the table in the text extraction of the PDF'),
    sa.Column('printed_cells', sa.SmallInteger(), nullable=False, comment='How many cells the document prints in the table, printed totals included; the facts hold exactly these'),
    sa.ForeignKeyConstraint(['document_id'], ['dwh.source_document.document_id'], name=op.f('fk_source_table_document_id_source_document')),
    sa.PrimaryKeyConstraint('table_id', name=op.f('pk_source_table')),
    sa.UniqueConstraint('position', name=op.f('uq_source_table_position')),
    schema='dwh',
    comment='Catalogue of the tables printed in the document: one row per table'
    )
    op.create_table('doorstroom',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('year_id', sa.Text(), nullable=False, comment='Year of doorstroom'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Social economy measure, or _T for both'),
    sa.Column('province_id', sa.Text(), nullable=False, comment='Province of residence, or _T when the table does not break down by province'),
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Age band, or _T when the table does not break down by age'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of workers'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_doorstroom_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_doorstroom_value_not_negative')),
    sa.ForeignKeyConstraint(['age_band_id'], ['dwh.age_band.age_band_id'], name=op.f('fk_doorstroom_age_band_id_age_band')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_doorstroom_measure_id_measure')),
    sa.ForeignKeyConstraint(['province_id'], ['dwh.province.province_id'], name=op.f('fk_doorstroom_province_id_province')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_doorstroom_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_doorstroom_table_id_source_table')),
    sa.ForeignKeyConstraint(['year_id'], ['dwh.year.year_id'], name=op.f('fk_doorstroom_year_id_year')),
    sa.PrimaryKeyConstraint('table_id', 'year_id', 'measure_id', 'province_id', 'age_band_id', name=op.f('pk_doorstroom')),
    schema='dwh',
    comment='Answer 1: target-group workers who moved from the social economy (SEC) to the normal economic circuit (NEC), counted in the year of the first NEC job after the SEC job ended. One row per printed cell: year x measure x (province or age band; _T in the other)'
    )
    op.create_table('doorstroom_after_evaluation',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('doorstroom_year_id', sa.Text(), nullable=False, comment='Year of doorstroom'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Measure (Type maatregel), or _T for the printed Totaal column'),
    sa.Column('province_id', sa.Text(), nullable=False, comment='Province of residence (provincie verblijfplaats), or _T'),
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Age band, or _T when the table does not break down by age'),
    sa.Column('esf_project_id', sa.Text(), nullable=False, comment='ESF project, or _T when the table does not break down by project'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of workers'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_doorstroom_after_evaluation_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_doorstroom_after_evaluation_value_not_negative')),
    sa.ForeignKeyConstraint(['age_band_id'], ['dwh.age_band.age_band_id'], name=op.f('fk_doorstroom_after_evaluation_age_band_id_age_band')),
    sa.ForeignKeyConstraint(['doorstroom_year_id'], ['dwh.year.year_id'], name=op.f('fk_doorstroom_after_evaluation_doorstroom_year_id_year')),
    sa.ForeignKeyConstraint(['esf_project_id'], ['dwh.esf_project.esf_project_id'], name=op.f('fk_doorstroom_after_evaluation_esf_project_id_esf_project')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_doorstroom_after_evaluation_measure_id_measure')),
    sa.ForeignKeyConstraint(['province_id'], ['dwh.province.province_id'], name=op.f('fk_doorstroom_after_evaluation_province_id_province')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_doorstroom_after_evaluation_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_doorstroom_after_evaluation_table_id_source_table')),
    sa.PrimaryKeyConstraint('table_id', 'doorstroom_year_id', 'measure_id', 'province_id', 'age_band_id', 'esf_project_id', name=op.f('pk_doorstroom_after_evaluation')),
    schema='dwh',
    comment='Answer 2d: doorstroom from SEC to NEC in 2022 and 2023 of workers who followed (and completed) a doorstroom trajectory during their SEC evaluation. One row per printed cell: year of doorstroom x measure x (ESF project, province of residence or age band; _T in the others)'
    )
    op.create_table('payment',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('esf_project_id', sa.Text(), nullable=False, comment='ESF project, or _T for the printed Totaal row'),
    sa.Column('fund_id', sa.Text(), nullable=False, comment='Fund the money came from'),
    sa.Column('payment_year_id', sa.Text(), nullable=False, comment='Calendar year of the payment'),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False, comment='Amount in euro; negative for a recovery'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_payment_source_line_positive')),
    sa.ForeignKeyConstraint(['esf_project_id'], ['dwh.esf_project.esf_project_id'], name=op.f('fk_payment_esf_project_id_esf_project')),
    sa.ForeignKeyConstraint(['fund_id'], ['dwh.fund.fund_id'], name=op.f('fk_payment_fund_id_fund')),
    sa.ForeignKeyConstraint(['payment_year_id'], ['dwh.year.year_id'], name=op.f('fk_payment_payment_year_id_year')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_payment_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_payment_table_id_source_table')),
    sa.PrimaryKeyConstraint('table_id', 'esf_project_id', 'fund_id', 'payment_year_id', name=op.f('pk_payment')),
    schema='dwh',
    comment='Answer 2e: payments (negative: recoveries after a stop) per calendar year to the projects of ESF call 432, executed up to 12/2/2024, from the ESF or the Flemish co-financing fund (VCF). One row per printed cell: project (or _T) x fund x payment year'
    )
    op.create_table('screening',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('year_id', sa.Text(), nullable=False, comment='Year of the screening'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Measure the worker was employed in'),
    sa.Column('province_id', sa.Text(), nullable=False, comment='Province of residence, or _T when the table does not break down by province'),
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Age band, or _T when the table does not break down by age'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of workers screened'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_screening_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_screening_value_not_negative')),
    sa.ForeignKeyConstraint(['age_band_id'], ['dwh.age_band.age_band_id'], name=op.f('fk_screening_age_band_id_age_band')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_screening_measure_id_measure')),
    sa.ForeignKeyConstraint(['province_id'], ['dwh.province.province_id'], name=op.f('fk_screening_province_id_province')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_screening_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_screening_table_id_source_table')),
    sa.ForeignKeyConstraint(['year_id'], ['dwh.year.year_id'], name=op.f('fk_screening_year_id_year')),
    sa.PrimaryKeyConstraint('table_id', 'year_id', 'measure_id', 'province_id', 'age_band_id', name=op.f('pk_screening')),
    schema='dwh',
    comment='Answer 3: target-group workers screened by VDAB with a view to doorstroom to the NEC. One row per printed cell: year x measure x (province or age band; _T in the other)'
    )
    op.create_table('sec_nec_sec',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('since_year_id', sa.Text(), nullable=False, comment='First year counted (all years since then)'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Social economy measure, or _T for both'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of transitions'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_sec_nec_sec_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_sec_nec_sec_value_not_negative')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_sec_nec_sec_measure_id_measure')),
    sa.ForeignKeyConstraint(['since_year_id'], ['dwh.year.year_id'], name=op.f('fk_sec_nec_sec_since_year_id_year')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_sec_nec_sec_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_sec_nec_sec_table_id_source_table')),
    sa.PrimaryKeyConstraint('table_id', 'since_year_id', 'measure_id', name=op.f('pk_sec_nec_sec')),
    schema='dwh',
    comment='Answer 4 (prose): transitions SEC-NEC-SEC since 2018, i.e. doorstroom to the regular circuit followed by a new job in the social economy. One row per figure: measure (or _T)'
    )
    op.create_table('source_inconsistency',
    sa.Column('identity', sa.Text(), nullable=False, comment="The identity that fails, as `dwh reconcile` names it, e.g. 'T2c_provincie[...] = sum over phase'"),
    sa.Column('table_id', sa.Text(), nullable=False, comment='Table whose printed total disagrees'),
    sa.Column('printed', sa.Numeric(), nullable=False, comment='The total as printed'),
    sa.Column('computed', sa.Numeric(), nullable=False, comment='What the printed cells add up to'),
    sa.Column('note', sa.Text(), nullable=False, comment='What was checked and why the figures are kept as printed'),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_source_inconsistency_table_id_source_table')),
    sa.PrimaryKeyConstraint('identity', name=op.f('pk_source_inconsistency')),
    schema='dwh',
    comment='Disagreements inside the source: a printed total that no placement of the printed cells reproduces. Both figures are kept as printed; one row per failing identity',
    info={'may_be_empty': True}
    )
    op.create_table('sustained_doorstroom',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('doorstroom_year_id', sa.Text(), nullable=False, comment='Year of doorstroom, or _T for the printed Eindtotaal'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Social economy measure, or _T for both'),
    sa.Column('threshold_id', sa.Text(), nullable=False, comment='Threshold: ANY for all doorstroom, else the minimum months'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of workers'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_sustained_doorstroom_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_sustained_doorstroom_value_not_negative')),
    sa.ForeignKeyConstraint(['doorstroom_year_id'], ['dwh.year.year_id'], name=op.f('fk_sustained_doorstroom_doorstroom_year_id_year')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_sustained_doorstroom_measure_id_measure')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_sustained_doorstroom_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_sustained_doorstroom_table_id_source_table')),
    sa.ForeignKeyConstraint(['threshold_id'], ['dwh.sustain_threshold.threshold_id'], name=op.f('fk_sustained_doorstroom_threshold_id_sustain_threshold')),
    sa.PrimaryKeyConstraint('table_id', 'doorstroom_year_id', 'measure_id', 'threshold_id', name=op.f('pk_sustained_doorstroom')),
    schema='dwh',
    comment='Answer 4: doorstroom and sustained doorstroom, i.e. uninterrupted NEC work for at least 3, 6 or 12 months after the first NEC job. One row per printed cell: year of doorstroom (or _T) x measure (or _T) x threshold'
    )
    op.create_table('trajectory_end',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('end_year_id', sa.Text(), nullable=False, comment='Year the trajectory ended'),
    sa.Column('measure_id', sa.Text(), nullable=False, comment='Social economy measure, or _T for both'),
    sa.Column('phase_id', sa.Text(), nullable=False, comment='How the trajectory ended, or _T for both'),
    sa.Column('province_id', sa.Text(), nullable=False, comment='Province of residence, or _T when the table does not break down by province'),
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Age band, or _T when the table does not break down by age'),
    sa.Column('esf_project_id', sa.Text(), nullable=False, comment='ESF project, or _T when the table does not break down by project'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of trajectories'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_trajectory_end_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_trajectory_end_value_not_negative')),
    sa.ForeignKeyConstraint(['age_band_id'], ['dwh.age_band.age_band_id'], name=op.f('fk_trajectory_end_age_band_id_age_band')),
    sa.ForeignKeyConstraint(['end_year_id'], ['dwh.year.year_id'], name=op.f('fk_trajectory_end_end_year_id_year')),
    sa.ForeignKeyConstraint(['esf_project_id'], ['dwh.esf_project.esf_project_id'], name=op.f('fk_trajectory_end_esf_project_id_esf_project')),
    sa.ForeignKeyConstraint(['measure_id'], ['dwh.measure.measure_id'], name=op.f('fk_trajectory_end_measure_id_measure')),
    sa.ForeignKeyConstraint(['phase_id'], ['dwh.trajectory_phase.phase_id'], name=op.f('fk_trajectory_end_phase_id_trajectory_phase')),
    sa.ForeignKeyConstraint(['province_id'], ['dwh.province.province_id'], name=op.f('fk_trajectory_end_province_id_province')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_trajectory_end_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_trajectory_end_table_id_source_table')),
    sa.PrimaryKeyConstraint('table_id', 'end_year_id', 'measure_id', 'phase_id', 'province_id', 'age_band_id', 'esf_project_id', name=op.f('pk_trajectory_end')),
    schema='dwh',
    comment='Answer 2c: doorstroom trajectories without internship that ended, by end year, measure and how they ended (Voltooid, Stopgezet, _T for the printed Totaal). One row per printed cell: end year x measure x phase x (province, age band or ESF project; _T in the others)'
    )
    op.create_table('trajectory_start',
    sa.Column('table_id', sa.Text(), nullable=False, comment='The document table the figure is printed in'),
    sa.Column('start_year_id', sa.Text(), nullable=False, comment='Year the trajectory started, or _T for all years'),
    sa.Column('province_id', sa.Text(), nullable=False, comment='Province of residence, or _T when the table does not break down by province'),
    sa.Column('age_band_id', sa.Text(), nullable=False, comment='Age band, or _T when the table does not break down by age'),
    sa.Column('esf_project_id', sa.Text(), nullable=False, comment='ESF project, or _T when the table does not break down by project'),
    sa.Column('value', sa.Integer(), nullable=False, comment='Number of trajectories started'),
    sa.Column('status_id', sa.Text(), server_default='printed', nullable=False, comment='Curation status of the figure (see dwh.observation_status)'),
    sa.Column('source_line', sa.Integer(), nullable=False, comment='Line of the text extraction of the PDF where the figure is printed'),
    sa.CheckConstraint('source_line > 0', name=op.f('ck_trajectory_start_source_line_positive')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_trajectory_start_value_not_negative')),
    sa.ForeignKeyConstraint(['age_band_id'], ['dwh.age_band.age_band_id'], name=op.f('fk_trajectory_start_age_band_id_age_band')),
    sa.ForeignKeyConstraint(['esf_project_id'], ['dwh.esf_project.esf_project_id'], name=op.f('fk_trajectory_start_esf_project_id_esf_project')),
    sa.ForeignKeyConstraint(['province_id'], ['dwh.province.province_id'], name=op.f('fk_trajectory_start_province_id_province')),
    sa.ForeignKeyConstraint(['start_year_id'], ['dwh.year.year_id'], name=op.f('fk_trajectory_start_start_year_id_year')),
    sa.ForeignKeyConstraint(['status_id'], ['dwh.observation_status.status_id'], name=op.f('fk_trajectory_start_status_id_observation_status')),
    sa.ForeignKeyConstraint(['table_id'], ['dwh.source_table.table_id'], name=op.f('fk_trajectory_start_table_id_source_table')),
    sa.PrimaryKeyConstraint('table_id', 'start_year_id', 'province_id', 'age_band_id', 'esf_project_id', name=op.f('pk_trajectory_start')),
    schema='dwh',
    comment='Answer 2a-b: ESF-funded doorstroom trajectories, each counted once in the year it started. One row per printed cell: start year x (province, age band or ESF project; _T in the others); _T in start_year_id is the printed Totaal'
    )


def downgrade() -> None:
    # The views are not Alembic's, but they depend on these tables: they go with their schema.
    op.execute("DROP SCHEMA report CASCADE")
    op.drop_table('trajectory_start', schema='dwh')
    op.drop_table('trajectory_end', schema='dwh')
    op.drop_table('sustained_doorstroom', schema='dwh')
    op.drop_table('source_inconsistency', schema='dwh')
    op.drop_table('sec_nec_sec', schema='dwh')
    op.drop_table('screening', schema='dwh')
    op.drop_table('payment', schema='dwh')
    op.drop_table('doorstroom_after_evaluation', schema='dwh')
    op.drop_table('doorstroom', schema='dwh')
    op.drop_table('source_table', schema='dwh')
    op.drop_table('year', schema='dwh')
    op.drop_table('trajectory_phase', schema='dwh')
    op.drop_table('sustain_threshold', schema='dwh')
    op.drop_table('source_document', schema='dwh')
    op.drop_table('province', schema='dwh')
    op.drop_table('prose_figure', schema='dwh')
    op.drop_table('observation_status', schema='dwh')
    op.drop_table('measure', schema='dwh')
    op.drop_table('load_history', schema='dwh')
    op.drop_table('fund', schema='dwh')
    op.drop_table('esf_project', schema='dwh')
    op.drop_table('age_band', schema='dwh')
    op.execute("DROP SCHEMA dwh")
