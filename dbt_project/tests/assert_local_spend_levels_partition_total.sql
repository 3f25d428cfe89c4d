-- The locality levels partition the total: the widest level the seed supports for the buyer, plus
-- elsewhere, plus unknown, equals total_gbp.
select *
from {{ ref('local_spend') }}
where total_gbp <> coalesce(in_region_gbp, in_combined_authority_gbp, in_authority_gbp) + elsewhere_gbp + unknown_gbp
   or (in_region_gbp is null and in_combined_authority_gbp is not null)
