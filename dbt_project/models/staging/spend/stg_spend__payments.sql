-- One row per loaded payment line, with a stable key: the landing file and row it came from.
select
    {{ dbt.hash(dbt.concat(["source_file", "'#'", dbt.safe_cast("source_row", api.Column.translate_type("string"))])) }} as payment_key,
    publisher_id,
    source_file,
    source_row,
    file_sha256,
    payment_date,
    cast(amount_gbp as decimal(18, 2)) as amount_gbp,
    supplier_name,
    coalesce(is_redacted, false) as is_redacted,
    supplier_id,
    transaction_number,
    expense_description,
    expense_area,
    company_number,
    vat_number,
    supplier_postcode,
    loaded_at
from {{ source('raw', 'spend_payments') }}
