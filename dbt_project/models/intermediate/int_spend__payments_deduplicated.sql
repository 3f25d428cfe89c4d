{{ config(materialized='view') }}
-- Payments counted once: the first copy of every republished payment (see int_spend__payments_ranked).
select *
from {{ ref('int_spend__payments_ranked') }}
where copy_rank = 1
