-- Which share of the workers who moved to the NEC in 2022 was still at work there, without
-- interruption, after 3, 6 and 12 months? Per measure, and for both together (answer 4).
with doorstroom_2022 as (
    select measure_id, threshold_id, value
    from dwh.sustained_doorstroom
    where table_id = 'T4_duurzaam' and doorstroom_year_id = '2022'
),

by_measure as (
    select
        measure_id,
        max(value) filter (where threshold_id = 'ANY') as doorstroom,
        max(value) filter (where threshold_id = 'M03') as na_3_maanden,
        max(value) filter (where threshold_id = 'M06') as na_6_maanden,
        max(value) filter (where threshold_id = 'M12') as na_12_maanden
    from doorstroom_2022
    group by measure_id
)

select
    m.label as maatregel,
    b.doorstroom,
    b.na_12_maanden,
    round(100.0 * b.na_3_maanden / b.doorstroom, 1) as pct_na_3_maanden,
    round(100.0 * b.na_6_maanden / b.doorstroom, 1) as pct_na_6_maanden,
    round(100.0 * b.na_12_maanden / b.doorstroom, 1) as pct_na_12_maanden
from by_measure as b
inner join dwh.measure as m on m.measure_id = b.measure_id
order by m.sort_order;
