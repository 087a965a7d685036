select
    id as eligibility_snapshot_id,
    screen_id,
    submission_date as calculated_at
from {{ source('django_apps', 'screener_eligibilitysnapshot') }}
