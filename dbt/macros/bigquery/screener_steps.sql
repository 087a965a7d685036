{#-
  Screener steps: slug -> label, main-ladder rank and CESN combined-ladder rank (upstream-content
  §4.7). Off-ladder steps have a label and no rank. The ladder marts publish these rows because
  Metabase SQL cannot call macros. Unmapped slugs display as the raw slug.
-#}
{% macro screener_steps() -%}
    {#- (slug, label, main rank, CESN combined rank) -#}
    {{ return([
        ('__form_start__', 'Started Screener', none, 0),
        ('language', 'Language', 1, 1),
        ('disclaimer', 'Disclaimer', 2, 2),
        ('select-state', 'Select State', none, none),
        ('cesn-energy-expenses', 'Energy Expenses', none, none),
        ('zip-code', 'Zip Code', 3, 3),
        ('household-size', 'Household Size', 4, 4),
        ('member-basics', 'Member Basics', none, none),
        ('member-details', 'Member Details', 5, 5),
        ('household-members', 'Household & Member Details', none, none),
        ('household-basics', 'Household Basics', none, none),
        ('cesn-electric-provider', 'Electric Provider', none, 6),
        ('cesn-gas-provider', 'Gas Provider', none, 7),
        ('cesn-utility-status', 'Utility Status', none, 8),
        ('cesn-appliances', 'Appliances', none, none),
        ('expenses', 'Expenses', 6, none),
        ('assets', 'Assets', 7, none),
        ('current-benefits', 'Current Benefits', 8, 9),
        ('additional-resources', 'Additional Resources', 9, none),
        ('referral-source', 'Referral Source', none, none),
        ('sign-up', 'Sign Up', 10, none),
        ('confirm-information', 'Confirm Information', 11, 10),
        ('results', 'Reached Results', 12, 11),
        ('__form_complete__', 'Reached Results', none, none),
    ]) }}
{%- endmacro %}

{% macro screener_step_label(column) -%}
    {%- set mapping = [] -%}
    {%- for slug, label, _main, _cesn in screener_steps() -%}
        {%- do mapping.append((slug, label)) -%}
    {%- endfor -%}
    {{ label_case(column, mapping, column) }}
{%- endmacro %}

{#- Main-ladder rank (1-12) of a step slug; NULL off the ladder. -#}
{% macro screener_step_rank(column) -%}
    case {{ column }}
    {%- for slug, _label, main, _cesn in screener_steps() if main is not none %}
        when '{{ slug }}' then {{ main }}
    {%- endfor %}
    end
{%- endmacro %}

{#- CESN combined-ladder rank (0-11); NULL off the ladder. -#}
{% macro screener_cesn_rank(column) -%}
    case {{ column }}
    {%- for slug, _label, _main, cesn in screener_steps() if cesn is not none %}
        when '{{ slug }}' then {{ cesn }}
    {%- endfor %}
    end
{%- endmacro %}

{#- Rows (slug, label, rank) of a ladder: kind = 'main' (every step; rank NULL off-ladder) or
    'cesn' (the combined CESN rungs only). -#}
{% macro screener_ladder_rows(kind) -%}
    {%- set rows = [] -%}
    {%- for slug, label, main, cesn in screener_steps() if slug != '__form_complete__' -%}
        {%- if kind == 'main' and slug != '__form_start__' -%}
            {%- do rows.append((slug, label, main)) -%}
        {%- elif kind == 'cesn' and cesn is not none -%}
            {%- do rows.append((slug, label, cesn)) -%}
        {%- endif -%}
    {%- endfor -%}
    select step_slug, step_label, cast(funnel_rank as int64) as funnel_rank
    from unnest([
    {%- for slug, label, rank in rows %}
        struct('{{ slug }}' as step_slug, '{{ label }}' as step_label,
               {{ 'cast(null as int64)' if rank is none else rank }} as funnel_rank){{ "," if not loop.last }}
    {%- endfor %}
    ])
{%- endmacro %}
