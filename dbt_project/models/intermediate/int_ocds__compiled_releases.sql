-- Compiled state of each procurement process (source, ocid): release-level fields from the latest
-- release that states them, and the buyer party resolved to its postcode and district.
-- Incremental: only processes with new releases are recompiled, and only their releases are read
-- (ocds_staged), rather than joining every release ever loaded to them.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with releases as (
    select
        r.*,
        s.release_seq
    from {{ ocds_staged('stg_ocds__releases', ocds_releases, ref('int_ocds__release_sequence')) }} as r
    inner join {{ ref('int_ocds__release_sequence') }} as s
        on r.source = s.source and r.ocid = s.ocid and r.release_id = s.release_id
),

compiled as (
    select
        source,
        ocid,
        count(*) as n_releases,
        min(release_date) as first_release_date,
        max(release_date) as last_release_date,
        {{ latest_stated('release_id', 'release_seq') }} as last_release_id,
        {{ latest_stated('release_title', 'release_seq') }} as release_title,
        {{ latest_stated('tender_title', 'release_seq') }} as tender_title,
        {{ latest_stated('tender_description', 'release_seq') }} as tender_description,
        {{ latest_stated("case when coalesce(upper(tender_cpv_scheme), 'CPV') = 'CPV' then tender_cpv_code end", 'release_seq') }}
            as cpv_code,
        {{ latest_stated('buyer_id', 'release_seq') }} as buyer_id,
        {{ latest_stated('buyer_name', 'release_seq') }} as buyer_name,
        max(loaded_at) as last_loaded_at
    from releases
    group by source, ocid
),

-- A process names its buyer in `buyer`; older releases only give a party with the buyer role.
buyer_parties as (
    select
        source,
        ocid,
        party_id,
        party_name,
        postcode,
        row_number() over (partition by source, ocid order by party_id) as buyer_rank
    from {{ ref('int_ocds__compiled_parties') }}
    where is_buyer
    {% if is_incremental() %}
        and (source, ocid) in (select source, ocid from compiled)
    {% endif %}
),

resolved as (
    select
        c.source,
        c.ocid,
        c.n_releases,
        c.first_release_date,
        c.last_release_date,
        c.last_release_id,
        coalesce(c.tender_title, c.release_title) as title,
        c.tender_description as description,
        c.cpv_code,
        coalesce(c.buyer_id, bp.party_id) as buyer_id,
        coalesce(c.buyer_name, named.party_name, bp.party_name) as buyer_name,
        coalesce(named.postcode, bp.postcode) as buyer_postcode,
        c.last_loaded_at
    from compiled as c
    left join {{ ref('int_ocds__compiled_parties') }} as named
        on named.source = c.source and named.ocid = c.ocid and named.party_id = c.buyer_id
    left join buyer_parties as bp
        on bp.source = c.source and bp.ocid = c.ocid and bp.buyer_rank = 1 and c.buyer_id is null
)

select
    r.source,
    r.ocid,
    r.n_releases,
    r.first_release_date,
    r.last_release_date,
    r.last_release_id,
    r.title,
    r.description,
    r.cpv_code,
    r.buyer_id,
    r.buyer_name,
    r.buyer_postcode,
    pc.lad_code as buyer_lad_code,
    r.last_loaded_at
from resolved as r
-- A night's few buyers: a join probing the whole directory cost more than compiling their processes.
left join {{ postcode_districts('select buyer_postcode from resolved') }} as pc
    on pc.postcode = r.buyer_postcode
