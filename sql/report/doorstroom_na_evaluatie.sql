-- report.doorstroom_na_evaluatie: One row per printed figure of answer 2d: doorstroom in 2022 and 2023 of workers who completed a doorstroom trajectory during their SEC evaluation, by measure and ESF project, province of residence or age band.
create or replace view report.doorstroom_na_evaluatie as
with facts as (
    select *
    from dwh.doorstroom_after_evaluation
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as jaar_doorstroom,
    d1.label as maatregel,
    d1.name as maatregel_naam,
    d2.name as provincie,
    d2.nis_code as provincie_nis,
    d2.nuts_code as provincie_nuts,
    d3.label as leeftijd,
    d4.project_number as esf_project_nummer,
    d4.label as esf_project,
    d4.organisation as organisatie,
    f.value as aantal,
    (f.doorstroom_year_id = '_T' or f.measure_id = '_T' or f.province_id = '_T' or f.age_band_id = '_T' or f.esf_project_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.doorstroom_year_id
inner join dwh.measure as d1 on d1.measure_id = f.measure_id
inner join dwh.province as d2 on d2.province_id = f.province_id
inner join dwh.age_band as d3 on d3.age_band_id = f.age_band_id
inner join dwh.esf_project as d4 on d4.esf_project_id = f.esf_project_id
order by st.position, f.source_line;

comment on view report.doorstroom_na_evaluatie is
'One row per printed figure of answer 2d: doorstroom in 2022 and 2023 of workers who completed a doorstroom trajectory during their SEC evaluation, by measure and ESF project, province of residence or age band. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.doorstroom_na_evaluatie.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.doorstroom_na_evaluatie.antwoord is 'Answer of the document the table belongs to';
comment on column report.doorstroom_na_evaluatie.jaar_doorstroom is 'Year of doorstroom; Totaal on a printed total over all years';
comment on column report.doorstroom_na_evaluatie.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.doorstroom_na_evaluatie.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.doorstroom_na_evaluatie.provincie is 'Province as printed; Totaal where the figure is not broken down by province';
comment on column report.doorstroom_na_evaluatie.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.doorstroom_na_evaluatie.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.doorstroom_na_evaluatie.leeftijd is 'Age band (labels of answers 1 and 3); Totaal where the figure is not broken down by age';
comment on column report.doorstroom_na_evaluatie.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.doorstroom_na_evaluatie.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not broken down by project';
comment on column report.doorstroom_na_evaluatie.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.doorstroom_na_evaluatie.aantal is 'Number of workers who moved to the NEC after an evaluation with a completed trajectory';
comment on column report.doorstroom_na_evaluatie.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.doorstroom_na_evaluatie.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.doorstroom_na_evaluatie.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
