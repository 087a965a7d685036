{#- request_language_code -> English language name, as rows (code, name) for a lookup join. -#}
{% macro language_names_values() -%}
    {%- set names = {
        'en': 'English', 'en-us': 'English', 'es': 'Spanish', 'vi': 'Vietnamese',
        'fr': 'French', 'am': 'Amharic', 'so': 'Somali', 'ru': 'Russian', 'ne': 'Nepali',
        'my': 'Burmese', 'zh': 'Chinese', 'zh-hans': 'Chinese (Simplified)',
        'zh-hant': 'Chinese (Traditional)', 'ar': 'Arabic', 'sw': 'Swahili', 'pl': 'Polish',
        'tl': 'Tagalog', 'ko': 'Korean', 'ja': 'Japanese', 'de': 'German', 'pt': 'Portuguese',
        'pt-br': 'Portuguese (Brazil)', 'ht': 'Haitian Creole', 'hi': 'Hindi', 'ur': 'Urdu',
        'fa': 'Persian', 'ps': 'Pashto', 'uk': 'Ukrainian', 'ti': 'Tigrinya', 'km': 'Khmer',
        'lo': 'Lao', 'hmn': 'Hmong', 'th': 'Thai', 'it': 'Italian', 'el': 'Greek',
        'he': 'Hebrew', 'tr': 'Turkish', 'bn': 'Bengali', 'pa': 'Punjabi', 'gu': 'Gujarati',
        'te': 'Telugu', 'ta': 'Tamil', 'ro': 'Romanian', 'ku': 'Kurdish', 'dar': 'Dari',
        'rw': 'Kinyarwanda', 'yo': 'Yoruba', 'ig': 'Igbo', 'om': 'Oromo', 'cv': 'Cape Verdean'
    } -%}
    values
    {%- for key, name in names.items() %}
        ('{{ key }}', '{{ name }}'){{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
