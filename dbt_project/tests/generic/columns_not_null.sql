{#- None of these columns holds a null; one row per column that does, with its count. One dbt node per
    model instead of a not_null node per column: dbt's own work per node costs more than the check. One
    filtered count per column rather than one aggregate over all of them, so that DuckDB can skip every
    row group whose statistics show no nulls (0.01 vs 1 CPU-s on fct_payments' 10M rows). `changed`: see
    rows_to_check (macros/incremental.sql). -#}
{% test columns_not_null(model, columns, changed=none) %}
{%- set checked = rows_to_check(model, changed) %}
select column_name, n_nulls
from (
    {%- for column in columns %}
    select '{{ column }}' as column_name, count(*) as n_nulls from {{ checked }} as checked where {{ column }} is null
    {{- " union all" if not loop.last }}
    {%- endfor %}
) as null_counts
where n_nulls > 0
{% endtest %}
