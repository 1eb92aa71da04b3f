-- report.duurzame_doorstroom: One row per printed figure of answer 4: doorstroom and sustained doorstroom after 3, 6 and 12 months, by year of doorstroom and measure.
create or replace view report.duurzame_doorstroom as
with facts as (
    select *
    from dwh.sustained_doorstroom
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as jaar_doorstroom,
    d1.label as maatregel,
    d1.name as maatregel_naam,
    d2.min_months as minimum_maanden,
    d2.label as duurzaamheid,
    f.value as aantal,
    (f.doorstroom_year_id = '_T' or f.measure_id = '_T' or f.threshold_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.doorstroom_year_id
inner join dwh.measure as d1 on d1.measure_id = f.measure_id
inner join dwh.sustain_threshold as d2 on d2.threshold_id = f.threshold_id
order by st.position, f.source_line;

comment on view report.duurzame_doorstroom is
'One row per printed figure of answer 4: doorstroom and sustained doorstroom after 3, 6 and 12 months, by year of doorstroom and measure. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.duurzame_doorstroom.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.duurzame_doorstroom.antwoord is 'Answer of the document the table belongs to';
comment on column report.duurzame_doorstroom.jaar_doorstroom is 'Year of doorstroom; Totaal on a printed total over all years';
comment on column report.duurzame_doorstroom.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.duurzame_doorstroom.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.duurzame_doorstroom.minimum_maanden is 'Months of uninterrupted NEC work counted: 0 for all doorstroom, else 3, 6 or 12';
comment on column report.duurzame_doorstroom.duurzaamheid is 'Column header as printed in answer 4';
comment on column report.duurzame_doorstroom.aantal is 'Number of workers (all doorstroom, or still in the NEC without interruption after the threshold)';
comment on column report.duurzame_doorstroom.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.duurzame_doorstroom.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.duurzame_doorstroom.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
