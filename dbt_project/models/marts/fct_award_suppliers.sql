-- One row per (counted award, supplier): the supplier's equal share of the award (section 5.1).
-- value_gbp is null for awards not in GBP (and awards without a value): they stay visible here but
-- are not summed into any GBP figure.
-- Incremental: computing every row is cheap, writing them all is not (most of a night's cost of this
-- model). A night computes every row, compares them with the table and replaces only the processes whose
-- rows differ - new or updated notices, suppliers whose key changed - and the post-hook removes the
-- processes that no longer have a counted award.
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
    -- Postcodes of these suppliers only, as in dim_suppliers: joined directly, the planner hashes the
    -- whole postcode directory (2.7M rows) for ~17k postcodes.
    left join (
        select postcode, lad_code
        from {{ ref('stg_reference__postcode_lad') }}
        where postcode in (select postcode from award_suppliers)
    ) as pc on pc.postcode = a.postcode
    left join {{ ref('stg_reference__lad_geography') }} as sg on sg.lad_code = pc.lad_code
    left join {{ ref('stg_reference__lad_geography') }} as bg on bg.lad_code = r.buyer_lad_code
    left join {{ ref('int_green__classified') }} as g
        on g.subject_type = 'notice' and g.subject_id = a.source || '|' || a.ocid
)
{% if is_incremental() %},

-- A process's rows are compared by their count and the sum of their row hashes: a third of the CPU of
-- comparing whole rows both ways with EXCEPT.
computed as (
    select source, ocid, count(*) as n_rows, sum(hash(r)) as rows_hash from award_rows as r group by all
),

built as (
    select source, ocid, count(*) as n_rows, sum(hash(t)) as rows_hash from {{ this }} as t group by all
),

changed as (
    select coalesce(c.source, b.source) as source, coalesce(c.ocid, b.ocid) as ocid
    from computed as c
    full join built as b on b.source = c.source and b.ocid = c.ocid
    where c.n_rows is distinct from b.n_rows or c.rows_hash is distinct from b.rows_hash
)

select r.*
from award_rows as r
semi join changed as c on c.source = r.source and c.ocid = r.ocid
{% else %}

select * from award_rows
{% endif %}
