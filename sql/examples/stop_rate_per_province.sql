-- Which share of the doorstroom trajectories (without internship) that ended in 2021-2023 was
-- stopped early, per province of the participant (answer 2c)? With the ISO 3166-2 code, so a map
-- chart can show it. The detail cells (no totals) of T2c_provincie are Voltooid and Stopgezet
-- per province, end year and measure.
with ended as (
    select provincie, provincie_iso, fase, aantal
    from report.trajecten_beeindigd
    where tabel = 'T2c_provincie' and not is_totaal
),

by_province as (
    select
        provincie,
        provincie_iso,
        sum(aantal) as beeindigd,
        coalesce(sum(aantal) filter (where fase = 'Stopgezet'), 0) as stopgezet
    from ended
    group by provincie, provincie_iso
)

select
    provincie,
    provincie_iso,
    beeindigd,
    stopgezet,
    round(100.0 * stopgezet / beeindigd, 1) as pct_stopgezet
from by_province
order by pct_stopgezet desc, provincie;
