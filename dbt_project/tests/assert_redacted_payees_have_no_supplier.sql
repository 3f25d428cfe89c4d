-- Section 4: redacted payees have no supplier and count as unknown in every breakdown.
select payment_key
from {{ ref('fct_payments') }}
where is_redacted
  and (supplier_key is not null or scale <> 'unknown' or is_vcse is not null or locality <> 'unknown')
