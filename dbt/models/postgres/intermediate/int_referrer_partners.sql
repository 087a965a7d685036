-- Referrers of known white labels: resolves partner attribution and feeds mart_referrer_codes.
with referrers as (
    select * from {{ ref('stg_referrers') }}
),

white_labels as (
    select * from {{ ref('stg_white_labels') }}
)

select
    referrers.referrer_code,
    referrers.partner,
    referrers.white_label_id,
    referrers.is_partner,
    white_labels.white_label_code
from referrers
inner join white_labels on referrers.white_label_id = white_labels.white_label_id
