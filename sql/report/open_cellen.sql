-- report.open_cellen: one row per open cell of answer 2c, printed or blank: its content is not the same in all placements that fit the document.
-- onzekere_cellen (its name before open became the one word for such cells) reads this view.
create or replace view report.open_cellen as
with ranges as (
    select *
    from dwh.trajectory_end_range
),

chosen as (
    select
        table_id, end_year_id, measure_id, phase_id, province_id, age_band_id, esf_project_id,
        value, status_id
    from dwh.trajectory_end
),

-- The row label of the cell as the document-shaped view report.<table id> prints it.
labelled as (
    select
        r.*,
        case
            when r.table_id = 'T2c_project' then p.label
            when r.table_id = 'T2c_provincie' and f.is_total then 'Totaal ' || upper(pr.name)
            when r.table_id = 'T2c_provincie' then upper(pr.name)
            when r.table_id = 'T2c_leeftijd' and f.is_total then 'Totaal ' || a.label_esf
            when r.table_id = 'T2c_leeftijd' then a.label_esf
        end as row_label,
        case when f.is_total then null else f.label end as phase_label,
        r.end_year_id || ' ' || m.label as column_name
    from ranges as r
    inner join dwh.esf_project as p on p.esf_project_id = r.esf_project_id
    inner join dwh.province as pr on pr.province_id = r.province_id
    inner join dwh.age_band as a on a.age_band_id = r.age_band_id
    inner join dwh.trajectory_phase as f on f.phase_id = r.phase_id
    inner join dwh.measure as m on m.measure_id = r.measure_id
)

select
    l.table_id as tabel,
    concat_ws(' / ', l.row_label, l.phase_label) as rij,
    l.column_name as kolom,
    c.value as gekozen_waarde,
    l.minimum,
    l.maximum,
    l.placements as plaatsingen,
    l.placements_as_chosen as plaatsingen_zoals_gekozen,
    -- Every cell here is open, the chosen figure (status open) and the blank (no figure) alike.
    'open' as status
from labelled as l
left join chosen as c
    on
        c.table_id = l.table_id
        and c.end_year_id = l.end_year_id
        and c.measure_id = l.measure_id
        and c.phase_id = l.phase_id
        and c.province_id = l.province_id
        and c.age_band_id = l.age_band_id
        and c.esf_project_id = l.esf_project_id
-- Refuses while a migration asks for a load (dwh.load_required): a reader gets an error, not a wrong answer.
where dwh.require_loaded()
order by l.table_id, l.esf_project_id, l.province_id, l.age_band_id, l.phase_id desc, l.end_year_id, l.measure_id;

comment on view report.open_cellen is
'One row per open cell of answer 2c (today 73 cells of T2c_project: 35 printed figures and 38 blanks): a cell, printed or blank, whose content is not the same in all placements of the printed numbers that fit the document. The PDF''s text lost the empty cells and glued some numbers, and for T2c_project only column totals constrain where a number belongs; `dwh placements` recomputes every placement from the text extraction and the document''s identities (data/CURATION.md). tabel, rij and kolom locate the cell in report.<tabel> (the same key as report.cellen); the tidy view trajecten_beeindigd has a row for each with the same minimum and maximum. A blank cell counts as 0 in minimum and maximum.';
comment on column report.open_cellen.tabel is 'Table id, e.g. T2c_project; the document-shaped view is report.<tabel in lower case>';
comment on column report.open_cellen.rij is 'The row as report.<tabel> labels it: its label columns joined with '' / '', empty labels skipped, e.g. ''7738 Doorstroom Sociale Economie (Stad Gent) / Stopgezet''';
comment on column report.open_cellen.kolom is 'The column name in report.<tabel>, e.g. ''2022 CMW''';
comment on column report.open_cellen.gekozen_waarde is 'The figure the warehouse places in the cell (a documented choice, see data/CURATION.md); empty when the chosen placement leaves the cell blank';
comment on column report.open_cellen.minimum is 'Smallest number of trajectories any placement puts in the cell; a blank cell counts as 0 (the document leaves a cell blank when nobody is counted there)';
comment on column report.open_cellen.maximum is 'Largest number of trajectories any placement puts in the cell';
comment on column report.open_cellen.plaatsingen is 'How many placements fit the document, counted over the rows placed together with this cell: 3 for the Voltooid rows of T2c_project, 21,691 for its Stopgezet rows (the two are independent)';
comment on column report.open_cellen.plaatsingen_zoals_gekozen is 'Of those placements, how many give the cell the same content as the chosen one (the same figure, or blank)';
comment on column report.open_cellen.status is 'Always open: the word report.cellen, the tidy views, `dwh show` and the workbook use for a cell whose content the printed numbers leave open';
