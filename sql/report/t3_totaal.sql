-- T3_totaal (answer 3): VDAB screenings with a view to doorstroom in 2023, per measure.
create or replace view report.t3_totaal as
with cells as (
    select measure_id, value
    from dwh.screening
    where table_id = 'T3_totaal'
),

printed as (
    select
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
)

select
    cmw as "CMW",
    lde as "LDE"
from printed;

comment on view report.t3_totaal is
'One row: target-group workers screened by VDAB in 2023 with a view to doorstroom to the NEC, per measure. Answer 3, table "Totalen:".';
comment on column report.t3_totaal."CMW" is 'Workers from collectief maatwerk (CMW) screened in 2023';
comment on column report.t3_totaal."LDE" is 'Workers from the lokale diensteneconomie (LDE) screened in 2023';
