-- Saves by Channel (GA4): saves completed per channel.
SELECT CASE save_channel WHEN 'email' THEN 'Email' WHEN 'sms' THEN 'SMS' WHEN 'whatsapp' THEN 'WhatsApp'
        WHEN 'copy_link' THEN 'Copy Link' ELSE coalesce(save_channel, '(none)') END AS `Channel`, sum(total_saves) AS `Total Saves`
FROM __BQ__.mart_screener_saves
WHERE save_action = 'send' AND save_channel NOT IN ('__saved__', '__popup_shown__') AND __STATE_FILTER__ AND event_date_parsed >= __GA_EPOCH__
        [[AND event_date_parsed >= CAST({{date_from}} AS DATE)]]
        [[AND event_date_parsed <= CAST({{date_to}} AS DATE)]]
GROUP BY `Channel`
ORDER BY `Total Saves` DESC, `Channel`
