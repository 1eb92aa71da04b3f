-- report.betalingen: One row per printed amount of answer 2e: payments (negative: recoveries) to the projects of ESF call 432 per calendar year and fund, executed up to 12/2/2024.
create or replace view report.betalingen as
with figures as (
    select *
    from report.cijfers
    where feit = 'payment'
)

select
    tabel,
    antwoord,
    esf_project_nummer,
    esf_project,
    organisatie,
    esf_project_volgorde,
    fonds,
    fonds_naam,
    fonds_volgorde,
    jaar as betalingsjaar,
    jaar_label as betalingsjaar_label,
    waarde::numeric(12, 2) as bedrag_euro,
    minimum::numeric(12, 2) as minimum,
    maximum::numeric(12, 2) as maximum,
    is_totaal,
    status,
    bronregel
from figures
order by tabel_volgorde, bronregel, betalingsjaar, fonds_volgorde;

comment on view report.betalingen is
'One row per printed amount of answer 2e: payments (negative: recoveries) to the projects of ESF call 432 per calendar year and fund, executed up to 12/2/2024. Tidy form for BI tools: every dimension has a readable label, a code and a sort order, no joins needed. A figure is a total (is_totaal) when it is a total within its own printed table: a row, column or grand total, or Totaal = Voltooid + Stopgezet. To add figures up: take one tabel (the tables of one answer count the same amounts again, split another way), leave out the rows where is_totaal is true, then sum(bedrag_euro). A figure printed in several tables (a grand total) appears once per table. minimum and maximum give the range the printed numbers allow in the cell (both equal the figure where it is fixed).';
comment on column report.betalingen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table). To add figures up: take one tabel (the tables of one answer count the same amounts again, split another way), leave out the rows where is_totaal is true, then sum(bedrag_euro).';
comment on column report.betalingen.antwoord is 'Answer of the document the table belongs to';
comment on column report.betalingen.esf_project_nummer is 'ESF project number; empty for Totaal';
comment on column report.betalingen.esf_project is 'ESF project number, name and organisation as printed; Totaal where the figure is not split by project';
comment on column report.betalingen.organisatie is 'Recognised organisation running the project, as printed';
comment on column report.betalingen.esf_project_volgorde is 'Order of the project in the document, i.e. by project number (Totaal last)';
comment on column report.betalingen.fonds is 'Fund: ESF or VCF';
comment on column report.betalingen.fonds_naam is 'Full name of the fund';
comment on column report.betalingen.fonds_volgorde is 'Order of the fund within a year as T2e_betalingen prints it (VCF, then ESF)';
comment on column report.betalingen.betalingsjaar is 'Calendar year of the payment as a number, for a time axis; empty on a total over all years (is_totaal is then true)';
comment on column report.betalingen.betalingsjaar_label is 'Calendar year of the payment as printed: the year, or Totaal on a total over all years';
comment on column report.betalingen.bedrag_euro is 'Amount paid in euro; negative for a recovery after a stop. To add figures up: take one tabel (the tables of one answer count the same amounts again, split another way), leave out the rows where is_totaal is true, then sum(bedrag_euro).';
comment on column report.betalingen.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in this cell (a blank counts as 0); equals bedrag_euro where the cell is fixed (status printed)';
comment on column report.betalingen.maximum is 'Largest value any placement of the printed numbers that fits the document puts in this cell; equals bedrag_euro where the cell is fixed (status printed)';
comment on column report.betalingen.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet). To add figures up: take one tabel (the tables of one answer count the same amounts again, split another way), leave out the rows where is_totaal is true, then sum(bedrag_euro).';
comment on column report.betalingen.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers leave the cell open, anything from minimum to maximum (data/CURATION.md, report.open_cellen); inconsistent = a total that disagrees with its cells';
comment on column report.betalingen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
