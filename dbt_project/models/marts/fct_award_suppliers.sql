-- One row per (counted award, supplier): the supplier's equal share of the award (section 5.1).
-- value_gbp is null for awards not in GBP (and awards without a value): they stay visible here but
-- are not summed into any GBP figure.
-- Incremental: a night rebuilds the processes int_ocds__award_suppliers rewrote in this build (new or
-- updated notices, suppliers whose key changed; see its header), and the post-hook removes the processes
-- that no longer have a counted award. Everything else a row reads (postcodes, districts, green rules)
-- forces a full rebuild when it changes (flows/transform.py).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['source', 'ocid'],
    post_hook="delete from {{ this }} as f where not exists (
                   select 1 from {{ ref('int_ocds__award_suppliers') }} as a
                   where a.is_counted and a.source = f.source and a.ocid = f.ocid)"
) }}
with award_suppliers as (
    select * from {{ ref('int_ocds__award_suppliers') }}
    where is_counted
    {% if is_incremental() %}
        and built_at = cast('{{ run_started_at }}' as timestamptz)
    {% endif %}
),

award_rows as (
    select
        a.source,
        a.ocid,
        a.award_id,
        r.buyer_name,
        r.buyer_lad_code,
        a.award_date,
        {{ month_start('a.award_date') }} as month,
        {{ financial_year('a.award_date') }} as financial_year,
        case when a.is_gbp then a.value_share end as value_gbp,
        a.supplier_key,
        a.supplier_name,
        a.scale,
        a.is_vcse,
        a.postcode as supplier_postcode,
        pc.lad_code as supplier_lad_code,
        {{ locality('pc.lad_code', 'r.buyer_lad_code', 'sg.combined_authority_code', 'bg.combined_authority_code',
                    'sg.region_code', 'bg.region_code') }} as locality,
        r.cpv_code,
        coalesce(r.title, a.award_title) as title,
        g.green_category,
        g.green_rule
    from award_suppliers as a
    inner join {{ ref('int_ocds__compiled_releases') }} as r on r.source = a.source and r.ocid = a.ocid
    left join {{ postcode_districts('select postcode from award_suppliers') }} as pc
        on pc.postcode = a.postcode
    left join {{ ref('stg_reference__lad_geography') }} as sg on sg.lad_code = pc.lad_code
    left join {{ ref('stg_reference__lad_geography') }} as bg on bg.lad_code = r.buyer_lad_code
    left join {{ ref('int_green__classified') }} as g
        on g.subject_type = 'notice' and g.subject_id = a.source || '|' || a.ocid
)

select * from award_rows
