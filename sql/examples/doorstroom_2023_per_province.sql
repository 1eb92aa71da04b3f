-- Where did the 3330 workers who moved to the NEC in 2023 live, per measure (answer 1)? One row
-- per province in the document's order, keyed by the ISO 3166-2 code for a map chart.
select
    provincie,
    provincie_iso,
    sum(aantal) filter (where maatregel = 'CMW') as cmw,
    sum(aantal) filter (where maatregel = 'LDE') as lde,
    sum(aantal) as totaal
from report.doorstroom
where tabel = 'T1_provincie' and not is_totaal
group by provincie, provincie_iso, provincie_volgorde
order by provincie_volgorde;
