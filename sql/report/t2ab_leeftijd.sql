-- T2ab_leeftijd (answer 2a-b): ESF doorstroom trajectories per start year and age band.
create or replace view report.t2ab_leeftijd as
with cells as (
    select start_year_id, age_band_id, value
    from dwh.trajectory_start
    where table_id = 'T2ab_leeftijd'
),

by_year as (
    select
        start_year_id,
        max(value) filter (where age_band_id = 'Y_LT25') as y_lt25,
        max(value) filter (where age_band_id = 'Y25T59') as y25t59,
        max(value) filter (where age_band_id = 'Y_GE60') as y_ge60,
        max(value) filter (where age_band_id = '_T') as totaal
    from cells
    group by start_year_id
)

select
    case when y.is_total then 'Totaal' else y.year_id end as "Startjaar",
    b.y_lt25 as "-25 jaar",
    b.y25t59 as "25 tot en met 59 jaar",
    b.y_ge60 as "60 jaar en +",
    b.totaal as "Totaal"
from by_year as b
inner join dwh.year as y on y.year_id = b.start_year_id
order by y.is_total, y.calendar_year;

comment on view report.t2ab_leeftijd is
'One row per start year, then the printed Totaal row: ESF-funded doorstroom trajectories, each counted once, in the year it started, per age band. Answer 2a-b, table "Per jaar en per leeftijd:". Empty where the document prints no figure.';
comment on column report.t2ab_leeftijd."Startjaar" is 'Year the trajectory started, or Totaal for all years';
comment on column report.t2ab_leeftijd."-25 jaar" is 'Trajectories started by workers under 25';
comment on column report.t2ab_leeftijd."25 tot en met 59 jaar" is 'Trajectories started by workers aged 25 to 59';
comment on column report.t2ab_leeftijd."60 jaar en +" is 'Trajectories started by workers aged 60 or more';
comment on column report.t2ab_leeftijd."Totaal" is 'Trajectories started, all ages (Totaal as printed)';
