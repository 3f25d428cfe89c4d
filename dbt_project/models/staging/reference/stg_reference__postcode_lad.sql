select
    postcode,
    lad_code
from {{ source('ref', 'postcode_lad') }}
