-- fct_payments has one row per payment_key. Only keys of the rows attributed by this build can newly
-- repeat (a build that found a repeat failed and was not published, and the validation gate checks every
-- row changed since its last passing run), so only those keys are counted: at national scale a count over
-- every key of every night costs more than the night's whole build. A full rebuild attributes every row,
-- and then every key is counted; a build that attributed nothing counts none.
-- The validation gate checks the same (marts.fct_payments' unique_payment_key), so a night leaves it to
-- the gate (x-validated in models/marts/_marts__models.yml).
{{ config(tags=['also_validated']) }}
select payment_key, count(*) as n_rows
from {{ ref('fct_payments') }}
where payment_key in (
    select payment_key from {{ ref('int_spend__payments_attributed') }}
    where attributed_at = cast('{{ run_started_at }}' as timestamptz)
)
group by payment_key
having count(*) > 1
