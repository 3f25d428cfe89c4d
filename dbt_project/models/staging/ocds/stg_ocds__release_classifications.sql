-- One row per classification stated in a release: tender.classification, tender.additionalClassifications,
-- and each tender item's classification and additionalClassifications (raw.ocds_release_fields.tender).
{{ config(materialized='view') }}

with stated as (
    select
        r.source,
        r.ocid,
        r.release_id,
        r.loaded_at,
        unnest(list_concat(
            [f.tender.classification],
            coalesce(f.tender.additionalClassifications, []),
            coalesce(list_transform(f.tender.items, lambda i: i.classification), []),
            coalesce(flatten(list_transform(f.tender.items, lambda i: i.additionalClassifications)), [])
        )) as classification
    from {{ source('raw', 'ocds_releases') }} as r
    inner join {{ source('raw_ocds', 'ocds_release_fields') }} as f
        on f.source = r.source and f.ocid = r.ocid and f.release_id = r.release_id
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
