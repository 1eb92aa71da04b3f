-- How many workers did VDAB screen in 2023 with a view to doorstroom, against how many moved to
-- the NEC that year, per measure (answers 1, 3 and 6: "224 gescreend ... 3330 doorstroomden")?
-- Each side comes from one table of its tidy view; the Totaal row is added here, since neither
-- table prints one.
with screened as (
    select maatregel, maatregel_volgorde, aantal
    from report.screeningen
    where tabel = 'T3_totaal' and not is_totaal
),

moved as (
    select maatregel, aantal
    from report.doorstroom
    where tabel = 'T1_totaal' and not is_totaal
),

both_measures as (
    select s.maatregel, s.maatregel_volgorde, s.aantal as gescreend, m.aantal as doorgestroomd
    from screened as s
    inner join moved as m on m.maatregel = s.maatregel
)

select maatregel, gescreend, doorgestroomd
from (
    select maatregel, gescreend, doorgestroomd, maatregel_volgorde
    from both_measures
    union all
    select 'Totaal', sum(gescreend), sum(doorgestroomd), 99
    from both_measures
) as t
order by maatregel_volgorde;
