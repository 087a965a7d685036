-- Completed Screens: every row of the screener mart this connection sees (one per completed
-- screen; the tenant connection sees its own white label only). Saved, not placed.
SELECT count(*) AS "Count"
FROM analytics.mart_screener_data
