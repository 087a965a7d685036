-- Income Source Actions per Member Page (GA4): member pages that added / deleted an income
-- source over the member pages viewed.
WITH t AS (
    SELECT sum(member_pages_viewed) AS pages, sum(pages_added_income) AS added,
        sum(pages_deleted_income) AS deleted
    FROM __BQ__.mart_screener_member_income
    WHERE __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
)
SELECT 'Add' AS `Action`, round(100 * added / pages, 1) AS `% of Member Pages`, added AS `Pages`
FROM t WHERE pages > 0
UNION ALL
SELECT 'Delete', round(100 * deleted / pages, 1), deleted
FROM t WHERE pages > 0
