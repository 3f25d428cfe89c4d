-- One row per classification stated in a release: tender.classification, tender.additionalClassifications,
-- and each tender item's classification and additionalClassifications.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid', 'release_id']) }}

with releases as (
    -- The tender is taken out once, so that the four lookups below parse it rather than the whole release.
    select source, ocid, release_id, loaded_at, {{ json_value('release_json', '$.tender') }} as tender
    from {{ source('raw', 'ocds_releases') }}
    {% if is_incremental() %}
    where loaded_at > {{ ocds_compiled_up_to('loaded_at') }}
    {% endif %}
),

stated as (
    select
        source,
        ocid,
        release_id,
        loaded_at,
        unnest(list_concat(
            [{{ json_value('tender', '$.classification') }}],
            coalesce({{ json_value('tender', '$.additionalClassifications[*]') }}, []),
            coalesce({{ json_value('tender', '$.items[*].classification') }}, []),
            coalesce({{ json_value('tender', '$.items[*].additionalClassifications[*]') }}, [])
        )) as classification
    from releases
),

extracted as (
    select *, {{ json_texts('classification', ['$.scheme', '$.id']) }} as texts
    from stated
    where classification is not null
)

select
    source,
    ocid,
    release_id,
    upper(trim(texts[1])) as scheme,
    trim(texts[2]) as code,
    loaded_at
from extracted
where texts[2] is not null
