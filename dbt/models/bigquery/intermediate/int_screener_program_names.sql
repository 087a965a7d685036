-- program_id -> the greatest program_name seen over all time (names arrive on some events only).
select
    program_id,
    max(program_name) as program_name
from {{ ref('stg_ga_screener_program_interactions') }}
where program_id is not null
group by program_id
