-- One row per buyer name in the facts. A publisher's district is its registry lad_code; a buyer seen
-- only in notices takes the district its notices most often give (buyer party postcode).
with payments as (
    select
        buyer_name,
        min(publisher_id) as publisher_id,
        min(buyer_lad_code) as lad_code,
        sum(n_payments) as n_payments,
        sum(amount_gbp) as paid_gbp
    from {{ ref('int_spend__payment_totals') }}
    where buyer_name is not null
    group by buyer_name
),

award_districts as (
    select
        buyer_name,
        buyer_lad_code,
        row_number() over (partition by buyer_name order by count(*) desc, buyer_lad_code) as district_rank
    from {{ ref('fct_award_suppliers') }}
    where buyer_name is not null and buyer_lad_code is not null
    group by buyer_name, buyer_lad_code
),

awards as (
    select
        a.buyer_name,
        count(distinct a.source || '|' || a.ocid || '|' || a.award_id) as n_awards,
        sum(a.value_gbp) as awarded_gbp,
        min(d.buyer_lad_code) as lad_code
    from {{ ref('fct_award_suppliers') }} as a
    left join award_districts as d on d.buyer_name = a.buyer_name and d.district_rank = 1
    where a.buyer_name is not null
    group by a.buyer_name
),

buyers as (
    select
        coalesce(p.buyer_name, a.buyer_name) as buyer_name,
        p.publisher_id,
        coalesce(p.lad_code, a.lad_code) as lad_code,
        coalesce(p.n_payments, 0) as n_payments,
        cast(coalesce(p.paid_gbp, 0) as decimal(18, 2)) as paid_gbp,
        coalesce(a.n_awards, 0) as n_awards,
        cast(coalesce(a.awarded_gbp, 0) as decimal(18, 2)) as awarded_gbp
    from payments as p
    full outer join awards as a on a.buyer_name = p.buyer_name
)

select
    b.buyer_name,
    b.publisher_id,
    b.lad_code,
    g.combined_authority_code,
    g.region_code,
    b.n_payments,
    b.paid_gbp,
    b.n_awards,
    b.awarded_gbp
from buyers as b
left join {{ ref('stg_reference__lad_geography') }} as g on g.lad_code = b.lad_code
