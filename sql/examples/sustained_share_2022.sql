-- Which share of the workers who moved to the NEC in 2022 was still at work there, without
-- interruption, after 3, 6 and 12 months? Per measure, and for both together (answer 4). This
-- one keeps the printed Totaal 2022 row (is_totaal): a share is not a sum.
with doorstroom_2022 as (
    select maatregel, maatregel_volgorde, minimum_maanden, aantal
    from report.duurzame_doorstroom
    where tabel = 'T4_duurzaam' and jaar_doorstroom = 2022
),

by_measure as (
    select
        maatregel,
        maatregel_volgorde,
        max(aantal) filter (where minimum_maanden = 0) as doorstroom,
        max(aantal) filter (where minimum_maanden = 3) as na_3_maanden,
        max(aantal) filter (where minimum_maanden = 6) as na_6_maanden,
        max(aantal) filter (where minimum_maanden = 12) as na_12_maanden
    from doorstroom_2022
    group by maatregel, maatregel_volgorde
)

select
    maatregel,
    doorstroom,
    na_12_maanden,
    round(100.0 * na_3_maanden / doorstroom, 1) as pct_na_3_maanden,
    round(100.0 * na_6_maanden / doorstroom, 1) as pct_na_6_maanden,
    round(100.0 * na_12_maanden / doorstroom, 1) as pct_na_12_maanden
from by_measure
order by maatregel_volgorde;
