select
    id as current_benefit_id,
    screen_id,
    program_id
from {{ source('django_apps', 'screener_current_benefits') }}
