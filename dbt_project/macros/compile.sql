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
