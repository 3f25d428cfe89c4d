-- One row per (award, supplier) with the supplier's equal share of the award value (section 5.1).
-- References that resolve to the same supplier_key (e.g. one company listed under two party ids) are
-- one supplier; its details come from the reference with the lowest party id. Shares are split in
-- pennies and the odd pennies go to the first suppliers by key, so shares always sum to the award value.
-- Incremental: a night recomputes the processes with a release loaded since this table's watermark (in
-- their awards, supplier parties or release-level fields, which fct_award_suppliers copies), and those
-- where a supplier named without a company number now takes another number by name (a new sighting of
-- the name in awards or payments). Each row carries names_fingerprint, a hash of the name -> number
-- pairs its process used, so that comparing it with the mapping now finds them; built_at marks the rows
-- this build wrote, which is what fct_award_suppliers rebuilds.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}
{%- set up_to = built_up_to() if is_incremental() else none %}
with names_used as (
    select p.source, p.ocid, sum(hash(p.name_normalised, n.company_number)) as names_fingerprint
    from {{ ref('int_ocds__award_supplier_parties') }} as p
    left join {{ ref('int_suppliers__company_number_by_name') }} as n
        on n.name_normalised = p.name_normalised
    where p.company_number is null and p.name_normalised is not null
    group by p.source, p.ocid
),
{% if is_incremental() %}

-- A process without a name looked up has fingerprint 0, now and in this table, so only processes with a
-- nonzero one on either side are compared (every row of a process carries the same fingerprint).
recomputed as (
    select source, ocid from {{ ref('int_ocds__compiled_awards') }} where last_loaded_at > {{ up_to }}
    union
    select source, ocid from {{ ref('int_ocds__award_supplier_parties') }} where last_loaded_at > {{ up_to }}
    union
    select source, ocid from {{ ref('int_ocds__compiled_releases') }} where last_loaded_at > {{ up_to }}
    union
    select coalesce(b.source, u.source), coalesce(b.ocid, u.ocid)
    from (select distinct source, ocid, names_fingerprint from {{ this }} where names_fingerprint <> 0) as b
    full join names_used as u on u.source = b.source and u.ocid = b.ocid
    where coalesce(u.names_fingerprint, 0) <> coalesce(b.names_fingerprint, 0)
),
{% endif %}

-- The references of the processes built, each with the number its name carries (read for those only).
refs as (
    select
        p.*,
        n.company_number as company_number_by_name,
        case
            when coalesce(p.company_number, n.company_number) is not null
                then 'GB-COH-' || coalesce(p.company_number, n.company_number)
            when p.name_normalised is not null then 'NAME-' || p.name_normalised
        end as supplier_key
    from {{ ref('int_ocds__award_supplier_parties') }} as p
    left join {{ ref('int_suppliers__company_number_by_name') }} as n
        on n.name_normalised = p.name_normalised
    {% if is_incremental() %}
    where (p.source, p.ocid) in (select source, ocid from recomputed)
    {% endif %}
),

suppliers as (
    select
        *,
        row_number() over (
            partition by source, ocid, award_id, supplier_key
            order by party_id nulls last, supplier_position
        ) as ref_rank
    from refs
    where supplier_key is not null
),

distinct_suppliers as (
    select
        *,
        count(*) over (partition by source, ocid, award_id) as n_suppliers,
        row_number() over (partition by source, ocid, award_id order by supplier_key) as supplier_rank
    from suppliers
    where ref_rank = 1
),

awards as (
    select
        s.*,
        a.award_title,
        a.award_status,
        a.is_counted,
        coalesce(try_cast(left(a.award_date_text, 10) as date), a.first_release_date) as award_date,
        a.value_amount,
        a.value_currency,
        -- Unstated currency on a UK notice is taken as GBP.
        coalesce(a.value_currency, 'GBP') = 'GBP' as is_gbp,
        cast(a.value_amount * 100 as bigint) as value_pennies,
        greatest(s.last_loaded_at, a.last_loaded_at) as loaded_up_to
    from distinct_suppliers as s
    inner join {{ ref('int_ocds__compiled_awards') }} as a
        on a.source = s.source and a.ocid = s.ocid and a.award_id = s.award_id
),

shares as (
    select
        *,
        cast(floor(value_pennies * 1.0 / n_suppliers) as bigint) as base_pennies
    from awards
)

select
    s.source,
    s.ocid,
    s.award_id,
    s.supplier_key,
    s.supplier_name,
    s.name_normalised,
    s.company_number,
    s.vat_number,
    s.scale,
    s.is_vcse,
    s.postcode,
    s.party_id,
    s.n_suppliers,
    s.award_title,
    s.award_status,
    s.is_counted,
    s.award_date,
    s.value_amount,
    s.value_currency,
    s.is_gbp,
    cast(
        (base_pennies + case when supplier_rank <= value_pennies - base_pennies * n_suppliers then 1 else 0 end) / 100.0
        as decimal(18, 2)
    ) as value_share,
    coalesce(u.names_fingerprint, 0) as names_fingerprint,
    greatest(s.loaded_up_to, r.last_loaded_at) as last_loaded_at,
    cast('{{ run_started_at }}' as timestamptz) as built_at
from shares as s
left join names_used as u on u.source = s.source and u.ocid = s.ocid
left join {{ ref('int_ocds__compiled_releases') }} as r on r.source = s.source and r.ocid = s.ocid
