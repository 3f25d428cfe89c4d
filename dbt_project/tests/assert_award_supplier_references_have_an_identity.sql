{{ config(severity='warn') }}
-- A supplier reference with neither a name nor a company number cannot get a supplier_key and so is
-- left out of fct_award_suppliers; this warns when that happens so that nothing is dropped silently.
select source, ocid, award_id, supplier_position, party_id
from {{ ref('int_ocds__award_supplier_parties') }}
where name_normalised is null and company_number is null
