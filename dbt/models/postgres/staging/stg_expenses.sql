select
    id,
    screen_id,
    household_member_id,
    type,
    amount,
    frequency,
    {{ monthly_amount('amount', 'frequency') }} as monthly_amount
from {{ source('django_apps', 'screener_expense') }}
