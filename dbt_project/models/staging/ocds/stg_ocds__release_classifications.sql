-- One row per classification stated in a release: tender.classification, tender.additionalClassifications,
-- and each tender item's classification and additionalClassifications (raw.ocds_release_fields.tender).
{{ config(materialized='view') }}

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
    from {{ source('raw_ocds', 'ocds_release_fields') }}
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
