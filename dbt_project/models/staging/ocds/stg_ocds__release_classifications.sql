-- One row per classification stated in a release: tender.classification, tender.additionalClassifications,
-- and each tender item's classification and additionalClassifications (raw.ocds_release_fields.tender).
-- The query is the macro ocds_release_classifications (macros/ocds_staging.sql): incremental compile models apply it to
-- the releases of the processes they recompile only.
{{ config(materialized='view') }}

{{ ocds_release_classifications(source('raw_ocds', 'ocds_release_fields')) }}
