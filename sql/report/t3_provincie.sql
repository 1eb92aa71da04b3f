-- T3_provincie (answer 3): VDAB screenings with a view to doorstroom in 2023, per province and measure.
create or replace view report.t3_provincie as
with cells as (
    select province_id, measure_id, value
    from dwh.screening
    where table_id = 'T3_provincie'
),

by_row as (
    select
        province_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
    group by province_id
)

select
    d.name as provincie,
    b.cmw as "CMW",
    b.lde as "LDE"
from by_row as b
inner join dwh.province as d on d.province_id = b.province_id
order by d.name collate "C";

comment on view report.t3_provincie is
'One row per province: target-group workers screened by VDAB in 2023 with a view to doorstroom to the NEC. Answer 3, table "Aantal screeningen met oog op doorstroom richting NEC per provincie:". No total row is printed; report.t3_totaal holds the totals. Empty where the document prints no figure.';
comment on column report.t3_provincie.provincie is 'Province as printed';
comment on column report.t3_provincie."CMW" is 'Workers from collectief maatwerk (CMW) screened in 2023';
comment on column report.t3_provincie."LDE" is 'Workers from the lokale diensteneconomie (LDE) screened in 2023';
