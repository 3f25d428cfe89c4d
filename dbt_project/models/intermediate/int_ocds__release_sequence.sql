-- The order in which releases of one process are merged: by release date, ties by release id
-- (section 5.1). A release without a date sorts first, so any dated release overrides it.
select
    source,
    ocid,
    release_id,
    release_date,
    row_number() over (
        partition by source, ocid
        order by release_date asc nulls first, release_id asc
    ) as release_seq
from {{ ref('stg_ocds__releases') }}
