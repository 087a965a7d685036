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

income as (
    select * from {{ ref('stg_income_streams') }}
    where {{ in_scope('screen_id') }}
)

select
    income.id,
    income.screen_id,
    income.household_member_id,
    income.category,
    income.type,
    income.amount,
    income.frequency,
    income.hours_worked,
    screens.id as screener_id,
    screens.submission_date,
    screens.white_label_id,
    screens.source_updated_at
from income
inner join screens on income.screen_id = screens.id
