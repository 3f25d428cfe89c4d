{#- None of these columns holds a null; one row per column that does, with its count. One scan and one
    dbt node per model instead of a not_null node per column: a night's build runs ~50 fewer nodes, and
    dbt's own work per node costs more than the scan. -#}
{% test columns_not_null(model, columns) %}
with null_counts as (
    select
        {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as {{ adapter.quote(column) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
)

select column_name, n_nulls
from (unpivot null_counts on columns(*) into name column_name value n_nulls)
where n_nulls > 0
{% endtest %}
