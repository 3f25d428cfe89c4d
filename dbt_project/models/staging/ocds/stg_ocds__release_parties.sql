-- One row per party stated in a release (raw.ocds_release_fields.parties), typed and renamed. Both the
-- current (details.scale / details.vcse) and the older Contracts Finder (sme / vco booleans) scale fields
-- are exposed; intermediate models apply the rules.
{{ config(materialized='view') }}

with parties as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        unnest(parties) as party
    from {{ source('raw_ocds', 'ocds_release_fields') }}
    where len(parties) > 0
)

select
    source,
    ocid,
    release_id,
    release_date,
    party.id as party_id,
    party.name as party_name,
    coalesce(party.roles, []) as roles,
    party.address.streetAddress as street_address,
    party.address.postalCode as postal_code,
    party.address.countryName as country_name,
    lower(party.details.scale) as details_scale,
    try_cast(party.details.vcse as boolean) as details_vcse,
    try_cast(coalesce(party.details.sme, party.sme) as boolean) as legacy_sme,
    try_cast(coalesce(party.details.vco, party.vco) as boolean) as legacy_vco,
    upper(party.identifier.scheme) as identifier_scheme,
    party.identifier.id as identifier_id,
    coalesce(party.additionalIdentifiers, []) as additional_identifiers,
    loaded_at
from parties
