-- Every counted payment with its buyer, supplier, locality and green category (section 5), plus the
-- payee identity its supplier attributes came from. fct_payments publishes the contract's columns.
-- Incremental: a night attributes the lines of newly ranked files, and re-attributes the existing
-- lines whose payee now resolves differently (another supplier_key, or the supplier's latest scale,
-- VCSE flag or postcode changed with new awards), as int_suppliers__payee_resolution stamps them.
-- Everything else about a line depends on the line, its publisher, the postcode directory and the green
-- rules; when those change, or lines leave raw.spend_payments, the pipeline rebuilds in full
-- (flows/transform.py).
-- The lines of new files cannot be here yet, so only the re-attributed lines have rows to replace: the
-- pre-hook deletes those (lines of the identities resolved since) and the new rows are appended. Deleting
-- by the key of every new row scanned all ten million keys each night for lines that were not there.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}
              delete from {{ this }} as t
              where not t.is_redacted
                and exists ({{ reattributed_identities() }}
                            and x.payee_normalised is not distinct from t.payee_normalised
                            and x.company_number is not distinct from t.company_number
                            and x.vat_number is not distinct from t.vat_number)
              {% endif %}"
) }}
with resolution as (
    select * from {{ ref('int_suppliers__payee_resolution') }}
),

{% if is_incremental() %}
-- Identities that resolve differently since this model last attributed (see int_suppliers__payee_resolution).
reattributed as (
    {{ reattributed_identities() }}
),

{%- set new_files = in_files_not_yet_in(this, ref('int_spend__payments_deduplicated')) %}
payments as (
    select p.*
    from {{ ref('int_spend__payments_deduplicated') }} as p
    where {{ new_files }}
    union all
    select p.*
    from {{ ref('int_spend__payments_deduplicated') }} as p
    semi join reattributed as x
        on x.payee_normalised is not distinct from p.payee_normalised
       and x.company_number is not distinct from p.company_number
       and x.vat_number is not distinct from p.vat_number
    where not p.is_redacted and not ({{ new_files }})
),
{% else %}
payments as (
    select * from {{ ref('int_spend__payments_deduplicated') }}
),
{% endif %}

resolved as (
    select
        p.*,
        r.supplier_key,
        r.match_method,
        r.directory_scale,
        r.directory_is_vcse,
        r.directory_postcode
    from payments as p
    left join resolution as r
        on not p.is_redacted
       and r.payee_normalised is not distinct from p.payee_normalised
       and r.company_number is not distinct from p.company_number
       and r.vat_number is not distinct from p.vat_number
),

located as (
    select
        r.*,
        pub.publisher_name as buyer_name,
        pub.lad_code as buyer_lad_code,
        -- The directory's postcode (from notices) when the payee resolved to a known supplier; an
        -- unmatched payee is its own supplier, known by the postcode its payments publish.
        case when not r.is_redacted then coalesce(r.directory_postcode, r.supplier_postcode) end as located_postcode
    from resolved as r
    left join {{ ref('int_spend__publishers') }} as pub on pub.publisher_id = r.publisher_id
)

select
    l.payment_key,
    l.publisher_id,
    l.buyer_name,
    l.buyer_lad_code,
    l.payment_date,
    {{ month_start('l.payment_date') }} as month,
    {{ financial_year('l.payment_date') }} as financial_year,
    l.amount_gbp,
    l.supplier_key,
    l.supplier_name,
    l.is_redacted,
    l.expense_description,
    coalesce(l.directory_scale, 'unknown') as scale,
    l.directory_is_vcse as is_vcse,
    l.located_postcode as supplier_postcode,
    pc.lad_code as supplier_lad_code,
    {{ locality('pc.lad_code', 'l.buyer_lad_code', 'sg.combined_authority_code', 'bg.combined_authority_code',
                'sg.region_code', 'bg.region_code') }} as locality,
    g.green_category,
    g.green_rule,
    l.source_file,
    l.source_row,
    l.payee_normalised,
    l.company_number,
    l.vat_number,
    l.match_method,
    l.directory_scale,
    l.directory_is_vcse,
    l.directory_postcode,
    -- Validation checks the rows of fct_payments attributed since its last passing run (flows/validate.py);
    -- the build's start, the same for every model of it, tells this build's rows from earlier ones.
    cast('{{ run_started_at }}' as timestamptz) as attributed_at
from located as l
left join {{ ref('stg_reference__postcode_lad') }} as pc on pc.postcode = l.located_postcode
left join {{ ref('stg_reference__lad_geography') }} as sg on sg.lad_code = pc.lad_code
left join {{ ref('stg_reference__lad_geography') }} as bg on bg.lad_code = l.buyer_lad_code
left join {{ ref('int_green__classified') }} as g
    on g.subject_type = 'payment_description' and g.subject_id = l.expense_description
