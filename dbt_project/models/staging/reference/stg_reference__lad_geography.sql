-- The lad_geography seed with blanks as nulls (a district outside any combined authority).
select
    upper(trim(lad_code)) as lad_code,
    lad_name,
    nullif(trim(combined_authority_code), '') as combined_authority_code,
    nullif(trim(combined_authority_name), '') as combined_authority_name,
    nullif(trim(region_code), '') as region_code,
    nullif(trim(region_name), '') as region_name
from {{ ref('lad_geography') }}
