-- Shares by Channel (GA4): shares sent per channel and provider.
SELECT
    concat(CASE share_channel WHEN 'email' THEN 'Email' WHEN 'sms' THEN 'SMS' WHEN 'whatsapp' THEN 'WhatsApp'
        WHEN 'copy_link' THEN 'Copy Link' ELSE coalesce(share_channel, '(none)') END, ' / ', coalesce(share_provider, '(none)')) AS `Channel`,
    sum(total_shares) AS `Total Shares`
FROM __BQ__.mart_screener_shares
WHERE share_action = 'send' AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY `Channel`
ORDER BY `Total Shares` DESC, `Channel`
