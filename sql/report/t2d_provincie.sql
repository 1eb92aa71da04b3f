-- T2d_provincie (answer 2d): doorstroom after an evaluation with a completed trajectory, per province of residence.
create or replace view report.t2d_provincie as
with cells as (
    select doorstroom_year_id, province_id, measure_id, value
    from dwh.doorstroom_after_evaluation
    where table_id = 'T2d_provincie'
),

by_row as (
    select
        doorstroom_year_id,
        province_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde,
        max(value) filter (where measure_id = '_T') as totaal
    from cells
    group by doorstroom_year_id, province_id
)

select
    case when d.is_total then 'Totaal ' || y.year_id else y.year_id end as "jaar doorstroom",
    case when d.is_total then null else d.name end as "provincie verblijfplaats",
    b.cmw as "CMW",
    b.lde as "LDE",
    b.totaal as "Totaal"
from by_row as b
inner join dwh.year as y on y.year_id = b.doorstroom_year_id
inner join dwh.province as d on d.province_id = b.province_id
order by y.calendar_year, d.sort_order;

comment on view report.t2d_provincie is
'One row per year of doorstroom (2022, 2023) and province of residence, then the printed Totaal YEAR row: doorstroom from SEC to NEC of workers who followed (and completed) a doorstroom trajectory during their SEC evaluation. Overlaps with the doorstroom of answer 1. Answer 2d, "Doorstroom na evaluatie met een voltooid doorstroomtraject". Empty where the document prints no figure.';
comment on column report.t2d_provincie."jaar doorstroom" is 'Year of doorstroom; Totaal YEAR on the total row of that year';
comment on column report.t2d_provincie."provincie verblijfplaats" is 'Province of residence as printed; empty on the total row';
comment on column report.t2d_provincie."CMW" is 'Workers from collectief maatwerk (Type maatregel CMW)';
comment on column report.t2d_provincie."LDE" is 'Workers from the lokale diensteneconomie (Type maatregel LDE)';
comment on column report.t2d_provincie."Totaal" is 'CMW and LDE together (Totaal as printed)';
