-- T2c_leeftijd (answer 2c): ended doorstroom trajectories without internship per age band, by end year and measure.
create or replace view report.t2c_leeftijd as
with cells as (
    select age_band_id, phase_id, end_year_id, measure_id, value
    from dwh.trajectory_end
    where table_id = 'T2c_leeftijd'
),

by_row as (
    select
        age_band_id,
        phase_id,
        max(value) filter (where end_year_id = '2021' and measure_id = 'CMW') as y2021_cmw,
        max(value) filter (where end_year_id = '2021' and measure_id = 'LDE') as y2021_lde,
        max(value) filter (where end_year_id = '2022' and measure_id = 'CMW') as y2022_cmw,
        max(value) filter (where end_year_id = '2022' and measure_id = 'LDE') as y2022_lde,
        max(value) filter (where end_year_id = '2023' and measure_id = 'CMW') as y2023_cmw,
        max(value) filter (where end_year_id = '2023' and measure_id = 'LDE') as y2023_lde
    from cells
    group by age_band_id, phase_id
)

select
    case
        when a.is_total then 'Eindtotaal'
        when f.is_total then 'Totaal ' || a.label_esf
        else a.label_esf
    end as leeftijd,
    case when f.is_total then null else f.label end as "doorstroomtraject fase",
    b.y2021_cmw as "2021 CMW",
    b.y2021_lde as "2021 LDE",
    b.y2022_cmw as "2022 CMW",
    b.y2022_lde as "2022 LDE",
    b.y2023_cmw as "2023 CMW",
    b.y2023_lde as "2023 LDE"
from by_row as b
inner join dwh.age_band as a on a.age_band_id = b.age_band_id
inner join dwh.trajectory_phase as f on f.phase_id = b.phase_id
order by a.sort_order, f.sort_order;

comment on view report.t2c_leeftijd is
'One row per age band and phase (Voltooid = completed, Stopgezet = stopped early), then the printed Totaal AGE BAND row, and the Eindtotaal row: doorstroom trajectories without internship by the year they ended and the measure of the worker. Answer 2c. Only the age bands the document prints appear. Empty where the document prints no figure.';
comment on column report.t2c_leeftijd.leeftijd is 'Age band as printed; Totaal AGE BAND for its total row, Eindtotaal for all ages';
comment on column report.t2c_leeftijd."doorstroomtraject fase" is 'Voltooid (completed) or Stopgezet (stopped early); empty on total rows';
comment on column report.t2c_leeftijd."2021 CMW" is 'Trajectories that ended in 2021, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_leeftijd."2021 LDE" is 'Trajectories that ended in 2021, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_leeftijd."2022 CMW" is 'Trajectories that ended in 2022, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_leeftijd."2022 LDE" is 'Trajectories that ended in 2022, of workers in the lokale diensteneconomie (LDE)';
comment on column report.t2c_leeftijd."2023 CMW" is 'Trajectories that ended in 2023, of workers in collectief maatwerk (CMW)';
comment on column report.t2c_leeftijd."2023 LDE" is 'Trajectories that ended in 2023, of workers in the lokale diensteneconomie (LDE)';
