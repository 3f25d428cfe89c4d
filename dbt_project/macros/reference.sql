{#- postcode -> lad_code for the postcodes `postcodes` (a query of one column) names, as a subquery to join:
    joined directly, the planner builds its hash table from the whole postcode directory (2.7M rows) for the
    few thousand postcodes of the rows at hand. -#}
{% macro postcode_districts(postcodes) -%}
(
    select postcode, lad_code
    from {{ ref('stg_reference__postcode_lad') }}
    where postcode in ({{ postcodes }})
)
{%- endmacro %}
