-- One row per supplier reference of a compiled award, with the referenced party's compiled details.
-- A reference whose party is missing keeps the name given in the reference.
-- Incremental: recompiled for the processes whose compiled awards or parties took a newer release.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['source', 'ocid']) }}

with awards as (
    select
        source,
        ocid,
        award_id,
        unnest(suppliers) as supplier_ref,
        unnest(range(1, len(suppliers) + 1)) as supplier_position,
        last_loaded_at
    from {{ ref('int_ocds__compiled_awards') }}
    where len(suppliers) > 0
    {% if is_incremental() %}
        and (source, ocid) in (
            select source, ocid from {{ ref('int_ocds__compiled_awards') }}
            where last_loaded_at > {{ built_up_to() }}
            union
            select source, ocid from {{ ref('int_ocds__compiled_parties') }}
            where last_loaded_at > {{ built_up_to() }}
        )
    {% endif %}
)

select
    a.source,
    a.ocid,
    a.award_id,
    a.supplier_position,
    a.supplier_ref.id as party_id,
    coalesce(p.party_name, a.supplier_ref.name) as supplier_name,
    coalesce(p.name_normalised, {{ normalise_name('a.supplier_ref.name') }}) as name_normalised,
    p.company_number,
    p.vat_number,
    coalesce(p.scale, 'unknown') as scale,
    p.is_vcse,
    p.postcode,
    greatest(a.last_loaded_at, coalesce(p.last_loaded_at, a.last_loaded_at)) as last_loaded_at
from awards as a
left join {{ ref('int_ocds__compiled_parties') }} as p
    on p.source = a.source and p.ocid = a.ocid and p.party_id = a.supplier_ref.id
