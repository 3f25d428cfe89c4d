-- One row per award stated in a release (raw.ocds_release_fields.awards), typed and renamed.
-- The query is the macro ocds_release_awards (macros/ocds_staging.sql): incremental compile models apply it to
-- the releases of the processes they recompile only.
{{ config(materialized='view') }}

{{ ocds_release_awards(source('raw_ocds', 'ocds_release_fields')) }}
