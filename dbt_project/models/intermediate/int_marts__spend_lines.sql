{{ config(materialized='view') }}
-- Payment totals and award shares in one shape, so that the three breakdown marts are computed from
-- the same lines and reconcile by construction. source is 'payments', 'contracts_finder' or
-- 'find_a_tender'. Payments come summed per buyer, month and attributes (int_spend__payment_totals);
-- the marts only sum amounts, so a sum of sums is the same figure.
select
    'payments' as source,
    buyer_name,
    buyer_lad_code,
    month,
    amount_gbp,
    scale,
    is_vcse,
    locality,
    green_category
from {{ ref('int_spend__payment_totals') }}
union all
select
    source,
    buyer_name,
    buyer_lad_code,
    month,
    value_gbp as amount_gbp,
    scale,
    is_vcse,
    locality,
    green_category
from {{ ref('fct_award_suppliers') }}
