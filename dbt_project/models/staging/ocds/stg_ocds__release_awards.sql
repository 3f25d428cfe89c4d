-- One row per award stated in a release (raw.ocds_release_fields.awards), typed and renamed.
{{ config(materialized='view') }}

with awards as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        unnest(awards) as award,
        unnest(range(1, len(awards) + 1)) as award_position
    from {{ source('raw_ocds', 'ocds_release_fields') }}
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
