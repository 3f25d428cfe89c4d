-- Green spend per (source, buyer, month, green category). Every buyer-month has a row for every
-- category in the rule seed (zero when nothing was tagged), so a category's absence is visible as 0.
-- Green tags measure declared intent (what the notice or expense line says), not emissions saved.
with lines as (
    select * from {{ ref('int_marts__spend_lines') }}
),

buyer_months as (
    select
        source,
        buyer_name,
        month,
        cast(coalesce(sum(amount_gbp), 0) as decimal(18, 2)) as total_gbp
    from lines
    group by source, buyer_name, month
),

categories as (
    select distinct category as green_category
    from {{ ref('green_rules') }}
    where kind <> 'exclusion' and category is not null
),

green as (
    select
        source,
        buyer_name,
        month,
        green_category,
        cast(coalesce(sum(amount_gbp), 0) as decimal(18, 2)) as green_gbp
    from lines
    where green_category is not null
    group by source, buyer_name, month, green_category
)

select
    bm.source,
    bm.buyer_name,
    bm.month,
    c.green_category,
    coalesce(g.green_gbp, cast(0 as decimal(18, 2))) as green_gbp,
    bm.total_gbp,
    cast(coalesce(g.green_gbp, 0) as double) / nullif(cast(bm.total_gbp as double), 0) as green_share
from buyer_months as bm
cross join categories as c
left join green as g
    on g.source = bm.source
   and g.buyer_name = bm.buyer_name
   and g.month is not distinct from bm.month
   and g.green_category = c.green_category
