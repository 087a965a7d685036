-- request_language_code -> English language name (a lookup join: cheaper than a per-row CASE)
select language_code, language_name
from ({{ language_names_values() }}) as names (language_code, language_name)
