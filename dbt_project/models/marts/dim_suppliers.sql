-- One row per supplier_key: every supplier in the directory (seen in awards) and every payee that
-- resolved to a key. Redacted payees have no supplier and are not here.
with keys as (
    select supplier_key from {{ ref('int_suppliers__directory') }}
    union
    select supplier_key from {{ ref('int_spend__payment_totals') }} where supplier_key is not null
    union
    select supplier_key from {{ ref('fct_award_suppliers') }}
),

payments as (
    select
        supplier_key,
        sum(n_payments) as n_payments,
        sum(amount_gbp) as paid_gbp,
        -- Ties on the date are broken by file and row, so the name does not depend on row order.
        {{ latest_stated('latest_payee_name', 'latest_payee_name_stated') }} as latest_payee_name,
        {{ latest_stated('latest_payee_postcode', 'latest_payee_postcode_stated') }} as latest_payee_postcode
    from {{ ref('int_spend__payment_totals') }}
    where supplier_key is not null
    group by supplier_key
),

awards as (
    select
        supplier_key,
        count(distinct source || '|' || ocid || '|' || award_id) as n_awards,
        sum(value_gbp) as awarded_gbp
    from {{ ref('fct_award_suppliers') }}
    group by supplier_key
),

suppliers as (
    select
        k.supplier_key,
        coalesce(d.supplier_name, p.latest_payee_name) as supplier_name,
        case when k.supplier_key like 'GB-COH-%' then substr(k.supplier_key, 8) end as company_number,
        coalesce(d.scale, 'unknown') as scale,
        d.is_vcse,
        coalesce(d.postcode, p.latest_payee_postcode) as postcode,
        coalesce(p.n_payments, 0) as n_payments,
        cast(coalesce(p.paid_gbp, 0) as decimal(18, 2)) as paid_gbp,
        coalesce(a.n_awards, 0) as n_awards,
        cast(coalesce(a.awarded_gbp, 0) as decimal(18, 2)) as awarded_gbp
    from keys as k
    left join {{ ref('int_suppliers__directory') }} as d on d.supplier_key = k.supplier_key
    left join payments as p on p.supplier_key = k.supplier_key
    left join awards as a on a.supplier_key = k.supplier_key
)

select
    s.supplier_key,
    s.supplier_name,
    s.company_number,
    s.scale,
    s.is_vcse,
    s.postcode,
    pc.lad_code,
    s.n_payments,
    s.paid_gbp,
    s.n_awards,
    s.awarded_gbp
from suppliers as s
left join {{ postcode_districts('select postcode from suppliers') }} as pc
    on pc.postcode = s.postcode
