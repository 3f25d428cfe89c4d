-- CPV codes of each process's compiled state: the classifications of the latest release that states any
-- (tender, additional and item classifications are restated together when a notice is amended).
with stated as (
    select
        c.source,
        c.ocid,
        c.code,
        s.release_seq
    from {{ ref('stg_ocds__release_classifications') }} as c
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on c.source = s.source and c.ocid = s.ocid and c.release_id = s.release_id
    where coalesce(c.scheme, 'CPV') = 'CPV'
),

latest as (
    select source, ocid, max(release_seq) as release_seq
    from stated
    group by source, ocid
)

select distinct
    s.source,
    s.ocid,
    s.code as cpv_code
from stated as s
inner join latest as l
    on s.source = l.source and s.ocid = l.ocid and s.release_seq = l.release_seq
