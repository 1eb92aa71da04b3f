-- T2ab_project (answer 2a-b): ESF doorstroom trajectories per ESF project and start year.
create or replace view report.t2ab_project as
with cells as (
    select esf_project_id, start_year_id, value
    from dwh.trajectory_start
    where table_id = 'T2ab_project'
),

by_project as (
    select
        esf_project_id,
        max(value) filter (where start_year_id = '2018') as y2018,
        max(value) filter (where start_year_id = '2019') as y2019,
        max(value) filter (where start_year_id = '2020') as y2020,
        max(value) filter (where start_year_id = '2021') as y2021,
        max(value) filter (where start_year_id = '2022') as y2022,
        max(value) filter (where start_year_id = '2023') as y2023,
        max(value) filter (where start_year_id = '_T') as totaal
    from cells
    group by esf_project_id
)

select
    p.label as "Esf Project",
    b.y2018 as "2018",
    b.y2019 as "2019",
    b.y2020 as "2020",
    b.y2021 as "2021",
    b.y2022 as "2022",
    b.y2023 as "2023",
    b.totaal as "Totaal"
from by_project as b
inner join dwh.esf_project as p on p.esf_project_id = b.esf_project_id
order by p.is_total, p.project_number;

comment on view report.t2ab_project is
'One row per ESF project (number, name and organisation as printed), then the printed Totaal row: doorstroom trajectories each counted once, in the year it started, per recognised organisation. Answer 2a-b, table "Per jaar en organisatie/ESF:". Empty where the document prints no figure.';
comment on column report.t2ab_project."Esf Project" is 'ESF project number, name and (in brackets) organisation, as printed; Totaal for all projects';
comment on column report.t2ab_project."2018" is 'Trajectories started in 2018';
comment on column report.t2ab_project."2019" is 'Trajectories started in 2019';
comment on column report.t2ab_project."2020" is 'Trajectories started in 2020';
comment on column report.t2ab_project."2021" is 'Trajectories started in 2021';
comment on column report.t2ab_project."2022" is 'Trajectories started in 2022';
comment on column report.t2ab_project."2023" is 'Trajectories started in 2023';
comment on column report.t2ab_project."Totaal" is 'Trajectories started 2018-2023 (Totaal as printed)';
