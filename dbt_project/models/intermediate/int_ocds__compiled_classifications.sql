-- CPV codes of each process's compiled state: the classifications of the latest release that states any
-- (tender, additional and item classifications are restated together when a notice is amended).
-- Incremental: only processes with new releases are recompiled, and only their releases are read and
-- unnested (ocds_staged): joining the staging view to them unnested every release ever loaded first.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with stated as (
    select
        c.source,
        c.ocid,
        c.code,
        s.release_seq,
        s.loaded_at
    from {{ ocds_staged('stg_ocds__release_classifications', ocds_release_classifications, ref('int_ocds__release_sequence')) }}
        as c
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on c.source = s.source and c.ocid = s.ocid and c.release_id = s.release_id
    where coalesce(c.scheme, 'CPV') = 'CPV'
),

latest as (
    select source, ocid, max(release_seq) as release_seq, max(loaded_at) as last_loaded_at
    from stated
    group by source, ocid
)

select distinct
    s.source,
    s.ocid,
    s.code as cpv_code,
    l.last_loaded_at
from stated as s
inner join latest as l
    on s.source = l.source and s.ocid = l.ocid and s.release_seq = l.release_seq
