{#- Helpers of the incremental models (see flows/transform.py for when they are rebuilt in full). -#}

{#- A SQL condition true for rows of landing files in `lines` that `relation` has not seen yet. The file list is
    read first and written into the query as constants: a condition on a subquery is planned as a join
    after the staging view's projection (hashing every line of the warehouse), while constants are
    pushed down into the scan of the raw table. Only used in incremental runs, which dbt unit tests
    do not make. -#}
{% macro in_files_not_yet_in(relation, lines, file_column='source_file') -%}
    {%- set query -%}
        select distinct {{ file_column }} from {{ lines }}
        where {{ file_column }} not in (select distinct {{ file_column }} from {{ relation }})
        order by {{ file_column }}
    {%- endset -%}
    {%- set files = run_query(query).columns[0].values() if execute else [] -%}
    {%- if files | length == 0 -%}
        false
    {%- else -%}
        {{ file_column }} in ({% for f in files %}'{{ f | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- The latest load already built into this model (of the rows meeting `condition`, if given): `watermark`
    is the column that carries it. Before any such row exists, everything is new. It is read before the
    model's query and written into it as a constant: as a subquery, the planner cannot estimate how few
    rows are newer, and it built its hash tables from the whole side (every release's nested fields,
    ~2 CPU-s a model at 10M) instead of from the night's few processes. -#}
{% macro built_up_to(watermark='last_loaded_at', condition=none) -%}
    {%- set query -%}
        select coalesce(max({{ watermark }}), cast('1900-01-01 00:00:00+00' as timestamptz))::varchar
        from {{ this }}{% if condition %} where {{ condition }}{% endif %}
    {%- endset -%}
    cast('{{ run_query(query).columns[0].values()[0] if execute else "1900-01-01 00:00:00+00" }}' as timestamptz)
{%- endmacro %}

{#- When the last complete build ended (ops.transform_state, recorded by flows/transform.py only after all
    its models and tests passed), as DuckDB text; none when none is recorded (or when not executing). -#}
{% macro last_complete_build() -%}
    {%- set state = adapter.get_relation(database=target.database, schema='ops', identifier='transform_state')
        if execute else none -%}
    {{- return(run_query('select max(built_at)::varchar from ' ~ state).columns[0].values()[0]
               if state is not none else none) -}}
{%- endmacro %}

{#- The rows a data test checks (tests/generic). In an incremental build, a test given `changed` checks only
    the rows that condition picks: what this build can have changed, given that every row before passed
    the tests of the last complete build. `changed` is SQL with placeholders: {model} (the tested
    relation), {last_build} (when the last complete build ended, recorded in ops.transform_state by
    flows/transform.py only after all its models and tests passed) and {build_started} (this build's
    start, as the incremental models stamp their rows). A full rebuild, a build with none recorded before,
    or a test without `changed` checks every row. -#}
{% macro rows_to_check(model, changed=none) -%}
    {%- set last_build = last_complete_build() if changed and not flags.FULL_REFRESH else none -%}
    {%- if last_build is none -%}
        {{ model }}
    {%- else -%}
        (select * from {{ model }} where {{ changed
            | replace('{model}', model | string)
            | replace('{last_build}', "cast('" ~ last_build ~ "' as timestamptz)")
            | replace('{build_started}', "cast('" ~ run_started_at ~ "' as timestamptz)") }})
    {%- endif -%}
{%- endmacro %}

{#- The payee identities of int_spend__payments_attributed (`this`) whose resolution changed since it last
    attributed, as rows `x` of int_suppliers__payee_resolution. The time is read once, when the model is
    compiled, so the pre-hook that deletes their rows and the query that attributes them again use the
    same one (a subquery in the query would see the table after the pre-hook's delete). -#}
{% macro reattributed_identities() -%}
    {%- set query -%} select max(attributed_at)::varchar from {{ this }} {%- endset -%}
    {%- set attributed_up_to = run_query(query).columns[0].values()[0] if execute else none -%}
    select x.payee_normalised, x.company_number, x.vat_number
    from {{ ref('int_suppliers__payee_resolution') }} as x
    where {% if attributed_up_to is none %}false{% else %}x.resolved_at > cast('{{ attributed_up_to }}' as timestamptz){% endif %}
{%- endmacro %}
