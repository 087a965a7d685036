-- One row per session (all history since the epoch). The incremental marts inline the same SQL
-- with a narrower suffix window (macro ga4_sessions_sql) so BigQuery prunes the shards.
{{ ga4_sessions_sql("'" ~ var('ga4_epoch_suffix') ~ "'") }}
