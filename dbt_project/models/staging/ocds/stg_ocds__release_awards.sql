-- One row per award stated in a release.
with releases as (
    select
        source,
        ocid,
        release_id,
        release_date,
        {{ json_value('release_json', '$.awards[*]') }} as awards
    from {{ source('raw', 'ocds_releases') }}
),

awards as (
    select
        source,
        ocid,
        release_id,
        release_date,
        unnest(awards) as award,
        unnest(range(1, len(awards) + 1)) as award_position
    from releases
    where len(awards) > 0
)

select
    source,
    ocid,
    release_id,
    release_date,
    award_position,
    {{ json_text('award', '$.id') }} as award_id,
    {{ json_text('award', '$.title') }} as award_title,
    lower({{ json_text('award', '$.status') }}) as award_status,
    {{ json_text('award', '$.date') }} as award_date_text,
    try_cast({{ json_text('award', '$.value.amount') }} as decimal(18, 2)) as value_amount,
    upper({{ json_text('award', '$.value.currency') }}) as value_currency,
    {{ json_org_refs('award', '$.suppliers') }} as suppliers
from awards
