-- Nothing lost: every loaded payment line is either in fct_payments or a republished copy removed by
-- de-duplication, in count and in amount.
with raw_lines as (
    select count(*) as n_lines, coalesce(sum(amount_gbp), 0) as amount_gbp
    from {{ source('raw', 'spend_payments') }}
),

counted as (
    select count(*) as n_lines, coalesce(sum(amount_gbp), 0) as amount_gbp
    from {{ ref('fct_payments') }}
),

republished as (
    select count(*) as n_lines, coalesce(sum(amount_gbp), 0) as amount_gbp
    from {{ ref('int_spend__payments_ranked') }}
    where copy_rank > 1
)

select r.n_lines, r.amount_gbp, c.n_lines as counted_lines, c.amount_gbp as counted_gbp,
       d.n_lines as republished_lines, d.amount_gbp as republished_gbp
from raw_lines as r
cross join counted as c
cross join republished as d
where r.n_lines <> c.n_lines + d.n_lines
   or r.amount_gbp <> c.amount_gbp + d.amount_gbp
