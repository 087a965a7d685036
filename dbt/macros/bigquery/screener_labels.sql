{#- Display labels the GA cards show (upstream-content §3.3). Unmapped values fall through raw. -#}

{#- Form-error field path -> label; NULL -> '(unspecified)'. Paths may carry array indexes
    (incomeStreams.0.incomeAmount), so nested fields match on prefix + final key. -#}
{% macro form_error_field_label(path) -%}
    {%- set exact = [
        ('zipcode', 'Zip code'), ('county', 'County'), ('householdSize', 'Household size'),
        ('householdAssets', 'Household assets'), ('state', 'State'),
        ('referralSource', 'Referral source'), ('otherReferrer', 'Other referral source'),
        ('needs', 'Immediate needs'),
        ('birthMonth', 'Member birth month'), ('members.birthMonth', 'Member birth month'),
        ('birthYear', 'Member birth year'), ('members.birthYear', 'Member birth year'),
        ('relationshipToHH', 'Member relationship'),
        ('members.relationshipToHH', 'Member relationship'),
        ('receivesSsi', 'Receives SSI'), ('healthInsurance', 'Health insurance'),
        ('incomeEmployed', 'Income: employed?'), ('incomeGig', 'Income: gig work?'),
        ('incomeOther', 'Income: other payments?'), ('expenses', 'Expenses'),
        ('contactType', 'Contact preferences'), ('agreeToTermsOfService', 'Agree to terms'),
        ('is13OrOlder', 'Age 13 or older'), ('electricityProvider', 'Electricity provider'),
        ('gasProvider', 'Gas provider'),
    ] -%}
    {%- set nested = [
        ('incomeStreams', 'incomeAmount', 'Income amount'),
        ('incomeStreams', 'incomeFrequency', 'Income frequency'),
        ('incomeStreams', 'incomeCategory', 'Income category'),
        ('incomeStreams', 'incomeStreamName', 'Income type'),
        ('incomeStreams', 'hoursPerWeek', 'Income hours per week'),
        ('expenses', 'expenseAmount', 'Expense amount'),
        ('expenses', 'expenseFrequency', 'Expense frequency'),
        ('expenses', 'expenseSourceName', 'Expense type'),
        ('contactInfo', 'firstName', 'First name'), ('contactInfo', 'lastName', 'Last name'),
        ('contactInfo', 'email', 'Email'), ('contactInfo', 'cell', 'Phone number'),
        ('contactInfo', 'emailConsent', 'Email consent'),
        ('contactInfo', 'tcpa', 'Consent to contact'),
    ] -%}
    {%- set prefixes = [
        ('needs', 'Immediate needs'), ('healthInsurance', 'Health insurance'),
        ('conditions', 'Household conditions'), ('studentEligibility', 'Student eligibility'),
        ('incomeStreams', 'Income'), ('expenses', 'Expenses'), ('contactInfo', 'Contact info'),
        ('contactType', 'Contact preferences'), ('energyCalculator', 'Energy calculator'),
    ] -%}
    case
        when {{ path }} is null then '(unspecified)'
    {%- for value, label in exact %}
        when {{ path }} = '{{ value }}' then '{{ label }}'
    {%- endfor %}
    {%- for root, leaf, label in nested %}
        when starts_with({{ path }}, '{{ root }}.') and ends_with({{ path }}, '.{{ leaf }}')
            then '{{ label }}'
    {%- endfor %}
    {%- for root, label in prefixes %}
        when starts_with({{ path }}, '{{ root }}.') then '{{ label }}'
    {%- endfor %}
        else {{ path }}
    end
{%- endmacro %}

{% macro confirmation_section_label(section) -%}
    {{ label_case(section, [
        ('zipcode', 'Zip Code'), ('householdSize', 'Household Size'),
        ('householdData', 'Household & Member Details'), ('hasExpenses', 'Expenses'),
        ('householdAssets', 'Assets'), ('hasBenefits', 'Current Benefits'),
        ('acuteHHConditions', 'Additional Resources'), ('referralSource', 'Referral Source'),
        ('signUpInfo', 'Sign Up'),
    ], section) }}
{%- endmacro %}

{#- More Help resource label: fixed names for some translation keys, else the resource name,
    the URL, "Resource #n", "(unspecified)". -#}
{% macro more_help_resource_label(resource_name, url, resource_index) -%}
    coalesce(
        {{ label_case(resource_name, [
            ('moreHelp.resource_name1', '2-1-1 Colorado'),
            ('moreHelp.resource_name2', 'Colorado Family Resource Centers'),
            ('moreHelp.coloradoHumanServicesOffices.resourceName', 'Colorado County Human Services'),
            ('moreHelp.nc_resource_name1', 'NC 2-1-1'),
        ], 'nullif(' ~ resource_name ~ ", '')") }},
        nullif({{ url }}, ''),
        'Resource #' || cast({{ resource_index }} as string),
        '(unspecified)'
    )
{%- endmacro %}

{#- Program interaction vocabulary of the program marts; NULL for other events. -#}
{% macro program_interaction_type(event_name) -%}
    {{ label_case(event_name, [
        ('screener_apply_click', 'apply'), ('screener_program_more_info', 'more_info'),
        ('screener_program_visit_website', 'visit_website'),
        ('screener_program_phone_click', 'phone_click'),
        ('screener_program_document_download', 'document_download'),
        ('screener_program_document_shown', 'document_shown'),
        ('screener_required_program_click', 'required_program_click'),
        ('screener_program_shown', 'shown'),
    ], 'cast(null as string)') }}
{%- endmacro %}
