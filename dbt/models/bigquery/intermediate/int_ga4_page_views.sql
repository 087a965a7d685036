with page_views as (
    select * from {{ ref('stg_ga_page_views') }}
)

select
    *,
    regexp_extract(page_location, r'^(?:https?://)?[^/?#]+(/[^?#]*)') as page_path,
    regexp_extract(page_location, r'^(?:https?://)?([^/?#:]+)') as page_hostname,
    {{ url_screener_state('page_location') }} as state_code
from page_views
