-- Every loaded payment line, ranked among its republished copies (section 5.2).
-- A payment is the same payment when publisher, transaction number, date, amount and payee match, or,
-- without a transaction number, date, amount, payee and description. Lines that repeat inside one file
-- are genuine repeat payments: the k-th such line of each file is matched only with the k-th line of
-- the other files, and copy_rank 1 is the copy in the earliest-loaded file.
-- Names are normalised once per distinct spelling, not once per line (a few thousand payees pay
-- millions of lines).
with payees as (
    select
        supplier_name,
        {{ normalise_name('supplier_name') }} as payee_normalised
    from (select distinct supplier_name from {{ ref('stg_spend__payments') }} where supplier_name is not null) as names
),

payments as (
    select
        p.*,
        n.payee_normalised
    from {{ ref('stg_spend__payments') }} as p
    left join payees as n on n.supplier_name = p.supplier_name
),

files as (
    select source_file, min(loaded_at) as file_loaded_at
    from payments
    group by source_file
),

occurrences as (
    select
        p.*,
        f.file_loaded_at,
        case when p.transaction_number is null then p.expense_description end as dedup_description,
        row_number() over (
            partition by
                p.publisher_id, p.source_file, p.transaction_number, p.payment_date, p.amount_gbp,
                p.payee_normalised, case when p.transaction_number is null then p.expense_description end
            order by p.source_row
        ) as occurrence_in_file
    from payments as p
    inner join files as f on f.source_file = p.source_file
)

select
    payment_key,
    publisher_id,
    source_file,
    source_row,
    file_sha256,
    payment_date,
    amount_gbp,
    supplier_name,
    payee_normalised,
    is_redacted,
    supplier_id,
    transaction_number,
    expense_description,
    expense_area,
    {{ company_number('company_number') }} as company_number,
    vat_number,
    {{ normalise_postcode('supplier_postcode') }} as supplier_postcode,
    loaded_at,
    occurrence_in_file,
    row_number() over (
        partition by
            publisher_id, transaction_number, payment_date, amount_gbp, payee_normalised, dedup_description,
            occurrence_in_file
        order by file_loaded_at, source_file
    ) as copy_rank
from occurrences
