-- How much did each ESF project receive over all years, from each fund and in all (answer 2e)?
-- Recoveries (negative amounts) are netted. The tidy recipe: one tabel, no totals, then add up.
with project_amounts as (
    select esf_project, esf_project_volgorde, fonds, bedrag_euro
    from report.betalingen
    where tabel = 'T2e_betalingen' and not is_totaal
)

select
    esf_project,
    sum(bedrag_euro) filter (where fonds = 'ESF') as esf_euro,
    sum(bedrag_euro) filter (where fonds = 'VCF') as vcf_euro,
    sum(bedrag_euro) as totaal_euro
from project_amounts
group by esf_project, esf_project_volgorde
order by esf_project_volgorde;
