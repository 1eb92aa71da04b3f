-- report.betalingen: One row per printed amount of answer 2e: payments (negative: recoveries) to the projects of ESF call 432 per calendar year and fund, executed up to 12/2/2024.
create or replace view report.betalingen as
with facts as (
    select *
    from dwh.payment
)

select
    f.table_id as tabel,
    st.answer as antwoord,
    d0.project_number as esf_project_nummer,
    d0.label as esf_project,
    d0.organisation as organisatie,
    d1.fund_id as fonds,
    d1.name as fonds_naam,
    case when d2.is_total then 'Totaal' else d2.year_id end as betalingsjaar,
    f.amount as bedrag_euro,
    (f.esf_project_id = '_T' or f.fund_id = '_T' or f.payment_year_id = '_T') as is_totaal,
    f.status_id as status,
    f.source_line as bronregel
from facts as f
inner join dwh.source_table as st on st.table_id = f.table_id
inner join dwh.esf_project as d0 on d0.esf_project_id = f.esf_project_id
inner join dwh.fund as d1 on d1.fund_id = f.fund_id
inner join dwh.year as d2 on d2.year_id = f.payment_year_id
order by st.position, f.source_line;

comment on view report.betalingen is
'One row per printed amount of answer 2e: payments (negative: recoveries) to the projects of ESF call 432 per calendar year and fund, executed up to 12/2/2024. Tidy form for BI tools: every dimension has a readable label, no joins needed. Each printed figure is one row, so a figure printed in several tables (a grand total) appears once per table: to add figures up, take one tabel and leave out the rows where is_totaal is true.';
comment on column report.betalingen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.betalingen.antwoord is 'Answer of the document the table belongs to';
comment on column report.betalingen.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.betalingen.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not broken down by project';
comment on column report.betalingen.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.betalingen.fonds is 'Fund: ESF or VCF';
comment on column report.betalingen.fonds_naam is 'Full name of the fund';
comment on column report.betalingen.betalingsjaar is 'Calendar year of the payment; Totaal on a printed total over all years';
comment on column report.betalingen.bedrag_euro is 'Amount paid in euro; negative for a recovery after a stop';
comment on column report.betalingen.is_totaal is 'True for a printed total (a Totaal in some dimension): leave these out before adding figures up';
comment on column report.betalingen.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.betalingen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
