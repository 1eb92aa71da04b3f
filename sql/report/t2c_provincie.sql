-- T2c_provincie (answer 2c): ended doorstroom trajectories without internship per province, by end year and measure.
create or replace view report.t2c_provincie as
with cells as (
    select province_id, phase_id, end_year_id, measure_id, value
    from dwh.trajectory_end
    where table_id = 'T2c_provincie'
),

by_row as (
    select
        province_id,
        phase_id,
        max(value) filter (where end_year_id = '2021' and measure_id = 'CMW') as y2021_cmw,
        max(value) filter (where end_year_id = '2021' and measure_id = 'LDE') as y2021_lde,
        max(value) filter (where end_year_id = '2022' and measure_id = 'CMW') as y2022_cmw,
        max(value) filter (where end_year_id = '2022' and measure_id = 'LDE') as y2022_lde,
        max(value) filter (where end_year_id = '2023' and measure_id = 'CMW') as y2023_cmw,
        max(value) filter (where end_year_id = '2023' and measure_id = 'LDE') as y2023_lde
    from cells
    group by province_id, phase_id
)

select
    case
        when p.is_total then 'Eindtotaal'
        when f.is_total then 'Totaal ' || upper(p.name)
        else upper(p.name)
    end as provincie,
    case when f.is_total then null else f.label end as "doorstroomtraject fase",
    b.y2021_cmw as "2021 CMW",
    b.y2021_lde as "2021 LDE",
    b.y2022_cmw as "2022 CMW",
    b.y2022_lde as "2022 LDE",
    b.y2023_cmw as "2023 CMW",
    b.y2023_lde as "2023 LDE"
from by_row as b
inner join dwh.province as p on p.province_id = b.province_id
inner join dwh.trajectory_phase as f on f.phase_id = b.phase_id
order by p.sort_order, f.sort_order;

comment on view report.t2c_provincie is
'One row per province and phase (Voltooid = completed, Stopgezet = stopped early), then the printed Totaal PROVINCE row, and the Eindtotaal row: doorstroom trajectories without internship by the year they ended and the measure of the worker. Answer 2c, "Aantal voltooide trajecten zonder stage volgens eindjaar doorstroomtraject". Empty where the document prints no figure.';
comment on column report.t2c_provincie.provincie is 'Province in capitals as printed; Totaal PROVINCE for its total row, Eindtotaal for all provinces';
comment on column report.t2c_provincie."doorstroomtraject fase" is 'Voltooid (completed) or Stopgezet (stopped early); empty on total rows';
comment on column report.t2c_provincie."2021 CMW" is 'Trajectories that ended in 2021, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_provincie."2021 LDE" is 'Trajectories that ended in 2021, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_provincie."2022 CMW" is 'Trajectories that ended in 2022, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_provincie."2022 LDE" is 'Trajectories that ended in 2022, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_provincie."2023 CMW" is 'Trajectories that ended in 2023, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_provincie."2023 LDE" is 'Trajectories that ended in 2023, of workers in the lokale diensteneconomie (LDE)';
