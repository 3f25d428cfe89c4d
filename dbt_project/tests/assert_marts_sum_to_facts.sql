-- Sums of the facts equal the marts, per source: payments and award shares (GBP only) add up to the
-- same totals in sme_spend, local_spend and green_spend (green part), dim_suppliers and dim_buyers.
with facts as (
    select 'payments' as source, sum(amount_gbp) as total_gbp,
           sum(case when green_category is not null then amount_gbp end) as green_gbp,
           sum(case when supplier_key is not null then amount_gbp end) as supplier_gbp
    from {{ ref('fct_payments') }}
    union all
    select source, sum(value_gbp), sum(case when green_category is not null then value_gbp end), sum(value_gbp)
    from {{ ref('fct_award_suppliers') }}
    group by source
),

marts as (
    select source, sum(total_gbp) as total_gbp from {{ ref('sme_spend') }} group by source
),

green as (
    select source, sum(green_gbp) as green_gbp from {{ ref('green_spend') }} group by source
),

checks as (
    select 'sme_spend total ' || f.source as check_name, coalesce(f.total_gbp, 0) as expected, coalesce(m.total_gbp, 0) as actual
    from facts as f left join marts as m on m.source = f.source
    union all
    select 'green_spend green ' || f.source, coalesce(f.green_gbp, 0), coalesce(g.green_gbp, 0)
    from facts as f left join green as g on g.source = f.source
    union all
    select 'dim_suppliers paid_gbp', coalesce((select supplier_gbp from facts where source = 'payments'), 0),
           (select coalesce(sum(paid_gbp), 0) from {{ ref('dim_suppliers') }})
    union all
    select 'dim_suppliers awarded_gbp', coalesce((select sum(supplier_gbp) from facts where source <> 'payments'), 0),
           (select coalesce(sum(awarded_gbp), 0) from {{ ref('dim_suppliers') }})
    union all
    select 'dim_buyers paid_gbp', coalesce((select total_gbp from facts where source = 'payments'), 0),
           (select coalesce(sum(paid_gbp), 0) from {{ ref('dim_buyers') }})
    union all
    select 'dim_buyers awarded_gbp', coalesce((select sum(total_gbp) from facts where source <> 'payments'), 0),
           (select coalesce(sum(awarded_gbp), 0) from {{ ref('dim_buyers') }})
)

select * from checks where expected <> actual
