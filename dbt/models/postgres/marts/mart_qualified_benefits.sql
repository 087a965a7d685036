{{ config(
    materialized='incremental',
    incremental_strategy='replace_screens',
    unique_key='screen_id',
    on_schema_change='fail',
    pre_hook="{{ capture_screen_scope() }}",
    post_hook=[
        "{{ ensure_index('screen_id') }}",
        "{{ ensure_index('source_updated_at') }}",
    ],
) }}
-- depends_on: {{ ref('int_screen_changes') }}

with screens as (
    select * from {{ ref('mart_screener_data') }}
    where {{ in_scope('id') }}
),

program_eligibility as (
    select * from {{ ref('stg_program_eligibility') }}
),

programs as (
    select * from {{ ref('stg_programs') }}
),

-- one row per (screen, eligible program with a positive value) of the latest snapshot
benefit_values as (
    select
        screens.id as screen_id,
        program_eligibility.benefit_name,
        sum(program_eligibility.estimated_value) as annual_value
    from screens
    inner join program_eligibility
        on screens.latest_snapshot_id = program_eligibility.eligibility_snapshot_id
    group by 1, 2
    having sum(program_eligibility.estimated_value) > 0
)

select
    screens.id as screen_id,
    screens.white_label_id,
    screens.partner,
    screens.county,
    screens.submission_date,
    screens.utm_campaign,
    screens.utm_medium,
    screens.utm_source,
    benefit_values.benefit_name,
    coalesce(programs.benefit_display_name, benefit_values.benefit_name) as benefit_display_name,
    benefit_values.annual_value,
    screens.source_updated_at
from benefit_values
inner join screens on benefit_values.screen_id = screens.id
left join programs
    on benefit_values.benefit_name = programs.benefit_name
    and screens.white_label_id = programs.white_label_id
