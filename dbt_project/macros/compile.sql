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

{#- In an incremental run, a join that keeps only the rows of `alias` whose process was touched (see
    ocds_touched_processes); nothing in a full build. dbt unit tests have no `this` (is_incremental() would
    fail there), so they test the full-build query. -#}
{% macro ocds_touched_only(alias, releases, watermark='last_loaded_at') -%}
    {%- if this is not none and is_incremental() %}
    inner join ({{ ocds_touched_processes(releases, watermark) }}) as touched
        on touched.source = {{ alias }}.source and touched.ocid = {{ alias }}.ocid
    {%- endif %}
{%- endmacro %}
