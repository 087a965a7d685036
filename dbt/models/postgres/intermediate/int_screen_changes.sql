-- Every time a screen changed, from the two timestamps Django maintains. Incremental marts
-- filter this on changed_at (the filter reaches both base scans) to find the screens to rebuild.
select
    screen_id,
    submission_timestamp as changed_at
from {{ ref('stg_screens') }}
where submission_timestamp is not null

union all

select
    screen_id,
    calculated_at as changed_at
from {{ ref('stg_eligibility_snapshots') }}
