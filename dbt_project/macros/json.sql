{#- The only DuckDB-specific JSON syntax in the project. Staging models call these; a port to another
    warehouse re-implements these macros (e.g. JSON_VALUE / jsonb_path_query) and nothing else.
    Each call parses its document once, so the staging models ask for every path they need in one call. -#}

{#- The JSON value at `path` (wildcards allowed: `$.awards[*]` gives a list). -#}
{% macro json_value(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}

{#- The JSON value at each of `paths` (no wildcards), as a list in the order given. -#}
{% macro json_values(column, paths) -%}
    json_extract({{ column }}, [{% for p in paths %}'{{ p }}'{{ ", " if not loop.last }}{% endfor %}])
{%- endmacro %}

{#- The text at each of `paths`, as a list in the order given: a string's value, any other value's JSON
    text, null where the path is absent. -#}
{% macro json_texts(column, paths) -%}
    json_extract_string({{ column }}, [{% for p in paths %}'{{ p }}'{{ ", " if not loop.last }}{% endfor %}])
{%- endmacro %}

{#- An extracted JSON value converted to a typed list (DuckDB json structure string such as '["VARCHAR"]');
    null when it is not an array, so a malformed release cannot stop the build. -#}
{% macro json_array_as(value, structure) -%}
    case when json_type({{ value }}) = 'ARRAY' then from_json({{ value }}, '{{ structure }}') end
{%- endmacro %}
