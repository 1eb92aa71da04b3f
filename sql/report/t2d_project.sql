-- T2d_project (answer 2d): doorstroom after an evaluation with a completed trajectory, per ESF project.
create or replace view report.t2d_project as
with cells as (
    select doorstroom_year_id, esf_project_id, measure_id, value
    from dwh.doorstroom_after_evaluation
    where table_id = 'T2d_project'
),

by_row as (
    select
        doorstroom_year_id,
        esf_project_id,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde,
        max(value) filter (where measure_id = '_T') as totaal
    from cells
    group by doorstroom_year_id, esf_project_id
)

select
    case when d.is_total then 'Totaal ' || y.year_id else y.year_id end as "jaar doorstroom",
    case when d.is_total then null else d.label end as "ESF project",
    b.cmw as "CMW",
    b.lde as "LDE",
    b.totaal as "Totaal"
from by_row as b
inner join dwh.year as y on y.year_id = b.doorstroom_year_id
inner join dwh.esf_project as d on d.esf_project_id = b.esf_project_id
order by y.calendar_year, d.is_total, d.project_number;

comment on view report.t2d_project is
'One row per year of doorstroom (2022, 2023) and ESF project, then the printed Totaal YEAR row: doorstroom from SEC to NEC of workers who followed (and completed) a doorstroom trajectory during their SEC evaluation. Overlaps with the doorstroom of answer 1. Answer 2d, "Doorstroom na evaluatie met een voltooid doorstroomtraject". Empty where the document prints no figure.';
comment on column report.t2d_project."jaar doorstroom" is 'Year of doorstroom; Totaal YEAR on the total row of that year';
comment on column report.t2d_project."ESF project" is 'ESF project number, name and organisation as printed; empty on the total row';
comment on column report.t2d_project."CMW" is 'Workers from collectief maatwerk (Type maatregel CMW)';
comment on column report.t2d_project."LDE" is 'Workers from the lokale diensteneconomie (Type maatregel LDE)';
comment on column report.t2d_project."Totaal" is 'CMW and LDE together (Totaal as printed)';
