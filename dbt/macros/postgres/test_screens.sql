{#- A screen is a test screen when its referral_source, compared case-insensitively as the whole
    string, is one of var('test_referral_sources'). No trimming, no substring match ("Contest" or
    "Protestant Church" are real sources), NULL is not test. -#}
{% macro is_test_referral_source(column) -%}
    coalesce(lower({{ column }}) in (
        {%- for source in var('test_referral_sources') -%}
        '{{ source | lower }}'{{ ", " if not loop.last }}
        {%- endfor -%}
    ), false)
{%- endmacro %}
