-- report.cijfers: One row per printed figure of every table of the document, with the labels, codes and sort orders of its dimensions and the totals flag; the eight tidy views are slices of it.
create or replace view report.cijfers as
with trajectory_end_cells as (
    -- Answer 2c: the printed figures with the range the placement search gives an open one
    -- (dwh.trajectory_end_range), and the open cells our placement leaves blank (no figure,
    -- status open). report.cellen adds the same blank cells to its list.
    select
        f.table_id, f.end_year_id, f.measure_id, f.phase_id, f.province_id, f.age_band_id, f.esf_project_id,
        f.value::numeric as waarde, f.status_id, f.source_line,
        coalesce(r.minimum, f.value)::numeric as minimum,
        coalesce(r.maximum, f.value)::numeric as maximum
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

facts as (
    -- Every fact table in one shape: a dimension a fact table does not have is NULL.
    select
        'doorstroom' as feit, table_id, year_id, measure_id, province_id, age_band_id,
        null::text as esf_project_id, null::text as phase_id, null::text as fund_id, null::text as threshold_id,
        'personen' as eenheid, value::numeric as waarde, status_id, source_line,
        -- Outside answer 2c every figure is fixed: its range is the figure itself.
        value::numeric as minimum, value::numeric as maximum
    from dwh.doorstroom
    union all
    select
        'screening', table_id, year_id, measure_id, province_id, age_band_id,
        null, null, null, null, 'screenings', value, status_id, source_line, value, value
    from dwh.screening
    union all
    select
        'trajectory_start', table_id, start_year_id, null, province_id, age_band_id,
        esf_project_id, null, null, null, 'trajecten', value, status_id, source_line, value, value
    from dwh.trajectory_start
    union all
    select
        'trajectory_end', table_id, end_year_id, measure_id, province_id, age_band_id,
        esf_project_id, phase_id, null, null, 'trajecten', waarde, status_id, source_line, minimum, maximum
    from trajectory_end_cells
    union all
    select
        'doorstroom_after_evaluation', table_id, doorstroom_year_id, measure_id, province_id, age_band_id,
        esf_project_id, null, null, null, 'personen', value, status_id, source_line, value, value
    from dwh.doorstroom_after_evaluation
    union all
    select
        'payment', table_id, payment_year_id, null, null, null,
        esf_project_id, null, fund_id, null, 'euro', amount, status_id, source_line, amount, amount
    from dwh.payment
    union all
    select
        'sustained_doorstroom', table_id, doorstroom_year_id, measure_id, null, null,
        null, null, null, threshold_id, 'personen', value, status_id, source_line, value, value
    from dwh.sustained_doorstroom
    union all
    select
        'sec_nec_sec', table_id, since_year_id, measure_id, null, null,
        null, null, null, null, 'overgangen', value, status_id, source_line, value, value
    from dwh.sec_nec_sec
),

flagged as (
    -- The one rule for totals: _T in a dimension the figure's own table breaks down by
    -- (dwh.source_table_dimension). _T elsewhere only means the table is not split that way.
    select
        f.*,
        exists (
            select 1
            from dwh.source_table_dimension as d
            inner join (
                values
                    ('year', f.year_id), ('measure', f.measure_id), ('province', f.province_id),
                    ('age_band', f.age_band_id), ('esf_project', f.esf_project_id),
                    ('trajectory_phase', f.phase_id), ('fund', f.fund_id), ('sustain_threshold', f.threshold_id)
            ) as c (dimension_id, member_id) on c.dimension_id = d.dimension_id
            where d.table_id = f.table_id and c.member_id = '_T'
        ) as is_totaal
    from facts as f
)

select
    f.feit,
    f.table_id as tabel,
    st.answer as antwoord,
    st.position as tabel_volgorde,
    y.calendar_year::integer as jaar,
    case when y.is_total then 'Totaal' else y.year_id end as jaar_label,
    m.label as maatregel,
    m.name as maatregel_naam,
    -- T4_sec_nec_sec (line 476) prints the total before its parts: Totaal, CMW, LDE.
    case when f.table_id = 'T4_sec_nec_sec' and m.is_total then 0 else m.sort_order end::smallint as maatregel_volgorde,
    p.name as provincie,
    -- T2c_provincie prints the provinces in capitals (line 170: ANTWERPEN).
    case when f.table_id = 'T2c_provincie' and not p.is_total then upper(p.name) else p.name end as provincie_gedrukt,
    case when starts_with(p.province_id, 'BE-') then p.province_id end as provincie_iso,
    p.nis_code as provincie_nis,
    p.nuts_code as provincie_nuts,
    -- T2ab_provincie (line 108) and T3_provincie (lines 440-447) print the provinces alphabetically,
    -- Brussel second; the other tables in dwh.province's order (Brussel after the Flemish provinces).
    case
        when f.table_id in ('T2ab_provincie', 'T3_provincie') then pa.alphabetical
        else p.sort_order
    end::smallint as provincie_volgorde,
    a.label as leeftijd,
    -- The tables of answer 2 print their own age labels ("-25 jaar", "25 tot en met 59 jaar").
    case when f.feit in ('trajectory_start', 'trajectory_end', 'doorstroom_after_evaluation') then a.label_esf else a.label end as leeftijd_gedrukt,
    a.sort_order as leeftijd_volgorde,
    e.project_number as esf_project_nummer,
    e.label as esf_project,
    e.organisation as organisatie,
    e.sort_order as esf_project_volgorde,
    ph.label as fase,
    ph.sort_order as fase_volgorde,
    fu.fund_id as fonds,
    fu.name as fonds_naam,
    -- T2e_betalingen prints each year's VCF column before its ESF column (line 338).
    case fu.fund_id when 'VCF' then 1 when 'ESF' then 2 end::smallint as fonds_volgorde,
    th.min_months as minimum_maanden,
    th.label as duurzaamheid,
    th.sort_order as duurzaamheid_volgorde,
    f.eenheid,
    f.waarde,
    f.minimum,
    f.maximum,
    f.is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from flagged as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as y on y.year_id = f.year_id
left join dwh.measure as m on m.measure_id = f.measure_id
left join dwh.province as p on p.province_id = f.province_id
left join (
    select province_id, row_number() over (order by is_total, name collate "C") as alphabetical
    from dwh.province
) as pa on pa.province_id = f.province_id
left join dwh.age_band as a on a.age_band_id = f.age_band_id
left join dwh.esf_project as e on e.esf_project_id = f.esf_project_id
left join dwh.trajectory_phase as ph on ph.phase_id = f.phase_id
left join dwh.fund as fu on fu.fund_id = f.fund_id
left join dwh.sustain_threshold as th on th.threshold_id = f.threshold_id
-- Refuses while a migration asks for a load (dwh.load_required): a reader gets an error, not a wrong answer.
where dwh.require_loaded();

comment on view report.cijfers is
'One row per printed figure of every table of the document, with the labels, codes and document order of its dimensions; the tidy views (doorstroom, screeningen, trajecten_gestart, ...) are slices of it, one per kind of figure. A figure is a total (is_totaal) when it is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet); which dimensions a table breaks down by is kept in dwh.source_table_dimension. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way; one tabel also means one eenheid), leave out the rows where is_totaal is true, for T4_duurzaam pick one duurzaamheid (the thresholds are nested), then sum(waarde). Open cells of answer 2c (status open) have a row each, also where our placement leaves them blank; minimum and maximum give their range.';
comment on column report.cijfers.feit is 'The dwh fact table the figure is stored in, e.g. doorstroom or payment; the tidy view of that kind of figure shows the same row';
comment on column report.cijfers.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way; one tabel also means one eenheid), leave out the rows where is_totaal is true, for T4_duurzaam pick one duurzaamheid (the thresholds are nested), then sum(waarde).';
comment on column report.cijfers.antwoord is 'Answer of the document the table belongs to';
comment on column report.cijfers.tabel_volgorde is 'Order of the table in the document';
comment on column report.cijfers.jaar is 'The year as a number (what the year means depends on feit: year of doorstroom or screening, start, end or payment year, first year counted); empty on a total over all years';
comment on column report.cijfers.jaar_label is 'The year as printed: the year, or Totaal on a total over all years';
comment on column report.cijfers.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal; empty where the figure has no measure';
comment on column report.cijfers.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.cijfers.maatregel_volgorde is 'Order of the measure in its table as printed (CMW, LDE, Totaal; T4_sec_nec_sec prints Totaal first)';
comment on column report.cijfers.provincie is 'Province, one name for every table (compare tables on it); Totaal where the figure is not split by province; empty where the figure has no province';
comment on column report.cijfers.provincie_gedrukt is 'Province as its table prints it (T2c_provincie in capitals); Totaal where the figure is not split by province';
comment on column report.cijfers.provincie_iso is 'ISO 3166-2 code of the province or of Brussels (BE-VAN, ..., BE-BRU), what map charts key on; empty for Totaal and outside Brussels/Flanders';
comment on column report.cijfers.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.cijfers.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.cijfers.provincie_volgorde is 'Order of the province in its table as printed (T2ab_provincie and T3_provincie alphabetically with Brussel second, the other tables Brussel after the Flemish provinces; Totaal last)';
comment on column report.cijfers.leeftijd is 'Age band, one label for every table (the labels of answers 1 and 3, e.g. 0-25 jaar; compare tables on it); Totaal where the figure is not split by age';
comment on column report.cijfers.leeftijd_gedrukt is 'Age band as its table prints it (answer 2: -25 jaar, 25 tot en met 59 jaar, 60 jaar en +; answers 1 and 3: 0-25 jaar, 25-59 jaar, 60 jaar en +)';
comment on column report.cijfers.leeftijd_volgorde is 'Order of the age band, youngest first (Totaal last)';
comment on column report.cijfers.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.cijfers.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not split by project';
comment on column report.cijfers.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.cijfers.esf_project_volgorde is 'Order of the ESF project in the document, i.e. by project number (Totaal last)';
comment on column report.cijfers.fase is 'How the trajectory ended: Voltooid (completed), Stopgezet (stopped early) or Totaal';
comment on column report.cijfers.fase_volgorde is 'Order of the phase in the document (Voltooid, Stopgezet, Totaal)';
comment on column report.cijfers.fonds is 'Fund: ESF or VCF';
comment on column report.cijfers.fonds_naam is 'Full name of the fund';
comment on column report.cijfers.fonds_volgorde is 'Order of the fund within a year as T2e_betalingen prints it (VCF, then ESF)';
comment on column report.cijfers.minimum_maanden is 'Months of uninterrupted NEC work counted: 0 for all doorstroom, else 3, 6 or 12';
comment on column report.cijfers.duurzaamheid is 'Column header as printed in answer 4';
comment on column report.cijfers.duurzaamheid_volgorde is 'Order of the threshold in the document (doorstroom, 3, 6, 12 months)';
comment on column report.cijfers.eenheid is 'What waarde counts: personen (doorstroom), screenings, trajecten, overgangen (SEC-NEC-SEC) or euro (payments); rows of different eenheid never add up';
comment on column report.cijfers.waarde is 'The figure, in the unit eenheid names: a number of people, trajectories, screenings or transitions, or an amount in euro (feit payment); never add up rows of different eenheid. Empty on an open cell our placement leaves blank (status open). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way; one tabel also means one eenheid), leave out the rows where is_totaal is true, for T4_duurzaam pick one duurzaamheid (the thresholds are nested), then sum(waarde).';
comment on column report.cijfers.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in this cell (a blank counts as 0); equals waarde where the cell is fixed (status printed)';
comment on column report.cijfers.maximum is 'Largest value any placement of the printed numbers that fits the document puts in this cell; equals waarde where the cell is fixed (status printed)';
comment on column report.cijfers.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way; one tabel also means one eenheid), leave out the rows where is_totaal is true, for T4_duurzaam pick one duurzaamheid (the thresholds are nested), then sum(waarde).';
comment on column report.cijfers.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers leave the cell open, anything from minimum to maximum (data/CURATION.md, report.open_cellen); inconsistent = a total that disagrees with its cells';
comment on column report.cijfers.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
