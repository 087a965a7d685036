-- Additional Resource Engagement (GA4): per resource, distinct screenings shown it, opening its
-- details, and clicking its website or phone; top 20 by shown then details.
WITH per AS (
    SELECT
        dimension,
        count(DISTINCT if(metric = 'resource_shown', screener_uid, NULL)) AS shown,
        count(DISTINCT if(metric = 'resource_more_info', screener_uid, NULL)) AS more_info,
        count(DISTINCT if(metric = 'resource_click' AND contact_method = 'website', screener_uid, NULL)) AS website,
        count(DISTINCT if(metric = 'resource_click' AND contact_method = 'phone', screener_uid, NULL)) AS phone
    FROM __BQ__.mart_screener_resource_engagement_by_screening
    WHERE metric IN ('resource_shown', 'resource_more_info', 'resource_click')
        AND __STATE_FILTER_NOT_CESN__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
    GROUP BY dimension
)
SELECT dimension AS `Resource`, shown AS `Shown`, more_info AS `More Info`, website AS `Website`, phone AS `Phone`
FROM per
WHERE shown + more_info + website + phone > 0
ORDER BY shown DESC, more_info DESC, `Resource`
LIMIT 20
