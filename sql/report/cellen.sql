-- cellen: every printed figure and every open blank cell, with its place in the document-shaped view report.<table id>, its curation status and its range.
-- The row and column labels are built exactly as the 18 views build them, so (tabel, rij, kolom)
-- names one cell of report.<tabel>; tests/test_output.py checks that every figure of every view
-- has one row here with the same value, and nothing else does.
create or replace view report.cellen as
with doorstroom as (
    -- Answer 1: per province or per age band (the other is _T), columns are the measures.
    select
        f.table_id as tabel,
        concat_ws(' / ',
            case when not p.is_total then p.name end,
            case when not a.is_total then a.label end) as rij,
        m.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        -- A figure outside answer 2c is fixed: its range is the figure itself (filled in below).
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.doorstroom as f
    inner join dwh.measure as m on m.measure_id = f.measure_id
    inner join dwh.province as p on p.province_id = f.province_id
    inner join dwh.age_band as a on a.age_band_id = f.age_band_id
),

screening as (
    -- Answer 3: laid out like answer 1.
    select
        f.table_id as tabel,
        concat_ws(' / ',
            case when not p.is_total then p.name end,
            case when not a.is_total then a.label end) as rij,
        m.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.screening as f
    inner join dwh.measure as m on m.measure_id = f.measure_id
    inner join dwh.province as p on p.province_id = f.province_id
    inner join dwh.age_band as a on a.age_band_id = f.age_band_id
),

trajectory_start as (
    -- Answer 2a-b: rows are start years (province, age) or projects; columns the other way round.
    select
        f.table_id as tabel,
        case
            when f.table_id = 'T2ab_project' then e.label
            when y.is_total then 'Totaal'
            else y.year_id
        end as rij,
        case
            when f.table_id = 'T2ab_provincie' then p.name
            when f.table_id = 'T2ab_leeftijd' then a.label_esf
            when y.is_total then 'Totaal'
            else y.year_id
        end as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.trajectory_start as f
    inner join dwh.year as y on y.year_id = f.start_year_id
    inner join dwh.province as p on p.province_id = f.province_id
    inner join dwh.age_band as a on a.age_band_id = f.age_band_id
    inner join dwh.esf_project as e on e.esf_project_id = f.esf_project_id
),

trajectory_end_cells as (
    -- Answer 2c: the printed figures, with the range the placement search gives an open one
    -- (dwh.trajectory_end_range), and the cells our placement leaves blank that other placements
    -- fill (status open, no figure). report.cijfers adds the same blank cells to the tidy views.
    select
        f.table_id, f.end_year_id, f.measure_id, f.phase_id, f.province_id, f.age_band_id, f.esf_project_id,
        f.value, f.status_id, f.source_line,
        coalesce(r.minimum, f.value) as minimum,
        coalesce(r.maximum, f.value) as maximum
    from dwh.trajectory_end as f
    left join dwh.trajectory_end_range as r
        on
            r.table_id = f.table_id and r.end_year_id = f.end_year_id and r.measure_id = f.measure_id
            and r.phase_id = f.phase_id and r.province_id = f.province_id and r.age_band_id = f.age_band_id
            and r.esf_project_id = f.esf_project_id
    union all
    select
        r.table_id, r.end_year_id, r.measure_id, r.phase_id, r.province_id, r.age_band_id, r.esf_project_id,
        null, 'open', row_line.source_line, r.minimum, r.maximum
    from dwh.trajectory_end_range as r
    -- The line that prints the cell's row: the line of the row's figures.
    cross join lateral (
        select min(t.source_line) as source_line
        from dwh.trajectory_end as t
        where
            t.table_id = r.table_id and t.phase_id = r.phase_id and t.province_id = r.province_id
            and t.age_band_id = r.age_band_id and t.esf_project_id = r.esf_project_id
    ) as row_line
    where not exists (
        select 1
        from dwh.trajectory_end as t
        where
            t.table_id = r.table_id and t.end_year_id = r.end_year_id and t.measure_id = r.measure_id
            and t.phase_id = r.phase_id and t.province_id = r.province_id and t.age_band_id = r.age_band_id
            and t.esf_project_id = r.esf_project_id
    )
),

trajectory_end as (
    -- Answer 2c: rows are (province, age band or project) and phase; columns end year and measure.
    select
        f.table_id as tabel,
        concat_ws(' / ',
            case
                when f.table_id = 'T2c_provincie' and p.is_total then 'Eindtotaal'
                when f.table_id = 'T2c_provincie' and ph.is_total then 'Totaal ' || upper(p.name)
                when f.table_id = 'T2c_provincie' then upper(p.name)
                when f.table_id = 'T2c_leeftijd' and a.is_total then 'Eindtotaal'
                when f.table_id = 'T2c_leeftijd' and ph.is_total then 'Totaal ' || a.label_esf
                when f.table_id = 'T2c_leeftijd' then a.label_esf
                when e.is_total then 'Eindtotaal'
                else e.label
            end,
            case when not ph.is_total then ph.label end) as rij,
        f.end_year_id || ' ' || m.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        f.minimum::numeric as minimum,
        f.maximum::numeric as maximum
    from trajectory_end_cells as f
    inner join dwh.measure as m on m.measure_id = f.measure_id
    inner join dwh.trajectory_phase as ph on ph.phase_id = f.phase_id
    inner join dwh.province as p on p.province_id = f.province_id
    inner join dwh.age_band as a on a.age_band_id = f.age_band_id
    inner join dwh.esf_project as e on e.esf_project_id = f.esf_project_id
),

