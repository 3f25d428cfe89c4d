-- One row per (award, supplier) with the supplier's equal share of the award value (section 5.1).
-- References that resolve to the same supplier_key (e.g. one company listed under two party ids) are
-- one supplier; its details come from the reference with the lowest party id. Shares are split in
-- pennies and the odd pennies go to the first suppliers by key, so shares always sum to the award value.
with refs as (
    select
        p.*,
        case
            when coalesce(p.company_number, n.company_number) is not null
                then 'GB-COH-' || coalesce(p.company_number, n.company_number)
            when p.name_normalised is not null then 'NAME-' || p.name_normalised
        end as supplier_key
    from {{ ref('int_ocds__award_supplier_parties') }} as p
    left join {{ ref('int_suppliers__company_number_by_name') }} as n
        on n.name_normalised = p.name_normalised
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
        cast(a.value_amount * 100 as bigint) as value_pennies
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
    source,
    ocid,
    award_id,
    supplier_key,
    supplier_name,
    name_normalised,
    company_number,
    vat_number,
    scale,
    is_vcse,
    postcode,
    party_id,
    n_suppliers,
    award_title,
    award_status,
    is_counted,
    award_date,
    value_amount,
    value_currency,
    is_gbp,
    cast(
        (base_pennies + case when supplier_rank <= value_pennies - base_pennies * n_suppliers then 1 else 0 end) / 100.0
        as decimal(18, 2)
    ) as value_share
from shares
