-- Compiled state of every party of a process, merged by party id: each field takes its value from the
-- latest release that states it. Section 4 and 5.1 rules (company number, name, scale, VCSE, postcode)
-- are applied here, once per party. Incremental: only processes with new releases are recompiled.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with parties as (
    select
        p.*,
        s.release_seq,
        s.loaded_at as release_loaded_at
    from {{ ref('stg_ocds__release_parties') }} as p
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on p.source = s.source and p.ocid = s.ocid and p.release_id = s.release_id
    {{ ocds_touched_only('s', ref('int_ocds__release_sequence')) }}
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
),

-- The name and postcode rules (regular expressions, most of this model's time) run once per distinct
-- text: the same buyers and suppliers recur across many processes.
names as (
    select party_name, {{ normalise_name('party_name') }} as name_normalised
    from (select distinct party_name from compiled where party_name is not null)
),

addresses as (
    select
        postal_code,
        street_address,
        coalesce({{ normalise_postcode('postal_code') }}, {{ postcode_in_text('street_address') }}) as postcode
    from (select distinct postal_code, street_address from compiled)
)

select
    i.source,
    i.ocid,
    i.party_id,
    i.party_name,
    coalesce(i.roles, []) as roles,
    list_contains(coalesce(i.roles, []), 'buyer') as is_buyer,
    list_contains(coalesce(i.roles, []), 'supplier') as is_supplier,
    n.name_normalised,
    {{ company_number('i.stated_company_number') }} as company_number,
    nullif(regexp_replace(regexp_replace(upper(i.stated_vat_number), '^GB', ''), '[^0-9]', '', 'g'), '') as vat_number,
    case
        when i.details_scale = 'sme' then 'sme'
        when i.details_scale = 'large' then 'large'
        when i.details_scale is null and i.legacy_sme then 'sme'
        when i.details_scale is null and not i.legacy_sme then 'large'
        else 'unknown'
    end as scale,
    coalesce(i.details_vcse, i.legacy_vco) as is_vcse,
    i.street_address,
    i.postal_code,
    a.postcode,
    i.last_release_seq,
    i.last_loaded_at
from identified as i
left join names as n on n.party_name = i.party_name
left join addresses as a
    on a.postal_code is not distinct from i.postal_code and a.street_address is not distinct from i.street_address
