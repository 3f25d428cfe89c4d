-- The feed registry as ingested: one row per registry row, so a publisher appears once per file.
select
    publisher_id,
    publisher_name,
    upper(trim(lad_code)) as lad_code,
    url,
    format
from {{ source('raw', 'spend_publishers') }}
