-- Section 4: suppliers seen with and without a company number under the same normalised name are one
-- supplier. This is the company number each normalised name carries anywhere it is seen (award
-- suppliers and payees). A name seen with several numbers takes the smallest, so the choice is stable;
-- n_company_numbers shows where that happened.
with sightings as (
    select name_normalised, company_number
    from {{ ref('int_ocds__award_supplier_parties') }}
    where company_number is not null and name_normalised is not null
    union all
    select payee_normalised, company_number
    from {{ ref('int_spend__payments_ranked') }}
    where company_number is not null and payee_normalised is not null and not is_redacted
)

select
    name_normalised,
    min(company_number) as company_number,
    count(distinct company_number) as n_company_numbers
from sightings
group by name_normalised
