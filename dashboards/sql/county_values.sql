-- County Values (Filter Helper): dropdown values for the County filter (RLS-scoped).
SELECT DISTINCT county AS "County"
FROM analytics.mart_screener_data
WHERE county IS NOT NULL AND county <> ''
ORDER BY 1
