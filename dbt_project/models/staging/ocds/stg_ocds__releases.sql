-- One row per OCDS release, release-level fields extracted from the JSON. The JSON is read only here
-- and in the other stg_ocds__ models (through the json macros).
with releases as (
    select * from {{ source('raw', 'ocds_releases') }}
)

select
    source,
    ocid,
    release_id,
    release_date,
    tags,
    {{ json_text('release_json', '$.title') }} as release_title,
    {{ json_text('release_json', '$.tender.title') }} as tender_title,
    {{ json_text('release_json', '$.tender.description') }} as tender_description,
    {{ json_text('release_json', '$.tender.classification.scheme') }} as tender_cpv_scheme,
    {{ json_text('release_json', '$.tender.classification.id') }} as tender_cpv_code,
    {{ json_text('release_json', '$.buyer.id') }} as buyer_id,
    {{ json_text('release_json', '$.buyer.name') }} as buyer_name,
    landing_file,
    loaded_at
from releases
