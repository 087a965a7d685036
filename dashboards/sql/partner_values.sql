-- Partner Values (Filter Helper): dropdown values for the Partner filter. Scoped by the
-- connection's role (RLS), so a tenant only ever lists its own partners. Referrers marked as
-- non-partners are left out; partners with no screens yet are listed.
SELECT DISTINCT s.partner AS "Partner"
FROM analytics.mart_screener_data AS s
WHERE NOT EXISTS (
    SELECT 1
    FROM analytics.mart_referrer_codes AS r
    WHERE r.partner = s.partner AND NOT r.is_partner
)
UNION
SELECT r.partner
FROM analytics.mart_referrer_codes AS r
WHERE r.is_partner
ORDER BY 1
