with source as (
    select * from {{ source('django_apps', 'screener_whitelabel') }}
)

select
    id as white_label_id,
    name as white_label_name,
    code as white_label_code
from source
where coalesce(trim(name), '') <> '' or coalesce(trim(code), '') <> ''
