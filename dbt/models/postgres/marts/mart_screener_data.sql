{{ config(
    materialized='incremental',
    incremental_strategy='replace_screens',
    unique_key='id',
    on_schema_change='fail',
    pre_hook="{{ capture_screen_scope() }}",
    post_hook=[
        "{{ ensure_index('id') }}",
        "{{ ensure_index('source_updated_at') }}",
    ],
) }}
-- depends_on: {{ ref('int_screen_changes') }}
-- The id index is not unique: a unique index of a partitioned table must include the partition
-- key (white_label_id). The `unique` test on id (mart_screener_data.yml) checks uniqueness.
{%- set age_bins = [('<18', 0, 17), ('18-24', 18, 24), ('25-34', 25, 34), ('35-49', 35, 49),
                    ('50-64', 50, 64), ('65-84', 65, 84), ('>84', 85, none)] %}

with screens as (
    select * from {{ ref('stg_screens') }}
    where {{ in_scope('screen_id') }}
),

snapshots as (
    select * from {{ ref('stg_eligibility_snapshots') }}
    where {{ in_scope('screen_id') }}
),

members as (
    select * from {{ ref('stg_household_members') }}
    where {{ in_scope('screen_id') }}
),

income as (
    select * from {{ ref('stg_income_streams') }}
    where {{ in_scope('screen_id') }}
),

expenses as (
    select * from {{ ref('stg_expenses') }}
    where {{ in_scope('screen_id') }}
),

energy as (
    select * from {{ ref('stg_energy_screens') }}
    where {{ in_scope('screen_id') }}
),

program_eligibility as (
    select * from {{ ref('stg_program_eligibility') }}
),

programs as (
    select * from {{ ref('stg_programs') }}
),

referrers as (
    select * from {{ ref('int_referrer_partners') }}
),

language_names as (
    select * from {{ ref('stg_language_names') }}
),

latest_snapshot as (
    select
        screen_id,
        count(*) as snapshots,
        (array_agg(eligibility_snapshot_id order by calculated_at desc, eligibility_snapshot_id desc))[1]
            as latest_snapshot_id,
        max(calculated_at) as latest_calculated_at
    from snapshots
    group by screen_id
),

demographics as (
    select
        screen_id,
        bool_or(coalesce(student, false)) as has_student,
        {%- for label, low, high in age_bins %}
        count(*) filter (where age >= {{ low }}{% if high is not none %} and age <= {{ high }}{% endif %})
            as "{{ label }} (#)",
        round(
            count(*) filter (where age >= {{ low }}{% if high is not none %} and age <= {{ high }}{% endif %})::numeric
            / nullif(count(*), 0), 2
        ) as "{{ label }} (%)"{{ "," if not loop.last }}
        {%- endfor %}
    from members
    group by screen_id
),

monthly_income as (
    select screen_id, sum(monthly_amount) as monthly_income
    from income
    group by screen_id
),

monthly_expenses as (
    select screen_id, sum(monthly_amount) as monthly_expenses
    from expenses
    group by screen_id
),

benefit_values as (
    select
        latest_snapshot.screen_id,
        program_eligibility.benefit_name,
        coalesce(programs.tax_category, false) as tax_category,
        sum(program_eligibility.estimated_value) as annual_value
    from latest_snapshot
    inner join screens on latest_snapshot.screen_id = screens.screen_id
    inner join program_eligibility
        on latest_snapshot.latest_snapshot_id = program_eligibility.eligibility_snapshot_id
    left join programs
        on program_eligibility.benefit_name = programs.benefit_name
        and screens.white_label_id = programs.white_label_id
    group by 1, 2, 3
),

benefit_totals as (
    select
        screen_id,
        count(distinct benefit_name) as programs_matched,
        coalesce(sum(annual_value) filter (where not tax_category), 0)
            as non_tax_credit_benefits_annual,
        coalesce(sum(annual_value) filter (where tax_category), 0) as tax_credits_annual
    from benefit_values
    group by screen_id
),

