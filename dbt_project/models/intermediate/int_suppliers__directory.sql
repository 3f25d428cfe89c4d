-- The supplier directory: every supplier seen in an award, one row per supplier_key. A supplier's
-- scale is the one from its most recent award that states a scale (section 5.1); VCSE flag and
-- postcode likewise come from the most recent award that states them, and the name from the most
-- recent award. Recency is the order of (award date, source, ocid, award id, party id), compared as one
-- value per sighting: numbering the sightings in that order would sort all of them in one thread.
-- Incremental: a night recomputes the suppliers whose sightings changed - those with a row of
-- int_ocds__award_suppliers written since the last complete build, and those with fewer rows there than
-- this table counted (a recomputed process dropped them; a supplier has one row per award, the grain that
-- table's tests hold) - and the post-hook removes the suppliers left with none.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='supplier_key',
    post_hook="{% if is_incremental() %}
               delete from {{ this }} as d
               where not exists (select 1 from {{ ref('int_ocds__award_suppliers') }} as a
                                 where a.supplier_key = d.supplier_key)
               {% endif %}"
) }}
{%- set recency = 'row(award_date, source, ocid, award_id, party_id)' %}
{%- if is_incremental() %}
{%- set last_build = last_complete_build() %}
with changed as (
    select supplier_key
    from {{ ref('int_ocds__award_suppliers') }}
    {% if last_build is not none %}where built_at > cast('{{ last_build }}' as timestamptz){% endif %}
    union
    select d.supplier_key
    from {{ this }} as d
    left join (
        select supplier_key, count(*) as n_rows from {{ ref('int_ocds__award_suppliers') }} group by supplier_key
    ) as a on a.supplier_key = d.supplier_key
    where coalesce(a.n_rows, 0) <> d.n_award_sightings
)

{% endif %}
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
{% if is_incremental() %}
where supplier_key in (select supplier_key from changed)
{% endif %}
group by supplier_key
