-- One row per counted payment (republished copies removed, section 5.2): the contract's columns of
-- int_spend__payments_attributed, which is built incrementally. Publishing copies it into a table.
{{ config(materialized='view') }}
select
    payment_key,
    publisher_id,
    buyer_name,
    buyer_lad_code,
    payment_date,
    month,
    financial_year,
    amount_gbp,
    supplier_key,
    supplier_name,
    is_redacted,
    expense_description,
    scale,
    is_vcse,
    supplier_postcode,
    supplier_lad_code,
    locality,
    green_category,
    green_rule,
    source_file,
    source_row
from {{ ref('int_spend__payments_attributed') }}
