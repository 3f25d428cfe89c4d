{#- Per row, the parts add up to the whole to the penny (nulls count as zero). -#}
{% test sums_to(model, column_name, parts) %}
select *
from {{ model }}
where coalesce({{ column_name }}, 0) <>
    {% for p in parts %}coalesce({{ p }}, 0){{ " + " if not loop.last }}{% endfor %}
{% endtest %}
