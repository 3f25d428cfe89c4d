-- One row per counted payment (republished copies removed, section 5.2).
with payments as (
    select * from {{ ref('int_spend__payments_deduplicated') }}
),

resolved as (
    select
        p.*,
        r.supplier_key,
        r.match_method,
        d.scale as directory_scale,
        d.is_vcse as directory_is_vcse,
        d.postcode as directory_postcode
    from payments as p
    left join {{ ref('int_suppliers__payment_resolution') }} as r on r.payment_key = p.payment_key
    left join {{ ref('int_suppliers__directory') }} as d on d.supplier_key = r.supplier_key
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
    l.source_row
from located as l
left join {{ ref('stg_reference__postcode_lad') }} as pc on pc.postcode = l.located_postcode
left join {{ ref('stg_reference__lad_geography') }} as sg on sg.lad_code = pc.lad_code
left join {{ ref('stg_reference__lad_geography') }} as bg on bg.lad_code = l.buyer_lad_code
left join {{ ref('int_green__classified') }} as g
    on g.subject_type = 'payment_description' and g.subject_id = l.expense_description
