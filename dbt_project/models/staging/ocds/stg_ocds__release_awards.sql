-- One row per award stated in a release (raw.ocds_release_fields.awards), typed and renamed.
{{ config(materialized='view') }}

with awards as (
    select
        r.source,
        r.ocid,
        r.release_id,
        r.release_date,
        r.loaded_at,
        unnest(f.awards) as award,
        unnest(range(1, len(f.awards) + 1)) as award_position
    from {{ source('raw', 'ocds_releases') }} as r
    inner join {{ source('raw_ocds', 'ocds_release_fields') }} as f
        on f.source = r.source and f.ocid = r.ocid and f.release_id = r.release_id
    where len(f.awards) > 0
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
