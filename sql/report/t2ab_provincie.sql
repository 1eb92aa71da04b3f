-- T2ab_provincie (answer 2a-b): ESF doorstroom trajectories per start year and province.
create or replace view report.t2ab_provincie as
with cells as (
    select start_year_id, province_id, value
    from dwh.trajectory_start
    where table_id = 'T2ab_provincie'
),

by_year as (
    select
        start_year_id,
        max(value) filter (where province_id = 'BE-VAN') as antwerpen,
        max(value) filter (where province_id = 'BE-BRU') as brussel,
        max(value) filter (where province_id = 'BE-VLI') as limburg,
        max(value) filter (where province_id = 'BE-VOV') as oost_vlaanderen,
        max(value) filter (where province_id = 'BE-VBR') as vlaams_brabant,
        max(value) filter (where province_id = 'BE-VWV') as west_vlaanderen,
        max(value) filter (where province_id = '_T') as totaal
    from cells
    group by start_year_id
)

select
    case when y.is_total then 'Totaal' else y.year_id end as "Startjaar",
    b.antwerpen as "Antwerpen",
    b.brussel as "Brussel",
    b.limburg as "Limburg",
    b.oost_vlaanderen as "Oost-Vlaanderen",
    b.vlaams_brabant as "Vlaams-Brabant",
    b.west_vlaanderen as "West-Vlaanderen",
    b.totaal as "Totaal"
from by_year as b
inner join dwh.year as y on y.year_id = b.start_year_id
order by y.is_total, y.calendar_year;

comment on view report.t2ab_provincie is
'One row per start year, then the printed Totaal row: ESF-funded doorstroom trajectories (ESF call 432), each counted once, in the year it started, per province. Answer 2a-b, table "Per jaar en per provincie:". Empty where the document prints no figure.';
comment on column report.t2ab_provincie."Startjaar" is 'Year the trajectory started (Startjaar doorstroomtraject), or Totaal for all years';
comment on column report.t2ab_provincie."Antwerpen" is 'Trajectories started by workers living in Antwerpen';
comment on column report.t2ab_provincie."Brussel" is 'Trajectories started by workers living in Brussel';
comment on column report.t2ab_provincie."Limburg" is 'Trajectories started by workers living in Limburg';
comment on column report.t2ab_provincie."Oost-Vlaanderen" is 'Trajectories started by workers living in Oost-Vlaanderen';
comment on column report.t2ab_provincie."Vlaams-Brabant" is 'Trajectories started by workers living in Vlaams-Brabant';
comment on column report.t2ab_provincie."West-Vlaanderen" is 'Trajectories started by workers living in West-Vlaanderen';
comment on column report.t2ab_provincie."Totaal" is 'Trajectories started, all provinces (Totaal as printed)';
