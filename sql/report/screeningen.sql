-- report.screeningen: One row per printed figure of answer 3: VDAB screenings with a view to doorstroom in 2023, by measure and province or age band.
create or replace view report.screeningen as
with facts as (
    select *
    from dwh.screening
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as jaar,
    d1.label as maatregel,
    d1.name as maatregel_naam,
    d2.name as provincie,
    d2.nis_code as provincie_nis,
    d2.nuts_code as provincie_nuts,
    d3.label as leeftijd,
    f.value as aantal,
    (f.year_id = '_T' or f.measure_id = '_T' or f.province_id = '_T' or f.age_band_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.year_id
inner join dwh.measure as d1 on d1.measure_id = f.measure_id
inner join dwh.province as d2 on d2.province_id = f.province_id
inner join dwh.age_band as d3 on d3.age_band_id = f.age_band_id
order by st.position, f.source_line;

comment on view report.screeningen is
'One row per printed figure of answer 3: VDAB screenings with a view to doorstroom in 2023, by measure and province or age band. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.screeningen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.screeningen.antwoord is 'Answer of the document the table belongs to';
comment on column report.screeningen.jaar is 'Year; Totaal on a printed total over all years';
comment on column report.screeningen.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.screeningen.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.screeningen.provincie is 'Province as printed; Totaal where the figure is not broken down by province';
comment on column report.screeningen.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.screeningen.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.screeningen.leeftijd is 'Age band (labels of answers 1 and 3); Totaal where the figure is not broken down by age';
comment on column report.screeningen.aantal is 'Number of workers screened by VDAB with a view to doorstroom';
comment on column report.screeningen.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.screeningen.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.screeningen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
