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

members as (
    select * from {{ ref('stg_household_members') }}
    where {{ in_scope('screen_id') }}
)

select
    screens.id as screener_id,
    screens.white_label_id,
    screens.partner,
    screens.county,
    screens.submission_date,
    members.*,
    screens.source_updated_at
from members
inner join screens on members.screen_id = screens.id
