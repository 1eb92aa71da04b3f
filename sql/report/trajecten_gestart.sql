-- report.trajecten_gestart: One row per printed figure of answer 2a-b: ESF doorstroom trajectories, each counted in the year it started, by province, age band or ESF project.
create or replace view report.trajecten_gestart as
with facts as (
    select *
    from dwh.trajectory_start
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as startjaar,
    d1.name as provincie,
    d1.nis_code as provincie_nis,
    d1.nuts_code as provincie_nuts,
    d2.label as leeftijd,
    d3.project_number as esf_project_nummer,
    d3.label as esf_project,
    d3.organisation as organisatie,
    f.value as aantal,
    (f.start_year_id = '_T' or f.province_id = '_T' or f.age_band_id = '_T' or f.esf_project_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.start_year_id
inner join dwh.province as d1 on d1.province_id = f.province_id
inner join dwh.age_band as d2 on d2.age_band_id = f.age_band_id
inner join dwh.esf_project as d3 on d3.esf_project_id = f.esf_project_id
order by st.position, f.source_line;

comment on view report.trajecten_gestart is
'One row per printed figure of answer 2a-b: ESF doorstroom trajectories, each counted in the year it started, by province, age band or ESF project. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.trajecten_gestart.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.trajecten_gestart.antwoord is 'Answer of the document the table belongs to';
comment on column report.trajecten_gestart.startjaar is 'Year the trajectory started; Totaal on a printed total over all years';
comment on column report.trajecten_gestart.provincie is 'Province as printed; Totaal where the figure is not broken down by province';
comment on column report.trajecten_gestart.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.trajecten_gestart.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.trajecten_gestart.leeftijd is 'Age band (labels of answers 1 and 3); Totaal where the figure is not broken down by age';
comment on column report.trajecten_gestart.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.trajecten_gestart.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not broken down by project';
comment on column report.trajecten_gestart.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.trajecten_gestart.aantal is 'Number of ESF doorstroom trajectories started';
comment on column report.trajecten_gestart.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.trajecten_gestart.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.trajecten_gestart.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
