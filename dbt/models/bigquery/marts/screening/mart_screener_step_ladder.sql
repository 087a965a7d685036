{#- The main step ladder (slug, label, funnel_rank; rank NULL off the ladder), published for
    the Form Step Reached card. -#}
{{ screener_ladder_rows('main') }}
