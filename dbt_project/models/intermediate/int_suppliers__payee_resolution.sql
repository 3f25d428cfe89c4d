-- Section 4: each payee of counted, unredacted payments resolved to a supplier_key, first by company
-- number, then by VAT number, then by exact normalised name against the supplier directory. An
-- unmatched payee is its own supplier: GB-COH-<number> when a company number is known for it (on the
-- line, or for its normalised name anywhere), else NAME-<normalised name>.
-- Resolution depends only on the payee's identity (normalised name, company number, VAT number), so
-- it is one row per distinct identity, not per payment. Incremental: a night resolves every identity again
-- (cheap) but writes only the new ones and those that resolve differently, stamped resolved_at;
-- int_spend__payments_attributed re-attributes the payments of identities resolved after its own latest
-- attribution, instead of comparing every payment with this table.
-- The identities are the ones this table holds - lines leave only with a full rebuild, so none is lost
-- - and those of files int_spend__payments_attributed has not attributed yet, rather than the distinct
-- identities of every line (~0.5 CPU-s at 10M).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='identity_key') }}
with payees as (
    select distinct payee_normalised, company_number, vat_number
    from {{ ref('int_spend__payments_deduplicated') }}
    where not is_redacted
      and (payee_normalised is not null or company_number is not null)
    {% if is_incremental() %}
      -- named, not ref'd: the attributed lines are downstream of this model, read as the last build left them
      and {{ in_files_not_yet_in(this.incorporate(path={'identifier': 'int_spend__payments_attributed'}),
                                 ref('int_spend__payments_deduplicated')) }}
    union
    select payee_normalised, company_number, vat_number from {{ this }}
    {% endif %}
),

directory as (
    select supplier_key, company_number, vat_number
    from {{ ref('int_suppliers__directory') }}
),

by_vat as (
    select vat_number, min(supplier_key) as supplier_key
    from directory
    where vat_number is not null
    group by vat_number
),

by_name as (
    select name_normalised, min(supplier_key) as supplier_key
    from {{ ref('int_ocds__award_suppliers') }}
    where name_normalised is not null
    group by name_normalised
),

resolved as (
    select
        p.payee_normalised,
        p.company_number,
        p.vat_number,
        case
            when d.supplier_key is not null then d.supplier_key
            when v.supplier_key is not null then v.supplier_key
            when n.supplier_key is not null then n.supplier_key
            when coalesce(p.company_number, c.company_number) is not null
                then 'GB-COH-' || coalesce(p.company_number, c.company_number)
            else 'NAME-' || p.payee_normalised
        end as supplier_key,
        case
            when d.supplier_key is not null then 'company_number'
            when v.supplier_key is not null then 'vat_number'
            when n.supplier_key is not null then 'name'
            else 'unmatched'
        end as match_method
    from payees as p
    left join directory as d on d.company_number = p.company_number
    left join by_vat as v on v.vat_number = p.vat_number
    left join by_name as n on n.name_normalised = p.payee_normalised
    left join {{ ref('int_suppliers__company_number_by_name') }} as c on c.name_normalised = p.payee_normalised
),

identities as (
    select
        -- The identity as one non-null value: delete+insert matches keys with `=`, which nulls never meet.
        to_json([r.payee_normalised, r.company_number, r.vat_number])::varchar as identity_key,
        r.payee_normalised,
        r.company_number,
        r.vat_number,
        r.supplier_key,
        r.match_method,
        d.scale as directory_scale,
        d.is_vcse as directory_is_vcse,
        d.postcode as directory_postcode
    from resolved as r
    left join {{ ref('int_suppliers__directory') }} as d on d.supplier_key = r.supplier_key
)

select
    i.*,
    cast('{{ run_started_at }}' as timestamptz) as resolved_at
from identities as i
{% if is_incremental() %}
where not exists (
    select 1
    from {{ this }} as t
    where t.identity_key = i.identity_key
      and t.supplier_key is not distinct from i.supplier_key
      and t.match_method is not distinct from i.match_method
      and t.directory_scale is not distinct from i.directory_scale
      and t.directory_is_vcse is not distinct from i.directory_is_vcse
      and t.directory_postcode is not distinct from i.directory_postcode
)
{% endif %}
