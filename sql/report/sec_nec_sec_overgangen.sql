-- report.sec_nec_sec_overgangen: One row per figure of answer 4 (prose): transitions SEC-NEC-SEC since 2018, by measure.
create or replace view report.sec_nec_sec_overgangen as
with figures as (
    select *
    from report.cijfers
    where feit = 'sec_nec_sec'
)

select
    tabel,
    antwoord,
    -- One figure for every year since 2018: written out as a period, so that no chart puts it at 2018.
    'sinds ' || jaar_label || ' (alle jaren tot het antwoord van 2024)' as periode,
    maatregel,
    maatregel_naam,
    maatregel_volgorde,
    waarde::integer as aantal,
    minimum::integer as minimum,
    maximum::integer as maximum,
    is_totaal,
    status,
    bronregel
from figures
order by tabel_volgorde, bronregel, maatregel_volgorde;

comment on view report.sec_nec_sec_overgangen is
'One row per figure of answer 4 (prose): transitions SEC-NEC-SEC since 2018, by measure. Tidy form for BI tools: every dimension has a readable label, a code and a sort order, no joins needed. A figure is a total (is_totaal) when it is a total within its own printed table: a row, column or grand total, or Totaal = Voltooid + Stopgezet. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal). A figure printed in several tables (a grand total) appears once per table. minimum and maximum give the range the printed numbers allow in the cell (both equal the figure where it is fixed).';
comment on column report.sec_nec_sec_overgangen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.sec_nec_sec_overgangen.antwoord is 'Answer of the document the table belongs to';
comment on column report.sec_nec_sec_overgangen.periode is 'The period the figure covers: every year from 2018 up to the answer (2024), one figure for all of them (line 476: "over alle jaren heen sinds 2018"). Deliberately text, not a year: the figure belongs to no single year and must not be plotted at 2018';
comment on column report.sec_nec_sec_overgangen.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.sec_nec_sec_overgangen.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.sec_nec_sec_overgangen.maatregel_volgorde is 'Order of the measure as the document prints it here (line 476: Totaal, then CMW and LDE): sort by it instead of the label';
comment on column report.sec_nec_sec_overgangen.aantal is 'Number of SEC-NEC-SEC transitions. To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.sec_nec_sec_overgangen.minimum is 'Smallest value any placement of the printed numbers that fits the document puts in this cell (a blank counts as 0); equals aantal where the cell is fixed (status printed)';
comment on column report.sec_nec_sec_overgangen.maximum is 'Largest value any placement of the printed numbers that fits the document puts in this cell; equals aantal where the cell is fixed (status printed)';
comment on column report.sec_nec_sec_overgangen.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet). To add figures up: take one tabel (the tables of one answer count the same people or trajectories again, split another way), leave out the rows where is_totaal is true, then sum(aantal).';
comment on column report.sec_nec_sec_overgangen.status is 'How sure the cell is: printed = fixed by the printed numbers; open = the printed numbers leave the cell open, anything from minimum to maximum (data/CURATION.md, report.open_cellen); inconsistent = a total that disagrees with its cells';
comment on column report.sec_nec_sec_overgangen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
