{#- The queries of the stg_ocds__ views, over `fields` (rows of raw.ocds_release_fields): each view applies
    its query to the whole table, and an incremental compile model (ocds_staged in compile.sql) to the rows
    of the processes it recompiles. DuckDB pushes filters below a view's UNNEST but not joins, so a view
    joined to the touched processes would unnest every release ever loaded first. -#}

{% macro ocds_releases(fields) -%}
select
    r.source,
    r.ocid,
    r.release_id,
    r.release_date,
    r.tags,
    f.title as release_title,
    f.tender.title as tender_title,
    f.tender.description as tender_description,
    f.tender.classification.scheme as tender_cpv_scheme,
    f.tender.classification.id as tender_cpv_code,
    f.buyer.id as buyer_id,
    f.buyer.name as buyer_name,
    r.landing_file,
    r.loaded_at
from {{ fields }} as f
-- the narrow side last: DuckDB builds its hash table from it rather than from the nested fields
inner join {{ source('raw', 'ocds_releases') }} as r
    on r.source = f.source and r.ocid = f.ocid and r.release_id = f.release_id
{%- endmacro %}

{% macro ocds_release_awards(fields) -%}
with awards as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        unnest(awards) as award,
        unnest(range(1, len(awards) + 1)) as award_position
    from {{ fields }}
    where len(awards) > 0
)

select
    source,
    ocid,
    release_id,
    release_date,
    award_position,
    award.id as award_id,
    award.title as award_title,
    lower(award.status) as award_status,
    award.date as award_date_text,
    try_cast(award.value.amount as decimal(18, 2)) as value_amount,
    upper(award.value.currency) as value_currency,
    award.suppliers,
    loaded_at
from awards
{%- endmacro %}

{% macro ocds_release_classifications(fields) -%}
with stated as (
    select
        source,
        ocid,
        release_id,
        loaded_at,
        unnest(list_concat(
            [tender.classification],
            coalesce(tender.additionalClassifications, []),
            coalesce(list_transform(tender.items, lambda i: i.classification), []),
            coalesce(flatten(list_transform(tender.items, lambda i: i.additionalClassifications)), [])
        )) as classification
    from {{ fields }}
)

select
    source,
    ocid,
    release_id,
    upper(trim(classification.scheme)) as scheme,
    trim(classification.id) as code,
    loaded_at
from stated
where classification.id is not null
{%- endmacro %}

{% macro ocds_release_parties(fields) -%}
with parties as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        unnest(parties) as party
    from {{ fields }}
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
{%- endmacro %}
