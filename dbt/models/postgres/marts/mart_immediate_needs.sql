-- Screens that flagged each immediate need, per tenant and dashboard filter values.
-- A small aggregate over the mart_screener_data table: grouped first, then unpivoted.
{%- set needs = [('Baby Supplies', 'needs_baby_supplies'), ('Child Development', 'needs_child_dev_help'),
                 ('Food', 'needs_food'), ('Funeral', 'needs_funeral_help'),
                 ('Housing', 'needs_housing_help'), ('Mental Health', 'needs_mental_health_help'),
                 ('Family Planning', 'needs_family_planning_help'), ('Dental Care', 'needs_dental_care'),
                 ('Job Resources', 'needs_job_resources'), ('Legal Services', 'needs_legal_services'),
                 ('College Savings', 'needs_college_savings'),
                 ('Veteran Services', 'needs_veteran_services')] %}

with screens as (
    select * from {{ ref('mart_screener_data') }}
),

grouped as (
    select
        white_label_id,
        partner,
        county,
        utm_campaign,
        utm_medium,
        utm_source,
        {%- for _label, column in needs %}
        count(*) filter (where {{ column }}) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from screens
    group by white_label_id, partner, county, utm_campaign, utm_medium, utm_source
)

select
    unpivoted.benefit,
    unpivoted.count,
    grouped.white_label_id,
    grouped.partner,
    grouped.county,
    grouped.utm_campaign,
    grouped.utm_medium,
    grouped.utm_source
from grouped
cross join lateral (
    values
    {%- for label, column in needs %}
        ('{{ label }}', grouped.{{ column }}){{ "," if not loop.last }}
    {%- endfor %}
) as unpivoted (benefit, count)
