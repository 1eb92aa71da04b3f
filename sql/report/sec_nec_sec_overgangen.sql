-- report.sec_nec_sec_overgangen: One row per figure of answer 4 (prose): transitions SEC-NEC-SEC since 2018, by measure.
create or replace view report.sec_nec_sec_overgangen as
with facts as (
    select *
    from dwh.sec_nec_sec
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    case when d0.is_total then 'Totaal' else d0.year_id end as sinds_jaar,
    d1.label as maatregel,
    d1.name as maatregel_naam,
    f.value as aantal,
    (f.since_year_id = '_T' or f.measure_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.year as d0 on d0.year_id = f.since_year_id
inner join dwh.measure as d1 on d1.measure_id = f.measure_id
order by st.position, f.source_line;

comment on view report.sec_nec_sec_overgangen is
'One row per figure of answer 4 (prose): transitions SEC-NEC-SEC since 2018, by measure. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.sec_nec_sec_overgangen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.sec_nec_sec_overgangen.antwoord is 'Answer of the document the table belongs to';
comment on column report.sec_nec_sec_overgangen.sinds_jaar is 'First year counted (the figure covers every year since); Totaal on a printed total over all years';
comment on column report.sec_nec_sec_overgangen.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.sec_nec_sec_overgangen.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.sec_nec_sec_overgangen.aantal is 'Number of SEC-NEC-SEC transitions';
comment on column report.sec_nec_sec_overgangen.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.sec_nec_sec_overgangen.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.sec_nec_sec_overgangen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
