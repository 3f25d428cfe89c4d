{#- UK financial year (1 April - 31 March) written '2024/25'. -#}
{% macro financial_year(date_expr) -%}
    {%- set start_year -%}
        (extract(year from {{ date_expr }}) - case when extract(month from {{ date_expr }}) < 4 then 1 else 0 end)
    {%- endset -%}
    case when {{ date_expr }} is not null then
        {{ dbt.concat([dbt.safe_cast(start_year, api.Column.translate_type('string')), "'/'",
                       dbt.right(dbt.safe_cast(start_year ~ ' + 1', api.Column.translate_type('string')), 2)]) }}
    end
{%- endmacro %}

{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#- The UK calendar date of a timestamp with time zone (a release published at 23:30 UTC on 31 March
    in summer time is 1 April in the UK). -#}
{% macro uk_date(timestamp_expr) -%}
    cast(timezone('Europe/London', {{ timestamp_expr }}) as date)
{%- endmacro %}
