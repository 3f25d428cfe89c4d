-- Compiled state of every award of a process, merged by award id: each field from the latest release
-- that states it. The supplier list is replaced whole by the latest release that states one.
-- Incremental: only processes with new releases are recompiled, and only their releases are read and
-- unnested (ocds_staged): joining the staging view to them unnested every release ever loaded first.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with awards as (
    select
        a.*,
        -- An award without an id cannot be merged across releases; it stays its own award.
        coalesce(a.award_id, a.release_id || '#' || cast(a.award_position as varchar)) as merge_id,
        s.release_seq,
        s.loaded_at as release_loaded_at
    from {{ ocds_staged('stg_ocds__release_awards', ocds_release_awards, ref('int_ocds__release_sequence')) }} as a
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on a.source = s.source and a.ocid = s.ocid and a.release_id = s.release_id
)

select
    source,
    ocid,
    merge_id as award_id,
    {{ latest_stated('award_title', 'release_seq') }} as award_title,
    {{ latest_stated('award_status', 'release_seq') }} as award_status,
    {{ latest_stated('award_date_text', 'release_seq') }} as award_date_text,
    {{ latest_stated('value_amount', 'release_seq') }} as value_amount,
    {{ latest_stated('value_currency', 'release_seq') }} as value_currency,
    {{ latest_stated('case when len(suppliers) > 0 then suppliers end', 'release_seq') }} as suppliers,
    -- Fallback award date: the release that first published the award, as a UK calendar date.
    {{ uk_date(earliest_stated('release_date', 'release_seq')) }} as first_release_date,
    coalesce({{ latest_stated('award_status', 'release_seq') }}, '') not in ('cancelled', 'unsuccessful') as is_counted,
    max(release_loaded_at) as last_loaded_at
from awards
group by source, ocid, merge_id
