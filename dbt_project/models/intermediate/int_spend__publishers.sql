-- One row per publisher. The registry has a row per file, so name and district are taken once per
-- publisher (the alphabetically first if the registry disagrees with itself).
select
    publisher_id,
    min(publisher_name) as publisher_name,
    min(lad_code) as lad_code,
    count(*) as n_registry_rows
from {{ ref('stg_spend__publishers') }}
group by publisher_id