after_evaluation as (
    -- Answer 2d: rows are year and (project, province or age band), with a Totaal YEAR row.
    select
        f.table_id as tabel,
        concat_ws(' / ',
            case when p.is_total and a.is_total and e.is_total then 'Totaal ' || y.year_id else y.year_id end,
            case
                when not p.is_total then p.name
                when not a.is_total then a.label_esf
                when not e.is_total then e.label
            end) as rij,
        m.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.doorstroom_after_evaluation as f
    inner join dwh.year as y on y.year_id = f.doorstroom_year_id
    inner join dwh.measure as m on m.measure_id = f.measure_id
    inner join dwh.province as p on p.province_id = f.province_id
    inner join dwh.age_band as a on a.age_band_id = f.age_band_id
    inner join dwh.esf_project as e on e.esf_project_id = f.esf_project_id
),

payment as (
    -- Answer 2e: rows are projects, columns fund and payment year as printed ("VCF-2018").
    select
        f.table_id as tabel,
        e.label as rij,
        f.fund_id || '-' || f.payment_year_id as kolom,
        f.amount as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.payment as f
    inner join dwh.esf_project as e on e.esf_project_id = f.esf_project_id
),

sustained as (
    -- Answer 4: rows are year and measure with Totaal YEAR and Eindtotaal rows; columns the thresholds.
    select
        f.table_id as tabel,
        concat_ws(' / ',
            case
                when y.is_total then 'Eindtotaal'
                when m.is_total then 'Totaal ' || y.year_id
                else y.year_id
            end,
            case when not m.is_total then m.label end) as rij,
        t.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.sustained_doorstroom as f
    inner join dwh.year as y on y.year_id = f.doorstroom_year_id
    inner join dwh.measure as m on m.measure_id = f.measure_id
    inner join dwh.sustain_threshold as t on t.threshold_id = f.threshold_id
),

sec_nec_sec as (
    -- Answer 4, prose: one row without labels; columns Totaal, CMW, LDE.
    select
        f.table_id as tabel,
        '' as rij,
        m.label as kolom,
        f.value::numeric as waarde,
        f.status_id as status,
        f.source_line as bronregel,
        null::numeric as minimum,
        null::numeric as maximum
    from dwh.sec_nec_sec as f
    inner join dwh.measure as m on m.measure_id = f.measure_id
),

all_cells as (
    select * from doorstroom
    union all select * from screening
    union all select * from trajectory_start
    union all select * from trajectory_end
    union all select * from after_evaluation
    union all select * from payment
    union all select * from sustained
    union all select * from sec_nec_sec
)

select
    c.tabel,
    c.rij,
    c.kolom,
    c.waarde,
    c.status,
    coalesce(c.minimum, c.waarde) as minimum,
    coalesce(c.maximum, c.waarde) as maximum,
    c.bronregel
from all_cells as c
inner join dwh.source_table as s on s.table_id = c.tabel
-- Refuses while a migration asks for a load (dwh.load_required): a reader gets an error, not a wrong answer.
where dwh.require_loaded()
order by s.position, c.rij, c.kolom;

comment on view report.cellen is
'One row per figure the document prints, in any of its 18 tables, and one per open blank cell: where it stands in the document-shaped view report.<tabel in lower case> (row labels and column name), its value, its curation status and the smallest and largest value the printed numbers allow there. Status printed: fixed, every placement of the printed numbers that fits the document puts this figure in this cell (minimum = maximum = waarde). Status open: the printed numbers leave the cell open; either a printed figure that other placements put elsewhere, or a cell our placement leaves blank (waarde empty) that other placements fill; the cell holds minimum to maximum (data/CURATION.md). Status inconsistent: a total that disagrees with its cells. Join on (tabel, rij, kolom) to see how sure each cell of a report view is; `dwh show` and `dwh export` mark every open cell. A blank cell that every placement leaves blank has no row.';
comment on column report.cellen.tabel is 'Table id as in dwh.source_table, e.g. T2c_project; the view is report.<tabel in lower case>';
comment on column report.cellen.rij is 'The row labels of the cell in report.<tabel>, empty labels skipped, joined with '' / '' (e.g. ''7738 Doorstroom Sociale Economie (Stad Gent) / Stopgezet''); empty for a table without row labels';
comment on column report.cellen.kolom is 'The column name of the cell in report.<tabel>, e.g. ''2022 CMW''';
comment on column report.cellen.waarde is 'The figure as printed: a count, or an amount in euro for T2e_betalingen; empty on an open cell our placement leaves blank';
comment on column report.cellen.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers allow anything from minimum to maximum here (a figure placed by a documented choice, or a blank other placements fill; data/CURATION.md); inconsistent = a total that disagrees with its cells';
comment on column report.cellen.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in the cell (a blank counts as 0); equals waarde when the status is printed';
comment on column report.cellen.maximum is 'Largest value any placement of the printed numbers that fits the document puts in the cell; equals waarde when the status is printed';
comment on column report.cellen.bronregel is 'Line of the text extraction of the PDF where the figure, or the row of an open blank cell, is printed';
