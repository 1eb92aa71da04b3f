-- T1_provincie (answer 1): doorstroom in 2023 per province and measure.
create or replace view report.t1_provincie as
with cells as (
    select province_id, measure_id, value
    from dwh.doorstroom
    where table_id = 'T1_provincie'
),

by_province as (
    select
        province_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
    group by province_id
)

select
    p.name as provincie,
    b.cmw as "CMW",
    b.lde as "LDE"
from by_province as b
inner join dwh.province as p on p.province_id = b.province_id
order by p.sort_order;

comment on view report.t1_provincie is
'One row per province: target-group workers who moved from the social economy to the NEC in 2023, per province and measure. Answer 1, table "Doorstroom per provincie:". The document prints no total row; report.t1_totaal holds the totals.';
comment on column report.t1_provincie.provincie is 'Province (or Brussel, or outside Brussels and Flanders) as printed';
comment on column report.t1_provincie."CMW" is 'Workers from collectief maatwerk (CMW) who moved to the NEC in 2023';
comment on column report.t1_provincie."LDE" is 'Workers from the lokale diensteneconomie (LDE) who moved to the NEC in 2023';
