-- report.duurzame_doorstroom: One row per printed figure of answer 4: doorstroom and sustained doorstroom after 3, 6 and 12 months, by year of doorstroom and measure. The thresholds are nested (whoever is at work after 6 months is also counted at 3): pick one duurzaamheid before adding figures up.
create or replace view report.duurzame_doorstroom as
with figures as (
    select *
    from report.cijfers
    where feit = 'sustained_doorstroom'
)

select
    tabel,
    antwoord,
    jaar as jaar_doorstroom,
    jaar_label as jaar_doorstroom_label,
    maatregel,
    maatregel_naam,
    maatregel_volgorde,
    minimum_maanden,
    duurzaamheid,
    duurzaamheid_volgorde,
    waarde::integer as aantal,
    minimum::integer as minimum,
    maximum::integer as maximum,
    is_totaal,
    status,
    bronregel
from figures
order by tabel_volgorde, bronregel, duurzaamheid_volgorde;

comment on view report.duurzame_doorstroom is
'One row per printed figure of answer 4: doorstroom and sustained doorstroom after 3, 6 and 12 months, by year of doorstroom and measure. The thresholds are nested (whoever is at work after 6 months is also counted at 3): pick one duurzaamheid before adding figures up. Tidy form for BI tools: every dimension has a readable label, a code and a sort order, no joins needed. A figure is a total (is_totaal) when it is a total within its own printed table: a row, column or grand total, or Totaal = Voltooid + Stopgezet. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, pick one duurzaamheid (the thresholds are nested: whoever is at work after 12 months is also counted at 3 and 6), then sum(aantal). A figure printed in several tables (a grand total) appears once per table. minimum and maximum give the range the printed numbers allow in the cell (both equal the figure where it is fixed).';
comment on column report.duurzame_doorstroom.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, pick one duurzaamheid (the thresholds are nested: whoever is at work after 12 months is also counted at 3 and 6), then sum(aantal).';
comment on column report.duurzame_doorstroom.antwoord is 'Answer of the document the table belongs to';
comment on column report.duurzame_doorstroom.jaar_doorstroom is 'Year of doorstroom as a number, for a time axis; empty on a total over all years (is_totaal is then true)';
comment on column report.duurzame_doorstroom.jaar_doorstroom_label is 'Year of doorstroom as printed: the year, or Totaal on a total over all years';
comment on column report.duurzame_doorstroom.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.duurzame_doorstroom.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.duurzame_doorstroom.maatregel_volgorde is 'Order of the measure in the document (CMW, LDE, Totaal): sort by it instead of the label';
comment on column report.duurzame_doorstroom.minimum_maanden is 'Months of uninterrupted NEC work counted: 0 for all doorstroom, else 3, 6 or 12';
comment on column report.duurzame_doorstroom.duurzaamheid is 'Column header as printed in answer 4';
comment on column report.duurzame_doorstroom.duurzaamheid_volgorde is 'Order of the threshold in the document (doorstroom, 3, 6, 12 months)';
comment on column report.duurzame_doorstroom.aantal is 'Number of workers (all doorstroom, or still in the NEC without interruption after the threshold). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, pick one duurzaamheid (the thresholds are nested: whoever is at work after 12 months is also counted at 3 and 6), then sum(aantal).';
comment on column report.duurzame_doorstroom.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in this cell (a blank counts as 0); equals aantal where the cell is fixed (status printed)';
comment on column report.duurzame_doorstroom.maximum is 'Largest value any placement of the printed numbers that fits the document puts in this cell; equals aantal where the cell is fixed (status printed)';
comment on column report.duurzame_doorstroom.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, pick one duurzaamheid (the thresholds are nested: whoever is at work after 12 months is also counted at 3 and 6), then sum(aantal).';
comment on column report.duurzame_doorstroom.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers leave the cell open, anything from minimum to maximum (data/CURATION.md, report.open_cellen); inconsistent = a total that disagrees with its cells';
comment on column report.duurzame_doorstroom.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
