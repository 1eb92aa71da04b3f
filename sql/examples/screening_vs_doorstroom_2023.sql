-- How many workers did VDAB screen in 2023 with a view to doorstroom, against how many moved to
-- the NEC that year, per measure (answers 1, 3 and 6: "224 gescreend ... 3330 doorstroomden")?
with screened as (
    select measure_id, value
    from dwh.screening
    where table_id = 'T3_totaal'
),

moved as (
    select measure_id, value
    from dwh.doorstroom
    where table_id = 'T1_totaal'
),

both_measures as (
    select s.measure_id, s.value as gescreend, m.value as doorgestroomd
    from screened as s
    inner join moved as m on m.measure_id = s.measure_id
)

select maatregel, gescreend, doorgestroomd
from (
    select me.label as maatregel, b.gescreend, b.doorgestroomd, me.sort_order
    from both_measures as b
    inner join dwh.measure as me on me.measure_id = b.measure_id
    union all
    select 'Totaal', sum(gescreend), sum(doorgestroomd), 99
    from both_measures
) as t
order by sort_order;
