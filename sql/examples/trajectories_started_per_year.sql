-- How many ESF doorstroom trajectories started each year (answer 2a-b)? The year is a number, so
-- a BI tool can put it on a time axis; the printed Totaal over the years (startjaar empty) is left
-- out by the recipe.
select
    startjaar,
    sum(aantal) as gestart
from report.trajecten_gestart
where tabel = 'T2ab_project' and not is_totaal
group by startjaar
order by startjaar;
