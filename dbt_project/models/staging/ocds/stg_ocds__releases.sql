-- One row per OCDS release: its key and load columns, and the release-level fields the loader read from
-- its JSON into raw.ocds_release_fields (flows/raw/ocds_releases.py), renamed.
{{ config(materialized='view') }}

select
    r.source,
    r.ocid,
    r.release_id,
    r.release_date,
    r.tags,
    f.title as release_title,
    f.tender.title as tender_title,
    f.tender.description as tender_description,
    f.tender.classification.scheme as tender_cpv_scheme,
    f.tender.classification.id as tender_cpv_code,
    f.buyer.id as buyer_id,
    f.buyer.name as buyer_name,
    r.landing_file,
    r.loaded_at
from {{ source('raw_ocds', 'ocds_release_fields') }} as f
-- the narrow side last: DuckDB builds its hash table from it rather than from the nested fields
inner join {{ source('raw', 'ocds_releases') }} as r
    on r.source = f.source and r.ocid = f.ocid and r.release_id = f.release_id
