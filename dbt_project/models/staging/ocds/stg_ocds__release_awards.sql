-- One row per award stated in a release.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid', 'release_id']) }}

with releases as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        {{ json_value('release_json', '$.awards[*]') }} as awards
    from {{ source('raw', 'ocds_releases') }}
    {% if is_incremental() %}
    where loaded_at > {{ ocds_compiled_up_to('loaded_at') }}
    {% endif %}
),

awards as (
    select
        source,
        ocid,
        release_id,
        release_date,
        loaded_at,
        unnest(awards) as award,
        unnest(range(1, len(awards) + 1)) as award_position
    from releases
    where len(awards) > 0
),

extracted as (
    select
        * exclude (award),
        {{ json_texts('award', ['$.id', '$.title', '$.status', '$.date', '$.value.amount', '$.value.currency']) }} as texts,
        {{ json_value('award', '$.suppliers') }} as suppliers
    from awards
)

select
    source,
    ocid,
    release_id,
    release_date,
    award_position,
    texts[1] as award_id,
    texts[2] as award_title,
    lower(texts[3]) as award_status,
    texts[4] as award_date_text,
    try_cast(texts[5] as decimal(18, 2)) as value_amount,
    upper(texts[6]) as value_currency,
    {{ json_array_as('suppliers', '[{"id": "VARCHAR", "name": "VARCHAR"}]') }} as suppliers,
    loaded_at
from extracted
