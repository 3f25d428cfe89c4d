{#- postcode -> lad_code for the postcodes `postcodes` (a query of one column) names, as a subquery to join:
    joined directly, the planner builds its hash table from the whole postcode directory (2.7M rows) for the
    few thousand postcodes of the rows at hand. The postcodes are gathered into one list first: the planner
    estimates that as a few rows, where its estimate of a query joining several tables (dim_suppliers') ran
    to millions and it built the hash table from the directory after all (0.6 -> 0.2 CPU-s at 10M). -#}
{% macro postcode_districts(postcodes) -%}
(
    select postcode, lad_code
    from {{ ref('stg_reference__postcode_lad') }}
    where postcode in (select unnest(list(distinct postcode)) from ({{ postcodes }}) as wanted(postcode))
)
{%- endmacro %}
