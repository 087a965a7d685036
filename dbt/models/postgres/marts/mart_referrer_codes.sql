select
    referrer_code,
    partner,
    white_label_id,
    is_partner,
    white_label_code
from {{ ref('int_referrer_partners') }}
