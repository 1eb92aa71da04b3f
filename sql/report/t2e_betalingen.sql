-- T2e_betalingen (answer 2e): payments per ESF project, fund and calendar year.
create or replace view report.t2e_betalingen as
with cells as (
    select esf_project_id, fund_id, payment_year_id, amount
    from dwh.payment
    where table_id = 'T2e_betalingen'
),

by_project as (
    select
        esf_project_id,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2018')::numeric(12, 2) as vcf_2018,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2019')::numeric(12, 2) as vcf_2019,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2020')::numeric(12, 2) as vcf_2020,
        max(amount) filter (where fund_id = 'ESF' and payment_year_id = '2020')::numeric(12, 2) as esf_2020,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2021')::numeric(12, 2) as vcf_2021,
        max(amount) filter (where fund_id = 'ESF' and payment_year_id = '2021')::numeric(12, 2) as esf_2021,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2022')::numeric(12, 2) as vcf_2022,
        max(amount) filter (where fund_id = 'ESF' and payment_year_id = '2022')::numeric(12, 2) as esf_2022,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2023')::numeric(12, 2) as vcf_2023,
        max(amount) filter (where fund_id = 'ESF' and payment_year_id = '2023')::numeric(12, 2) as esf_2023,
        max(amount) filter (where fund_id = 'VCF' and payment_year_id = '2024')::numeric(12, 2) as vcf_2024,
        max(amount) filter (where fund_id = 'ESF' and payment_year_id = '2024')::numeric(12, 2) as esf_2024
    from cells
    group by esf_project_id
)

select
    p.label as "Project",
    b.vcf_2018 as "VCF-2018",
    b.vcf_2019 as "VCF-2019",
    b.vcf_2020 as "VCF-2020",
    b.esf_2020 as "ESF-2020",
    b.vcf_2021 as "VCF-2021",
    b.esf_2021 as "ESF-2021",
    b.vcf_2022 as "VCF-2022",
    b.esf_2022 as "ESF-2022",
    b.vcf_2023 as "VCF-2023",
    b.esf_2023 as "ESF-2023",
    b.vcf_2024 as "VCF-2024",
    b.esf_2024 as "ESF-2024"
from by_project as b
inner join dwh.esf_project as p on p.esf_project_id = b.esf_project_id
order by p.is_total, p.project_number;

comment on view report.t2e_betalingen is
'One row per ESF project, then the printed Totaal row: payments (negative: recoveries after a stop) in euro per calendar year under ESF call 432 "Doorstroom Sociale Economie", executed up to 12/2/2024, from the ESF and the Flemish co-financing fund (VCF). Answer 2e; the document prints the table in two halves (2018-2021 and 2022-2024), joined here in printed column order.';
comment on column report.t2e_betalingen."Project" is 'ESF project number, name and organisation as printed; Totaal for all projects';
comment on column report.t2e_betalingen."VCF-2018" is 'Euro paid in 2018 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2019" is 'Euro paid in 2019 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2020" is 'Euro paid in 2020 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."ESF-2020" is 'Euro paid in 2020 from the European Social Fund (ESF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2021" is 'Euro paid in 2021 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."ESF-2021" is 'Euro paid in 2021 from the European Social Fund (ESF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2022" is 'Euro paid in 2022 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."ESF-2022" is 'Euro paid in 2022 from the European Social Fund (ESF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2023" is 'Euro paid in 2023 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."ESF-2023" is 'Euro paid in 2023 from the European Social Fund (ESF); negative for a recovery';
comment on column report.t2e_betalingen."VCF-2024" is 'Euro paid in 2024 from the Flemish co-financing fund (VCF); negative for a recovery';
comment on column report.t2e_betalingen."ESF-2024" is 'Euro paid in 2024 from the European Social Fund (ESF); negative for a recovery';
