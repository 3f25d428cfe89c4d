-- One row per party stated in a release. Both the current (details.scale / details.vcse) and the older
-- Contracts Finder (sme / vco booleans) scale fields are exposed; intermediate models apply the rules.
with releases as (
    select
        source,
        ocid,
        release_id,
        release_date,
        {{ json_value('release_json', '$.parties[*]') }} as parties
    from {{ source('raw', 'ocds_releases') }}
),

parties as (
    select source, ocid, release_id, release_date, unnest(parties) as party
    from releases
    where len(parties) > 0
)

select
    source,
    ocid,
    release_id,
    release_date,
    {{ json_text('party', '$.id') }} as party_id,
    {{ json_text('party', '$.name') }} as party_name,
    coalesce({{ json_typed_array('party', '$.roles', '["VARCHAR"]') }}, []) as roles,
    {{ json_text('party', '$.address.streetAddress') }} as street_address,
    {{ json_text('party', '$.address.postalCode') }} as postal_code,
    {{ json_text('party', '$.address.countryName') }} as country_name,
    lower({{ json_text('party', '$.details.scale') }}) as details_scale,
    try_cast({{ json_text('party', '$.details.vcse') }} as boolean) as details_vcse,
    try_cast(coalesce({{ json_text('party', '$.details.sme') }}, {{ json_text('party', '$.sme') }}) as boolean) as legacy_sme,
    try_cast(coalesce({{ json_text('party', '$.details.vco') }}, {{ json_text('party', '$.vco') }}) as boolean) as legacy_vco,
    upper({{ json_text('party', '$.identifier.scheme') }}) as identifier_scheme,
    {{ json_text('party', '$.identifier.id') }} as identifier_id,
    coalesce(
        {{ json_typed_array('party', '$.additionalIdentifiers', '[{"scheme": "VARCHAR", "id": "VARCHAR"}]') }}, []
    ) as additional_identifiers
from parties
