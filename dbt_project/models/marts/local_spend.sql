-- Spend by nested locality per (source, buyer, month). Each level includes the narrower ones. The
-- combined-authority and region figures are null, not zero, when the geography seed gives the buyer's
-- district no combined authority / region (or the buyer's district is unknown).
with lines as (
    select
        l.*,
        g.combined_authority_code as buyer_combined_authority_code,
        g.region_code as buyer_region_code
    from {{ ref('int_marts__spend_lines') }} as l
    left join {{ ref('stg_reference__lad_geography') }} as g on g.lad_code = l.buyer_lad_code
),

totals as (
    select
        source,
        buyer_name,
        month,
        cast(coalesce(sum(amount_gbp), 0) as decimal(18, 2)) as total_gbp,
        cast(coalesce(sum(case when locality = 'in_authority' then amount_gbp end), 0) as decimal(18, 2))
            as in_authority_gbp,
        case when max(buyer_combined_authority_code) is not null then
            cast(coalesce(sum(case when locality in ('in_authority', 'in_combined_authority') then amount_gbp end), 0)
                 as decimal(18, 2))
        end as in_combined_authority_gbp,
        case when max(buyer_region_code) is not null then
            cast(coalesce(sum(case when locality in ('in_authority', 'in_combined_authority', 'in_region')
                                   then amount_gbp end), 0) as decimal(18, 2))
        end as in_region_gbp,
        cast(coalesce(sum(case when locality = 'elsewhere' then amount_gbp end), 0) as decimal(18, 2)) as elsewhere_gbp,
        cast(coalesce(sum(case when locality = 'unknown' then amount_gbp end), 0) as decimal(18, 2)) as unknown_gbp
    from lines
    group by source, buyer_name, month
)

select
    source,
    buyer_name,
    month,
    total_gbp,
    in_authority_gbp,
    in_combined_authority_gbp,
    in_region_gbp,
    elsewhere_gbp,
    unknown_gbp,
    cast(in_authority_gbp as double) / nullif(cast(total_gbp as double), 0) as in_authority_share,
    cast(in_combined_authority_gbp as double) / nullif(cast(total_gbp as double), 0) as in_combined_authority_share,
    cast(in_region_gbp as double) / nullif(cast(total_gbp as double), 0) as in_region_share
from totals
