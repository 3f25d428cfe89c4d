-- The order in which releases of one process are merged: by release date, ties by release id
-- (section 5.1). A release without a date sorts first, so any dated release overrides it.
-- Incremental: a new release can fall anywhere in its process's order, so touched processes are resequenced whole;
-- only their releases are read (ocds_staged), not every release joined to its fields first.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

select
    r.source,
    r.ocid,
    r.release_id,
    r.release_date,
    row_number() over (
        partition by r.source, r.ocid
        order by r.release_date asc nulls first, r.release_id asc
    ) as release_seq,
    r.loaded_at
from {{ ocds_staged('stg_ocds__releases', ocds_releases, watermark='loaded_at') }} as r
