-- The supplier directory: every supplier seen in an award, one row per supplier_key. A supplier's
-- scale is the one from its most recent award that states a scale (section 5.1); VCSE flag and
-- postcode likewise come from the most recent award that states them, and the name from the most
-- recent award. Recency is the order of (award date, source, ocid, award id, party id), compared as one
-- value per sighting: numbering the sightings in that order would sort all of them in one thread.
{%- set recency = 'row(award_date, source, ocid, award_id, party_id)' %}
select
    supplier_key,
    {{ latest_stated('supplier_name', recency) }} as supplier_name,
    case when supplier_key like 'GB-COH-%' then substr(supplier_key, 8) end as company_number,
    min(vat_number) as vat_number,
    coalesce({{ latest_stated("nullif(scale, 'unknown')", recency) }}, 'unknown') as scale,
    {{ latest_stated('is_vcse', recency) }} as is_vcse,
    {{ latest_stated('postcode', recency) }} as postcode,
    count(distinct source || '|' || ocid || '|' || award_id) as n_award_sightings
from {{ ref('int_ocds__award_suppliers') }}
group by supplier_key
