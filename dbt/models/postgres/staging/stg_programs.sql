with programs as (
    select * from {{ source('django_apps', 'programs_program') }}
),

categories as (
    select * from {{ source('django_apps', 'programs_programcategory') }}
),

english_names as (
    select texts.master_id, texts.text
    from {{ source('django_apps', 'translations_translation_translation') }} as texts
    where texts.language_code = 'en-us'
)

select
    programs.id as program_id,
    programs.white_label_id,
    programs.name_abbreviated as benefit_name,
    coalesce(nullif(trim(english_names.text), ''), programs.name_abbreviated)
        as benefit_display_name,
    coalesce(categories.tax_category, false) as tax_category
from programs
left join categories on programs.category_id = categories.id
left join english_names on programs.name_id = english_names.master_id
