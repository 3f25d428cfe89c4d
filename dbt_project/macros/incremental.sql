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
    is the column that carries it. Before any such row exists, everything is new. -#}
{% macro built_up_to(watermark='last_loaded_at', condition=none) -%}
    coalesce((select max({{ watermark }}) from {{ this }}{% if condition %} where {{ condition }}{% endif %}),
             cast('1900-01-01 00:00:00+00' as timestamptz))
{%- endmacro %}
