-- Section 5.1: an award's value is split between its distinct suppliers without losing or adding a penny.
-- A night checks the processes this build wrote (rows_to_check, macros/incremental.sql).
select source, ocid, award_id, max(value_amount) as value_amount, sum(value_share) as shares
from {{ rows_to_check(ref('int_ocds__award_suppliers'), 'built_at = {build_started}') }} as checked
where value_amount is not null
group by source, ocid, award_id
having sum(value_share) <> max(value_amount)
