-- For every (source, buyer, month): local_spend.total_gbp = sme_spend.total_gbp, and green_spend's
-- buyer-month total is the same figure (contract section 7).
-- The validation gate checks the same (marts.local_spend's and marts.green_spend's
-- total_gbp_matches_sme_spend), so a night leaves it to the gate (x-validated in
-- models/marts/_marts__models.yml).
{{ config(tags=['also_validated']) }}
select
    coalesce(s.source, l.source) as source,
    coalesce(s.buyer_name, l.buyer_name) as buyer_name,
    coalesce(s.month, l.month) as month,
    s.total_gbp as sme_total,
    l.total_gbp as local_total
from {{ ref('sme_spend') }} as s
full outer join {{ ref('local_spend') }} as l
    on l.source = s.source and l.buyer_name is not distinct from s.buyer_name and l.month is not distinct from s.month
where s.total_gbp is distinct from l.total_gbp
union all
select g.source, g.buyer_name, g.month, s.total_gbp, g.total_gbp
from {{ ref('green_spend') }} as g
left join {{ ref('sme_spend') }} as s
    on s.source = g.source and s.buyer_name is not distinct from g.buyer_name and s.month is not distinct from g.month
where s.total_gbp is distinct from g.total_gbp
