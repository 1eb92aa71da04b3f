-- T2c_project (answer 2c): ended doorstroom trajectories without internship per ESF project, by end year and measure.
create or replace view report.t2c_project as
with cells as (
    select esf_project_id, phase_id, end_year_id, measure_id, value
    from dwh.trajectory_end
    where table_id = 'T2c_project'
),

by_row as (
    select
        esf_project_id,
        phase_id,
        max(value) filter (where end_year_id = '2021' and measure_id = 'CMW') as y2021_cmw,
        max(value) filter (where end_year_id = '2021' and measure_id = 'LDE') as y2021_lde,
        max(value) filter (where end_year_id = '2022' and measure_id = 'CMW') as y2022_cmw,
        max(value) filter (where end_year_id = '2022' and measure_id = 'LDE') as y2022_lde,
        max(value) filter (where end_year_id = '2023' and measure_id = 'CMW') as y2023_cmw,
        max(value) filter (where end_year_id = '2023' and measure_id = 'LDE') as y2023_lde
    from cells
    group by esf_project_id, phase_id
)

select
    case when p.is_total then 'Eindtotaal' else p.label end as esf_project,
    case when f.is_total then null else f.label end as "doorstroomtraject fase",
    b.y2021_cmw as "2021 CMW",
    b.y2021_lde as "2021 LDE",
    b.y2022_cmw as "2022 CMW",
    b.y2022_lde as "2022 LDE",
    b.y2023_cmw as "2023 CMW",
    b.y2023_lde as "2023 LDE"
from by_row as b
inner join dwh.esf_project as p on p.esf_project_id = b.esf_project_id
inner join dwh.trajectory_phase as f on f.phase_id = b.phase_id
order by p.is_total, p.project_number, f.sort_order;

comment on view report.t2c_project is
'One row per ESF project and phase as printed (Voltooid = completed, Stopgezet = stopped early; the document prints no per-project total rows and omits empty phases), then the Eindtotaal row: doorstroom trajectories without internship by the year they ended and the measure of the worker. Answer 2c. Empty where the document prints no figure. Caution: the text of the PDF lost the empty cells of this table and only its column totals constrain where a figure belongs, so 35 figures (most Stopgezet rows) are placed by a documented choice among the placements the totals allow; they are flagged ambiguous in dwh.trajectory_end.status_id (see data/CURATION.md). Row and column totals are exact.';
comment on column report.t2c_project.esf_project is 'ESF project number, name and organisation as printed; Eindtotaal for all projects';
comment on column report.t2c_project."doorstroomtraject fase" is 'Voltooid (completed) or Stopgezet (stopped early); empty on the Eindtotaal row';
comment on column report.t2c_project."2021 CMW" is 'Trajectories that ended in 2021, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_project."2021 LDE" is 'Trajectories that ended in 2021, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_project."2022 CMW" is 'Trajectories that ended in 2022, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_project."2022 LDE" is 'Trajectories that ended in 2022, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_project."2023 CMW" is 'Trajectories that ended in 2023, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_project."2023 LDE" is 'Trajectories that ended in 2023, of workers in the lokale diensteneconomie (LDE)';
