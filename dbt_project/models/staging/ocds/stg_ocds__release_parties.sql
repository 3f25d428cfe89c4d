-- One row per party stated in a release (raw.ocds_release_fields.parties), typed and renamed. Both the
-- current (details.scale / details.vcse) and the older Contracts Finder (sme / vco booleans) scale fields
-- are exposed; intermediate models apply the rules.
-- The query is the macro ocds_release_parties (macros/ocds_staging.sql): incremental compile models apply it to
-- the releases of the processes they recompile only.
{{ config(materialized='view') }}

{{ ocds_release_parties(source('raw_ocds', 'ocds_release_fields')) }}
