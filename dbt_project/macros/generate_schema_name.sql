{#- Layers land in schemas named exactly as configured (staging, intermediate, marts, reference):
    the published contract fixes the schema name `marts`, so dbt's default target-prefixing is off. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
