-- Validation Errors Detail (GA4): field-level error events per step, field and problem.
SELECT step_label AS `Step`, field_label AS `Field`, problem AS `Problem`, sum(total_errors) AS `Errors`
FROM __BQ__.mart_screener_form_errors
WHERE __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY step_label, field_label, problem
ORDER BY `Errors` DESC, `Step`, `Field`
