with source as (
    select * from {{ source('django_apps', 'screener_screen') }}
),

renamed as (
    select
        id as screen_id,
        uuid,
        white_label_id,
        user_id,
        external_id,
        path,
        alternate_path,
        completed,
        is_test,
        is_test_data,
        is_verified,
        start_date as start_timestamp,
        submission_date as submission_timestamp,
        agree_to_tos,
        is_13_or_older,
        referrer_code,
        referral_source,
        utm_id,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        zipcode,
        coalesce(nullif(trim(county), ''), 'Unspecified') as county,
        household_size,
        household_assets,
        housing_situation,
        last_tax_filing_year,
        has_benefits,
        request_language_code,
        needs_baby_supplies,
        needs_child_dev_help,
        needs_food,
        needs_funeral_help,
        needs_housing_help,
        needs_mental_health_help,
        needs_family_planning_help,
        needs_dental_care,
        needs_job_resources,
        needs_legal_services,
        needs_college_savings,
        needs_veteran_services
    from source
)

select * from renamed
