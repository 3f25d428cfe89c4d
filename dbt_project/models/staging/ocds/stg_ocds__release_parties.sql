-- One row per party stated in a release. Both the current (details.scale / details.vcse) and the older
-- Contracts Finder (sme / vco booleans) scale fields are exposed; intermediate models apply the rules.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid', 'release_id']) }}

with releases as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        {{ json_value('release_json', '$.parties[*]') }} as parties
    from {{ source('raw', 'ocds_releases') }}
    {% if is_incremental() %}
    where loaded_at > {{ ocds_compiled_up_to('loaded_at') }}
    {% endif %}
),

parties as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        party,
        {{ json_texts('party', ['$.id', '$.name', '$.address.streetAddress', '$.address.postalCode',
                                '$.address.countryName', '$.details.scale', '$.details.vcse', '$.details.sme',
                                '$.sme', '$.details.vco', '$.vco', '$.identifier.scheme', '$.identifier.id']) }} as texts,
        {{ json_values('party', ['$.roles', '$.additionalIdentifiers']) }} as arrays
    from (select *, unnest(parties) as party from releases where len(parties) > 0)
)

select
    source,
    ocid,
    release_id,
    release_date,
    texts[1] as party_id,
    texts[2] as party_name,
    coalesce({{ json_array_as('arrays[1]', '["VARCHAR"]') }}, []) as roles,
    texts[3] as street_address,
    texts[4] as postal_code,
    texts[5] as country_name,
    lower(texts[6]) as details_scale,
    try_cast(texts[7] as boolean) as details_vcse,
    try_cast(coalesce(texts[8], texts[9]) as boolean) as legacy_sme,
    try_cast(coalesce(texts[10], texts[11]) as boolean) as legacy_vco,
    upper(texts[12]) as identifier_scheme,
    texts[13] as identifier_id,
    coalesce(
        {{ json_array_as('arrays[2]', '[{"scheme": "VARCHAR", "id": "VARCHAR"}]') }}, []
    ) as additional_identifiers,
    loaded_at
from parties
