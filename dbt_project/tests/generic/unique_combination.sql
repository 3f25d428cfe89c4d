{#- The grain of a model: no two rows share these columns (nulls compare equal). `changed`: see
    rows_to_check (macros/incremental.sql); for a grain it must pick every row of the groups that can
    have gained a row, e.g. whole processes. -#}
{% test unique_combination(model, columns, changed=none) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ rows_to_check(model, changed) }} as checked
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
