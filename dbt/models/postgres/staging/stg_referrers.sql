select
    referrer_code,
    name as partner,
    white_label_id,
    is_partner
from {{ source('django_apps', 'programs_referrer') }}
