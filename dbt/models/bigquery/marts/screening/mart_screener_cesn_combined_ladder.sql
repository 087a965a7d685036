{#- The 12 rungs (rank 0-11) of the combined CESN ladder (homeowner and renter paths). -#}
{{ screener_ladder_rows('cesn') }}
