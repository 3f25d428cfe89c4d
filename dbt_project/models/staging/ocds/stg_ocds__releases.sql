-- One row per OCDS release, release-level fields extracted from the JSON. The JSON is read only here
-- and in the other stg_ocds__ models (through the json macros), once per release: these are tables that
-- only ever take the releases loaded since their last build.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid', 'release_id']) }}

with releases as (
    select
        *,
        {{ json_texts('release_json', ['$.title', '$.tender.title', '$.tender.description',
                                       '$.tender.classification.scheme', '$.tender.classification.id',
                                       '$.buyer.id', '$.buyer.name']) }} as texts
    from {{ source('raw', 'ocds_releases') }}
    {% if is_incremental() %}
    where loaded_at > {{ ocds_compiled_up_to('loaded_at') }}
    {% endif %}
)

select
    source,
    ocid,
    release_id,
    release_date,
    tags,
    texts[1] as release_title,
    texts[2] as tender_title,
    texts[3] as tender_description,
    texts[4] as tender_cpv_scheme,
    texts[5] as tender_cpv_code,
    texts[6] as buyer_id,
    texts[7] as buyer_name,
    landing_file,
    loaded_at
from releases
