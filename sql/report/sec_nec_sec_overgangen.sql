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
    jaar as sinds_jaar,
    jaar_label as sinds_jaar_label,
    maatregel,
    maatregel_naam,
    maatregel_volgorde,
    waarde::integer as aantal,
    is_totaal,
    status,
    bronregel
from figures
order by tabel_volgorde, bronregel, maatregel_volgorde;

comment on view report.sec_nec_sec_overgangen is
'One row per figure of answer 4 (prose): transitions SEC-NEC-SEC since 2018, by measure. Tidy form for BI tools: every dimension has a readable label, a code and a sort order, no joins needed. A figure is a total (is_totaal) when it is a total within its own printed table: a row, column or grand total, or Totaal = Voltooid + Stopgezet. To add figures up, take one tabel and leave out the rows where is_totaal is true; a figure printed in several tables (a grand total) appears once per table.';
comment on column report.sec_nec_sec_overgangen.tabel is 'Id of the document table the figure is printed in (report.<tabel> shows that table)';
comment on column report.sec_nec_sec_overgangen.antwoord is 'Answer of the document the table belongs to';
comment on column report.sec_nec_sec_overgangen.sinds_jaar is 'First year counted (the figure covers every year since) as a number, for a time axis; empty on a total over all years (is_totaal is then true)';
comment on column report.sec_nec_sec_overgangen.sinds_jaar_label is 'First year counted (the figure covers every year since) as printed: the year, or Totaal on a total over all years';
comment on column report.sec_nec_sec_overgangen.maatregel is 'Measure: CMW (collectief maatwerk), LDE (lokale diensteneconomie), or Totaal';
comment on column report.sec_nec_sec_overgangen.maatregel_naam is 'Full Dutch name of the measure';
comment on column report.sec_nec_sec_overgangen.maatregel_volgorde is 'Order of the measure in the document (CMW, LDE, Totaal): sort by it instead of the label';
comment on column report.sec_nec_sec_overgangen.aantal is 'Number of SEC-NEC-SEC transitions';
comment on column report.sec_nec_sec_overgangen.is_totaal is 'True when the figure is a total within its own printed table (a row, column or grand total, or Totaal = Voltooid + Stopgezet): leave these out before adding figures up';
comment on column report.sec_nec_sec_overgangen.status is 'Curation status: printed, ambiguous (placed by a documented choice, see data/CURATION.md) or inconsistent';
comment on column report.sec_nec_sec_overgangen.bronregel is 'Line of the text extraction of the PDF where the figure is printed';
