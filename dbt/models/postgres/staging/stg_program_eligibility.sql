-- Eligible program results only; `name` (translated display text) is deliberately not read.
select
    eligibility_snapshot_id,
    name_abbreviated as benefit_name,
    estimated_value
from {{ source('django_apps', 'screener_programeligibilitysnapshot') }}
where eligible
