-- How much did each ESF project receive over all years, from each fund and in all (answer 2e)?
-- Recoveries (negative amounts) are netted.
with project_amounts as (
    select esf_project_id, fund_id, amount
    from dwh.payment
    where table_id = 'T2e_betalingen' and esf_project_id <> '_T'
)

select
    p.label as esf_project,
    sum(a.amount) filter (where a.fund_id = 'ESF') as esf_euro,
    sum(a.amount) filter (where a.fund_id = 'VCF') as vcf_euro,
    sum(a.amount) as totaal_euro
from project_amounts as a
inner join dwh.esf_project as p on p.esf_project_id = a.esf_project_id
group by p.label, p.project_number
order by p.project_number;
