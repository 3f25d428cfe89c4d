{#- The only DuckDB-specific JSON syntax in the project. Staging models call these; a port to another
    warehouse re-implements these macros (e.g. JSON_VALUE / jsonb_path_query) and nothing else. -#}

{% macro json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro json_value(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}

{#- One row per element of the JSON array at `path` (use in a select list; an absent array yields no rows). -#}
{% macro json_array_elements(column, path) -%}
    unnest(json_extract({{ column }}, '{{ path }}[*]'))
{%- endmacro %}

{#- The `id` of every object in the arrays at the given paths, as a list of text. -#}
{% macro json_ids(column, paths) -%}
    list_concat(
    {%- for p in paths %}
        coalesce(json_extract_string({{ column }}, '{{ p }}[*].id'), []){{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- A JSON array at `path` converted to a typed list (DuckDB json structure string such as
    '["VARCHAR"]'); null when the value there is not an array, so a malformed release cannot stop the build. -#}
{% macro json_typed_array(column, path, structure) -%}
    case
        when json_type({{ column }}, '{{ path }}') = 'ARRAY'
        then from_json(json_extract({{ column }}, '{{ path }}'), '{{ structure }}')
    end
{%- endmacro %}

{#- A JSON array of organisation references as a list of (id, name) structs. -#}
{% macro json_org_refs(column, path) -%}
    {{ json_typed_array(column, path, '[{"id": "VARCHAR", "name": "VARCHAR"}]') }}
{%- endmacro %}
