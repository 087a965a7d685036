select
    id,
    screen_id,
    household_member_id,
    category,
    type,
    amount,
    frequency,
    hours_worked,
    {{ monthly_amount('amount', 'frequency') }} as monthly_amount
from {{ source('django_apps', 'screener_incomestream') }}
