-- Payments summed per buyer, month and every attribute the breakdown marts and the dimensions group
-- by: a few thousand rows for ten million lines, so each mart aggregates those, not every line.
-- Incremental: a night recomputes the (buyer, month) groups holding lines this build attributed.
-- A line's buyer and month never change without a full rebuild (flows/transform.py), so a group is
-- always recomputed whole, losing the rows a re-attributed line left.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='buyer_month') }}
with lines as (
    select *
    from {{ ref('int_spend__payments_attributed') }} as p
    {% if is_incremental() %}
    where exists (
        select 1
        from {{ ref('int_spend__payments_attributed') }} as a
        where a.attributed_at = cast('{{ run_started_at }}' as timestamptz)
          and a.buyer_name is not distinct from p.buyer_name
          and a.month is not distinct from p.month
    )
    {% endif %}
)

select
    coalesce(buyer_name, '') || '|' || coalesce(cast(month as varchar), '') as buyer_month,
    publisher_id,
    buyer_name,
    buyer_lad_code,
    month,
    scale,
    is_vcse,
    locality,
    green_category,
    supplier_key,
    count(*) as n_payments,
    sum(amount_gbp) as amount_gbp,
    -- The latest name and postcode stated in the group, with the (date, file, row) they were stated
    -- on, so that the latest over several groups is the latest over their lines.
    {{ latest_stated('supplier_name', 'row(payment_date, source_file, source_row)') }} as latest_payee_name,
    max(row(payment_date, source_file, source_row)) filter (where supplier_name is not null)
        as latest_payee_name_stated,
    {{ latest_stated('supplier_postcode', 'row(payment_date, source_file, source_row)') }} as latest_payee_postcode,
    max(row(payment_date, source_file, source_row)) filter (where supplier_postcode is not null)
        as latest_payee_postcode_stated
from lines
group by all
