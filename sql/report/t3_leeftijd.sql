-- T3_leeftijd (answer 3): VDAB screenings with a view to doorstroom in 2023, per age band and measure.
create or replace view report.t3_leeftijd as
with cells as (
    select age_band_id, measure_id, value
    from dwh.screening
    where table_id = 'T3_leeftijd'
),

by_row as (
    select
        age_band_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
    group by age_band_id
)

select
    d.label as leeftijd,
    b.cmw as "CMW",
    b.lde as "LDE"
from by_row as b
inner join dwh.age_band as d on d.age_band_id = b.age_band_id
order by d.sort_order;

comment on view report.t3_leeftijd is
'One row per age band: target-group workers screened by VDAB in 2023 with a view to doorstroom to the NEC. Answer 3, table "Aantal screeningen met oog op doorstroom richting NEC per leeftijd:". No total row is printed; report.t3_totaal holds the totals. Empty where the document prints no figure.';
comment on column report.t3_leeftijd.leeftijd is 'Age band as printed';
comment on column report.t3_leeftijd."CMW" is 'Workers from collectief maatwerk (CMW) screened in 2023';
comment on column report.t3_leeftijd."LDE" is 'Workers from the lokale diensteneconomie (LDE) screened in 2023';
