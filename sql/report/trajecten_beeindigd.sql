-- report.trajecten_beeindigd: One row per printed figure of answer 2c: doorstroom trajectories without internship that ended (Voltooid or Stopgezet), by end year, measure and province, age band or ESF project.
create or replace view report.trajecten_beeindigd as
with facts as (
    select *
    from dwh.trajectory_end
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as eindjaar,
    d1.label as maatregel,
    d1.name as maatregel_naam,
    d2.label as fase,
    d3.name as provincie,
    d3.nis_code as provincie_nis,
    d3.nuts_code as provincie_nuts,
    d4.label as leeftijd,
    d5.project_number as esf_project_nummer,
    d5.label as esf_project,
    d5.organisation as organisatie,
    f.value as aantal,
    (f.end_year_id = '_T' or f.measure_id = '_T' or f.phase_id = '_T' or f.province_id = '_T' or f.age_band_id = '_T' or f.esf_project_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.end_year_id
inner join dwh.measure as d1 on d1.measure_id = f.measure_id
inner join dwh.trajectory_phase as d2 on d2.phase_id = f.phase_id
inner join dwh.province as d3 on d3.province_id = f.province_id
inner join dwh.age_band as d4 on d4.age_band_id = f.age_band_id
inner join dwh.esf_project as d5 on d5.esf_project_id = f.esf_project_id
order by st.position, f.source_line;

comment on view report.trajecten_beeindigd is
'One row per printed figure of answer 2c: doorstroom trajectories without internship that ended (Voltooid or Stopgezet), by end year, measure and province, age band or ESF project. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.trajecten_beeindigd.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.trajecten_beeindigd.antwoord is 'Answer of the document the table belongs to';
comment on column report.trajecten_beeindigd.eindjaar is 'Year the trajectory ended; Totaal on a printed total over all years';
comment on column report.trajecten_beeindigd.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.trajecten_beeindigd.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.trajecten_beeindigd.fase is 'How the trajectory ended: Voltooid (completed), Stopgezet (stopped early) or Totaal';
comment on column report.trajecten_beeindigd.provincie is 'Province as printed; Totaal where the figure is not broken down by province';
comment on column report.trajecten_beeindigd.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.trajecten_beeindigd.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.trajecten_beeindigd.leeftijd is 'Age band (labels of answers 1 and 3); Totaal where the figure is not broken down by age';
comment on column report.trajecten_beeindigd.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.trajecten_beeindigd.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not broken down by project';
comment on column report.trajecten_beeindigd.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.trajecten_beeindigd.aantal is 'Number of trajectories without internship that ended';
comment on column report.trajecten_beeindigd.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.trajecten_beeindigd.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.trajecten_beeindigd.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
