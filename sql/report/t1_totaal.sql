-- T1_totaal (answer 1): doorstroom from the social economy to the NEC in 2023, per measure.
create or replace view report.t1_totaal as
with cells as (
    select measure_id, value
    from dwh.doorstroom
    where table_id = 'T1_totaal'
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

comment on view report.t1_totaal is
'One row: target-group workers who moved from the social economy (SEC) to the normal economic circuit (NEC) in 2023, per measure. Answer 1, table "Totalen doorstroom:". Doorstroom is counted in the year of the first NEC job after the SEC job ended. Source: written question 221 of 2 February 2024 (dwh.source_document).';
comment on column report.t1_totaal."CMW" is 'Workers from collectief maatwerk (CMW) who moved to the NEC in 2023';
comment on column report.t1_totaal."LDE" is 'Workers from the lokale diensteneconomie (LDE) who moved to the NEC in 2023';
