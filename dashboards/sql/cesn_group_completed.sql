-- Homeowners / Renters - Completed Screeners: screeners of one housing group (__GROUP__ is the
-- card's bound mart flag: is_home_owner or is_renter).
SELECT count(*) AS "Completed Screeners"
FROM analytics.mart_screener_data
WHERE __GROUP__ IS TRUE [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]]
