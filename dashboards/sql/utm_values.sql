-- UTM Campaign / Medium / Source Values (Filter Helper): the distinct non-empty values of the
-- bound UTM column (__COLUMN__), sorted; RLS-scoped to the tenant.
SELECT DISTINCT __COLUMN__ AS "Value"
FROM analytics.mart_screener_data
WHERE __COLUMN__ IS NOT NULL AND __COLUMN__ <> ''
ORDER BY 1
