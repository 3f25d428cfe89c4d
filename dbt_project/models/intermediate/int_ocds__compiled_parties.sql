-- Compiled state of every party of a process, merged by party id: each field takes its value from the
-- latest release that states it. Section 4 and 5.1 rules (company number, name, scale, VCSE, postcode)
-- are applied here, once per party.
-- Incremental: only processes with new releases are recompiled, and only their releases are read and
-- unnested (ocds_staged): joining the staging view to them unnested every release ever loaded first.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with parties as (
    select
        p.*,
        s.release_seq,
        s.loaded_at as release_loaded_at
    from {{ ocds_staged('stg_ocds__release_parties', ocds_release_parties, ref('int_ocds__release_sequence')) }} as p
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on p.source = s.source and p.ocid = s.ocid and p.release_id = s.release_id
    where p.party_id is not null
),

compiled as (
    select
        source,
        ocid,
        party_id,
        {{ latest_stated('party_name', 'release_seq') }} as party_name,
        {{ latest_stated('case when len(roles) > 0 then roles end', 'release_seq') }} as roles,
        {{ latest_stated('street_address', 'release_seq') }} as street_address,
        {{ latest_stated('postal_code', 'release_seq') }} as postal_code,
        {{ latest_stated('details_scale', 'release_seq') }} as details_scale,
        {{ latest_stated('details_vcse', 'release_seq') }} as details_vcse,
        {{ latest_stated('legacy_sme', 'release_seq') }} as legacy_sme,
        {{ latest_stated('legacy_vco', 'release_seq') }} as legacy_vco,
        {{ latest_stated('identifier_scheme', 'release_seq') }} as identifier_scheme,
        {{ latest_stated('identifier_id', 'release_seq') }} as identifier_id,
        {{ latest_stated('case when len(additional_identifiers) > 0 then additional_identifiers end', 'release_seq') }}
            as additional_identifiers,
        max(release_seq) as last_release_seq,
        max(release_loaded_at) as last_loaded_at
    from parties
    group by source, ocid, party_id
),

identified as (
    select
        *,
        coalesce(
            case when identifier_scheme = 'GB-COH' then identifier_id end,
            list_filter(coalesce(additional_identifiers, []), lambda x: upper(x.scheme) = 'GB-COH')[1].id,
            case when party_id like 'GB-COH-%' then substr(party_id, 8) end
        ) as stated_company_number,
        coalesce(
            case when identifier_scheme = 'GB-VAT' then identifier_id end,
            list_filter(coalesce(additional_identifiers, []), lambda x: upper(x.scheme) = 'GB-VAT')[1].id
        ) as stated_vat_number
    from compiled
)

select
    source,
    ocid,
    party_id,
    party_name,
    coalesce(roles, []) as roles,
    list_contains(coalesce(roles, []), 'buyer') as is_buyer,
    list_contains(coalesce(roles, []), 'supplier') as is_supplier,
    {{ normalise_name('party_name') }} as name_normalised,
    {{ company_number('stated_company_number') }} as company_number,
    nullif(regexp_replace(regexp_replace(upper(stated_vat_number), '^GB', ''), '[^0-9]', '', 'g'), '') as vat_number,
    case
        when details_scale = 'sme' then 'sme'
        when details_scale = 'large' then 'large'
        when details_scale is null and legacy_sme then 'sme'
        when details_scale is null and not legacy_sme then 'large'
        else 'unknown'
    end as scale,
    coalesce(details_vcse, legacy_vco) as is_vcse,
    street_address,
    postal_code,
    coalesce({{ normalise_postcode('postal_code') }}, {{ postcode_in_text('street_address') }}) as postcode,
    last_release_seq,
    last_loaded_at
from identified
