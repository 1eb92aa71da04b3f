-- Which share of the doorstroom trajectories (without internship) that ended in 2021-2023 was
-- stopped early, per province of the participant (answer 2c)?
with ended as (
    select province_id, phase_id, value
    from dwh.trajectory_end
    where table_id = 'T2c_provincie' and province_id <> '_T'
),

by_province as (
    select
        province_id,
        coalesce(sum(value) filter (where phase_id = 'STOPGEZET'), 0) as stopgezet,
        sum(value) filter (where phase_id = '_T') as beeindigd
    from ended
    group by province_id
)

select
    p.name as provincie,
    b.beeindigd,
    b.stopgezet,
    round(100.0 * b.stopgezet / b.beeindigd, 1) as pct_stopgezet
from by_province as b
inner join dwh.province as p on p.province_id = b.province_id
order by pct_stopgezet desc, p.name;
