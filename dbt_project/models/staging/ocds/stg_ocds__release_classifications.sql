-- One row per classification stated in a release: tender.classification, tender.additionalClassifications,
-- and each tender item's classification and additionalClassifications.
with releases as (
    select * from {{ source('raw', 'ocds_releases') }}
),

stated as (
    select
        source,
        ocid,
        release_id,
        unnest(list_concat(
            [{{ json_value('release_json', '$.tender.classification') }}],
            coalesce({{ json_value('release_json', '$.tender.additionalClassifications[*]') }}, []),
            coalesce({{ json_value('release_json', '$.tender.items[*].classification') }}, []),
            coalesce({{ json_value('release_json', '$.tender.items[*].additionalClassifications[*]') }}, [])
        )) as classification
    from releases
)

select
    source,
    ocid,
    release_id,
    upper(trim({{ json_text('classification', '$.scheme') }})) as scheme,
    trim({{ json_text('classification', '$.id') }}) as code
from stated
where classification is not null
  and {{ json_text('classification', '$.id') }} is not null
