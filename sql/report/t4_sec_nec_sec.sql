-- T4_sec_nec_sec (answer 4, prose): SEC-NEC-SEC transitions since 2018.
create or replace view report.t4_sec_nec_sec as
with cells as (
    select measure_id, value
    from dwh.sec_nec_sec
    where table_id = 'T4_sec_nec_sec'
),

printed as (
    select
        max(value) filter (where measure_id = '_T') as totaal,
        max(value) filter (where measure_id = 'CMW') as cmw,
        max(value) filter (where measure_id = 'LDE') as lde
    from cells
)

select
    totaal as "Totaal",
    cmw as "CMW",
    lde as "LDE"
from printed;

comment on view report.t4_sec_nec_sec is
'One row: transitions SEC-NEC-SEC over all years since 2018, i.e. doorstroom from the social economy to the regular economic circuit after which a new job in the social economy started. Answer 4, quoted in the text ("In totaal (over alle jaren heen sinds 2018) tellen we 1140 (1070 binnen CMW en 70 binnen LDE) overgangen SEC-NEC-SEC").';
comment on column report.t4_sec_nec_sec."Totaal" is 'Transitions in both measures';
comment on column report.t4_sec_nec_sec."CMW" is 'Transitions within collectief maatwerk (CMW)';
comment on column report.t4_sec_nec_sec."LDE" is 'Transitions within the lokale diensteneconomie (LDE)';
