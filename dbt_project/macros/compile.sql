{#- OCDS merge of one field across releases: the value from the latest release that states it
    (`ordering` increases with release date, ties by release id). DuckDB's max_by ... filter; other
    warehouses spell this with window functions. -#}
{% macro latest_stated(expr, ordering) -%}
    max_by({{ expr }}, {{ ordering }}) filter (where {{ expr }} is not null)
{%- endmacro %}

{#- The value of `expr` on the row where `ordering` is smallest (nulls skipped). -#}
{% macro earliest_stated(expr, ordering) -%}
    min_by({{ expr }}, {{ ordering }}) filter (where {{ expr }} is not null)
{%- endmacro %}

{#- Incremental OCDS models (materialized='incremental', delete+insert) recompile whole processes: the
    unique_key is (source, ocid), not the model's grain, because recompiling a process can also drop rows
    of it (an amendment restating the CPV codes). Releases are only ever added, so a process that has rows
    always keeps some, and deleting the processes present in the new rows removes every stale row.
    The latest load already compiled is `built_up_to(watermark)` (macros/incremental.sql). -#}

{#- The processes an incremental run recompiles: those with a release loaded after this model's watermark.
    `releases` has one row per release with its loaded_at (int_ocds__release_sequence). -#}
{% macro ocds_touched_processes(releases, watermark='last_loaded_at') -%}
    select distinct source, ocid from {{ releases }} where loaded_at > {{ built_up_to(watermark) }}
{%- endmacro %}

{#- The rows of the staging view `view`, whose query is the macro `staging` (macros/ocds_staging.sql): in
    an incremental run, that query over the release fields of the processes touched since `watermark`
    (see ocds_touched_processes; by default those with fields loaded since), so that only their releases
    are read and unnested; the view in a full build. The raw source is named in the incremental branch
    only: dbt unit tests, which have no `this` (is_incremental() would fail there) and test the full-build
    query, would otherwise need a fixture for it. -#}
{% macro ocds_staged(view, staging, releases=none, watermark='last_loaded_at') -%}
    {%- if this is not none and is_incremental() -%}
        {%- set fields = source('raw_ocds', 'ocds_release_fields') -%}
        ({{ staging('(select * from ' ~ fields ~ ' where (source, ocid) in ('
                    ~ ocds_touched_processes(releases or fields, watermark) ~ '))') }})
    {%- else -%}
        {{ ref(view) }}
    {%- endif -%}
{%- endmacro %}
