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

expenses as (
    select * from {{ ref('stg_expenses') }}
    where {{ in_scope('screen_id') }}
)

select
    screens.id as screener_id,
    screens.submission_date,
    screens.white_label_id,
    expenses.id,
    expenses.screen_id,
    expenses.household_member_id,
    expenses.type,
    expenses.amount,
    expenses.frequency,
    screens.source_updated_at
from expenses
inner join screens on expenses.screen_id = screens.id