attributed as (
    select
        screens.*,
        case
            when {{ is_test_referral_source('screens.referral_source') }} then 'Test'
            when nullif(trim(screens.referrer_code), '') is not null
                then coalesce(by_code.partner, 'Other')
            when nullif(trim(screens.referral_source), '') is not null
                then coalesce(by_source.partner, 'Other')
            else 'No Partner'
        end as partner
    from screens
    left join referrers as by_code
        on screens.white_label_id = by_code.white_label_id
        and trim(screens.referrer_code) = by_code.referrer_code
    left join referrers as by_source
        on screens.white_label_id = by_source.white_label_id
        and trim(screens.referral_source) = by_source.referrer_code
),

final as (
    select
        s.screen_id as id,
        latest_snapshot.latest_snapshot_id,
        s.user_id,
        s.external_id,
        s.uuid,
        s.white_label_id,
        s.path,
        s.alternate_path,
        latest_snapshot.snapshots,
        s.is_test,
        s.is_test_data,
        s.is_verified,
        s.completed,
        s.start_timestamp,
        s.start_timestamp::date as start_date,
        s.submission_timestamp,
        s.submission_timestamp::date as submission_date,
        s.agree_to_tos,
        s.referrer_code,
        s.referral_source,
        s.utm_id,
        s.utm_source,
        s.utm_medium,
        s.utm_campaign,
        s.utm_content,
        s.utm_term,
        s.is_13_or_older,
        s.last_tax_filing_year,
        s.zipcode,
        s.county,
        s.household_assets,
        s.housing_situation,
        s.household_size,
        {%- for label, low, high in age_bins %}
        demographics."{{ label }} (#)",
        demographics."{{ label }} (%)",
        {%- endfor %}
        -- NULL (not 0) without income / expense rows: medians ignore those screens
        monthly_income.monthly_income,
        monthly_expenses.monthly_expenses,
        s.has_benefits,
        s.needs_baby_supplies,
        s.needs_child_dev_help,
        s.needs_food,
        s.needs_funeral_help,
        s.needs_housing_help,
        s.needs_mental_health_help,
        s.needs_family_planning_help,
        s.needs_dental_care,
        s.needs_job_resources,
        s.needs_legal_services,
        s.needs_college_savings,
        s.needs_veteran_services,
        energy.is_home_owner,
        energy.is_renter,
        energy.electric_provider,
        energy.electric_provider_name,
        energy.gas_heat_provider,
        energy.gas_heat_provider_name,
        energy.electricity_is_disconnected,
        energy.has_past_due_energy_bills,
        energy.has_old_car,
        energy.needs_dryer,
        energy.needs_hvac,
        energy.needs_stove,
        energy.needs_water_heater,
        coalesce(demographics.has_student, false) as has_student,
        s.partner,
        to_char(s.start_timestamp, 'ID') as start_day,
        to_char(s.start_timestamp, 'HH24') as start_hour,
        to_char(s.submission_timestamp, 'ID') as submission_day,
        to_char(s.submission_timestamp, 'HH24') as submission_hour,
        -- keeps the upstream column name; holds the language *name*
        coalesce(language_names.language_name, '(blank)') as request_language_code,
        coalesce(benefit_totals.programs_matched, 0) as programs_matched,
        coalesce(benefit_totals.non_tax_credit_benefits_annual, 0)
            as non_tax_credit_benefits_annual,
        coalesce(benefit_totals.tax_credits_annual, 0) as tax_credits_annual,
        coalesce(benefit_totals.non_tax_credit_benefits_annual, 0) / 12
            as non_tax_credit_benefits_monthly,
        coalesce(benefit_totals.tax_credits_annual, 0) / 12 as tax_credits_monthly,
        greatest(s.submission_timestamp, latest_snapshot.latest_calculated_at)
            as source_updated_at
    from attributed as s
    left join latest_snapshot on s.screen_id = latest_snapshot.screen_id
    left join demographics on s.screen_id = demographics.screen_id
    left join monthly_income on s.screen_id = monthly_income.screen_id
    left join monthly_expenses on s.screen_id = monthly_expenses.screen_id
    left join benefit_totals on s.screen_id = benefit_totals.screen_id
    left join energy on s.screen_id = energy.screen_id
    left join language_names on s.request_language_code = language_names.language_code
    where s.completed
        and not s.is_test
        and s.is_test_data = false
        and s.partner <> 'Test'
)

select * from final
