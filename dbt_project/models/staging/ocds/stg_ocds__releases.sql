-- One row per OCDS release: its key and load columns, and the release-level fields the loader read from
-- its JSON into raw.ocds_release_fields (flows/raw/ocds_releases.py), renamed.
-- The query is the macro ocds_releases (macros/ocds_staging.sql): incremental compile models apply it to
-- the releases of the processes they recompile only.
{{ config(materialized='view') }}

{{ ocds_releases(source('raw_ocds', 'ocds_release_fields')) }}
