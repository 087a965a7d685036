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

current_benefits as (
    select * from {{ ref('stg_current_benefits') }}
    where {{ in_scope('screen_id') }}
),

programs as (
    select * from {{ ref('stg_programs') }}
)

-- the program must belong to the screen's own white label: anomalous cross-tenant rows are
-- dropped rather than shown to the wrong tenant
select
    screens.id as screen_id,
    screens.white_label_id,
    screens.partner,
    screens.county,
    screens.submission_date,
    screens.utm_campaign,
    screens.utm_medium,
    screens.utm_source,
    programs.benefit_name,
    programs.benefit_display_name,
    screens.source_updated_at
from current_benefits
inner join screens on current_benefits.screen_id = screens.id
inner join programs
    on current_benefits.program_id = programs.program_id
    and screens.white_label_id = programs.white_label_id
