-- T1_leeftijd (answer 1): doorstroom in 2023 per age band and measure.
create or replace view report.t1_leeftijd as
with cells as (
    select age_band_id, measure_id, value
    from dwh.doorstroom
    where table_id = 'T1_leeftijd'
),

by_age as (
    select
        age_band_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
    group by age_band_id
)

select
    a.label as leeftijd,
    b.cmw as "CMW",
    b.lde as "LDE"
from by_age as b
inner join dwh.age_band as a on a.age_band_id = b.age_band_id
order by a.sort_order;

comment on view report.t1_leeftijd is
'One row per age band: target-group workers who moved from the social economy to the NEC in 2023, per age band and measure. Answer 1, table "Doorstroom per leeftijd:" (printed, garbled, inside the tables of answer 2). No total row is printed; report.t1_totaal holds the totals.';
comment on column report.t1_leeftijd.leeftijd is 'Age band as printed';
comment on column report.t1_leeftijd."CMW" is 'Workers from collectief maatwerk (CMW) who moved to the NEC in 2023';
comment on column report.t1_leeftijd."LDE" is 'Workers from the lokale diensteneconomie (LDE) who moved to the NEC in 2023';
