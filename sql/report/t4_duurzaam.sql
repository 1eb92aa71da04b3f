-- T4_duurzaam (answer 4): doorstroom and sustained doorstroom after 3, 6 and 12 months.
create or replace view report.t4_duurzaam as
with cells as (
    select doorstroom_year_id, measure_id, threshold_id, value
    from dwh.sustained_doorstroom
    where table_id = 'T4_duurzaam'
),

by_row as (
    select
        doorstroom_year_id,
        measure_id,
        max(value) filter (where threshold_id = 'ANY') as doorstroom,
        max(value) filter (where threshold_id = 'M03') as m03,
        max(value) filter (where threshold_id = 'M06') as m06,
        max(value) filter (where threshold_id = 'M12') as m12
    from cells
    group by doorstroom_year_id, measure_id
)

select
    case
        when y.is_total then 'Eindtotaal'
        when m.is_total then 'Totaal ' || y.year_id
        else y.year_id
    end as "jaar doorstroom",
    case when m.is_total then null else m.label end as "type maatregel",
    b.doorstroom as "doorstroom",
    b.m03 as "duurzaam 3 maand of langer",
    b.m06 as "duurzaam 6 maand of langer",
    b.m12 as "duurzaam 12 maand of langer"
from by_row as b
inner join dwh.year as y on y.year_id = b.doorstroom_year_id
inner join dwh.measure as m on m.measure_id = b.measure_id
order by y.is_total, y.calendar_year, m.sort_order;

comment on view report.t4_duurzaam is
'One row per year of doorstroom and measure, then the printed Totaal YEAR rows and the Eindtotaal row: workers who moved from SEC to NEC, and how many of them then worked in the NEC without interruption for 3, 6 or 12 months or longer. Answer 4. The 2023 figures are not final: for workers who moved at the end of 2023 sustained doorstroom cannot yet be measured.';
comment on column report.t4_duurzaam."jaar doorstroom" is 'Year of doorstroom; Totaal YEAR on its total row, Eindtotaal for both years';
comment on column report.t4_duurzaam."type maatregel" is 'Measure (CMW or LDE); empty on total rows';
comment on column report.t4_duurzaam.doorstroom is 'Workers who moved to the NEC (first NEC job after the SEC job ended)';
comment on column report.t4_duurzaam."duurzaam 3 maand of langer" is 'Of those, workers in the NEC without interruption for 3 months or longer';
comment on column report.t4_duurzaam."duurzaam 6 maand of langer" is 'Of those, workers in the NEC without interruption for 6 months or longer';
comment on column report.t4_duurzaam."duurzaam 12 maand of langer" is 'Of those, workers in the NEC without interruption for 12 months or longer';
