-- report.doorstroom: One row per printed figure of answer 1: doorstroom from the social economy (SEC) to the normal economic circuit (NEC), by year, measure and province or age band.
create or replace view report.doorstroom as
with figures as (
    select *
    from report.cijfers
    where feit = 'doorstroom'
)

select
    tabel,
    antwoord,
    jaar,
    jaar_label,
    maatregel,
    maatregel_naam,
    maatregel_volgorde,
    provincie,
    provincie_gedrukt,
    provincie_iso,
    provincie_nis,
    provincie_nuts,
    provincie_volgorde,
    leeftijd,
    leeftijd_gedrukt,
    leeftijd_volgorde,
    waarde::integer as aantal,
    minimum::integer as minimum,
    maximum::integer as maximum,
    is_totaal,
    status,
    bronregel
from figures
order by tabel_volgorde, bronregel, maatregel_volgorde;

comment on view report.doorstroom is
'One row per printed figure of answer 1: doorstroom from the social economy (SEC) to the normal economic circuit (NEC), by year, measure and province or age band. Tidy form for BI tools: every dimension has a readable label, a code and a sort order, no joins needed. A figure is a total (is_totaal) when it is a total within its own printed table: a row, column or grand total, or Totaal = Voltooid + Stopgezet. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal). A figure printed in several tables (a grand total) appears once per table. minimum and maximum give the range the printed numbers allow in the cell (both equal the figure where it is fixed).';
comment on column report.doorstroom.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.doorstroom.antwoord is 'Answer of the document the table belongs to';
comment on column report.doorstroom.jaar is 'Year of doorstroom as a number, for a time axis; empty on a total over all years (is_totaal is then true)';
comment on column report.doorstroom.jaar_label is 'Year of doorstroom as printed: the year, or Totaal on a total over all years';
comment on column report.doorstroom.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.doorstroom.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.doorstroom.maatregel_volgorde is 'Order of the measure in the document (CMW, LDE, Totaal): sort by it instead of the label';
comment on column report.doorstroom.provincie is 'Province, one name for every table (compare tables on it); Totaal where the figure is not split by province';
comment on column report.doorstroom.provincie_gedrukt is 'Province as its table prints it (T2c_provincie in capitals); Totaal where the figure is not split by province';
comment on column report.doorstroom.provincie_iso is 'ISO 3166-2 code of the province or of Brussels (BE-VAN, BE-VLI, BE-VOV, BE-VBR, BE-VWV, BE-BRU), what map charts key on; empty for Totaal and outside Brussels/Flanders';
comment on column report.doorstroom.provincie_nis is 'Statbel NIS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.doorstroom.provincie_nuts is 'Eurostat NUTS code of the province (for maps); empty for Totaal and outside Brussels/Flanders';
comment on column report.doorstroom.provincie_volgorde is 'Order of the province in its table as printed (T2ab_provincie and T3_provincie alphabetically with Brussel second, the other tables Brussel after the Flemish provinces; Totaal last): sort by it, or in Superset by MIN(provincie_volgorde)';
comment on column report.doorstroom.leeftijd is 'Age band, one label for every table (the labels of answers 1 and 3, e.g. 0-25 jaar; compare tables on it); Totaal where the figure is not split by age';
comment on column report.doorstroom.leeftijd_gedrukt is 'Age band as its table prints it (answer 2: -25 jaar, 25 tot en met 59 jaar, 60 jaar en +; answers 1 and 3: 0-25 jaar, 25-59 jaar, 60 jaar en +)';
comment on column report.doorstroom.leeftijd_volgorde is 'Order of the age band, youngest first (Totaal last): sort by it instead of the label';
comment on column report.doorstroom.aantal is 'Number of workers who moved from the social economy to the NEC. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.doorstroom.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in this cell (a blank counts as 0); equals aantal where the cell is fixed (status printed)';
comment on column report.doorstroom.maximum is 'Largest value any placement of the printed numbers that fits the document puts in this cell; equals aantal where the cell is fixed (status printed)';
comment on column report.doorstroom.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.doorstroom.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers leave the cell open, anything from minimum to maximum (data/CURATION.md, report.open_cellen); inconsistent = a total that disagrees with its cells';
comment on column report.doorstroom.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
