-- What percentage of users sought each immediate need? One pass over mart_screener_data;
-- share = 0-1 fraction of the filtered screeners; needs nobody flagged are left out.
SELECT
    needs.need AS "Need Category",
    count(*) FILTER (WHERE needs.flagged) AS "# of Screeners",
    count(*) FILTER (WHERE needs.flagged)::numeric / nullif(count(*), 0) AS "% of Screeners"
FROM analytics.mart_screener_data
CROSS JOIN LATERAL (
    VALUES
        ('Baby Supplies', mart_screener_data.needs_baby_supplies),
        ('Child Development', mart_screener_data.needs_child_dev_help),
        ('Food', mart_screener_data.needs_food),
        ('Funeral', mart_screener_data.needs_funeral_help),
        ('Housing', mart_screener_data.needs_housing_help),
        ('Mental Health', mart_screener_data.needs_mental_health_help),
        ('Family Planning', mart_screener_data.needs_family_planning_help),
        ('Dental Care', mart_screener_data.needs_dental_care),
        ('Job Resources', mart_screener_data.needs_job_resources),
        ('Legal Services', mart_screener_data.needs_legal_services),
        ('College Savings', mart_screener_data.needs_college_savings),
        ('Veteran Services', mart_screener_data.needs_veteran_services)
) AS needs (need, flagged)
WHERE 1 = 1 [[AND {{date}}]] [[AND {{partner}}]] [[AND {{county}}]] [[AND {{utm}}]]
GROUP BY needs.need
HAVING count(*) FILTER (WHERE needs.flagged) > 0
ORDER BY count(*) FILTER (WHERE needs.flagged) DESC, needs.need
