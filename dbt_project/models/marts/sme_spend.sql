-- Spend by supplier scale per (source, buyer, month). sme + large + unknown = total by construction.
with totals as (
    select
        source,
        buyer_name,
        month,
        cast(coalesce(sum(amount_gbp), 0) as decimal(18, 2)) as total_gbp,
        cast(coalesce(sum(case when scale = 'sme' then amount_gbp end), 0) as decimal(18, 2)) as sme_gbp,
        cast(coalesce(sum(case when scale = 'large' then amount_gbp end), 0) as decimal(18, 2)) as large_gbp,
        cast(coalesce(sum(case when scale = 'unknown' then amount_gbp end), 0) as decimal(18, 2)) as unknown_gbp,
        cast(coalesce(sum(case when is_vcse then amount_gbp end), 0) as decimal(18, 2)) as vcse_gbp
    from {{ ref('int_marts__spend_lines') }}
    group by source, buyer_name, month
)

select
    source,
    buyer_name,
    month,
    total_gbp,
    sme_gbp,
    large_gbp,
    unknown_gbp,
    vcse_gbp,
    cast(sme_gbp as double) / nullif(cast(total_gbp as double), 0) as sme_share,
    cast(sme_gbp as double) / nullif(cast(sme_gbp + large_gbp as double), 0) as sme_share_of_known
from totals
