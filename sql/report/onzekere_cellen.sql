-- report.onzekere_cellen: the earlier name of report.open_cellen, kept for the queries and dashboards that use it.
create or replace view report.onzekere_cellen as
select
    tabel,
    rij,
    kolom,
    gekozen_waarde,
    minimum,
    maximum,
    plaatsingen,
    plaatsingen_zoals_gekozen,
    status
from report.open_cellen;

comment on view report.onzekere_cellen is
'One row per open cell of answer 2c: the same rows and columns as report.open_cellen, under the name this view had before "open" became the one word for such cells in the views, `dwh show`, the workbook and the docs. New queries should read report.open_cellen.';
comment on column report.onzekere_cellen.tabel is 'Table id, e.g. T2c_project; as report.open_cellen.tabel';
comment on column report.onzekere_cellen.rij is 'The row as report.<tabel> labels it; as report.open_cellen.rij';
comment on column report.onzekere_cellen.kolom is 'The column name in report.<tabel>; as report.open_cellen.kolom';
comment on column report.onzekere_cellen.gekozen_waarde is 'The figure the warehouse places in the cell; empty when the chosen placement leaves it blank';
comment on column report.onzekere_cellen.minimum is 'Smallest number of trajectories any placement puts in the cell (a blank counts as 0)';
comment on column report.onzekere_cellen.maximum is 'Largest number of trajectories any placement puts in the cell';
comment on column report.onzekere_cellen.plaatsingen is 'How many placements fit the document, counted over the rows placed together with this cell';
comment on column report.onzekere_cellen.plaatsingen_zoals_gekozen is 'Of those placements, how many give the cell the same content as the chosen one';
comment on column report.onzekere_cellen.status is 'Always open (before: ambiguous for a figure, empty for a blank)';
