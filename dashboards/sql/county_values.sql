-- County Values (Filter Helper): dropdown values for the County filter (RLS-scoped).
SELECT DISTINCT county AS "County"
FROM analytics.mart_screener_data
ORDER BY 1
