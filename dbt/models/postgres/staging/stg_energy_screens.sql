select
    screen_id,
    is_home_owner,
    is_renter,
    electric_provider,
    electric_provider_name,
    gas_provider as gas_heat_provider,
    gas_provider_name as gas_heat_provider_name,
    electricity_is_disconnected,
    has_past_due_energy_bills,
    has_old_car,
    needs_water_heater,
    needs_hvac,
    needs_stove,
    needs_dryer
from {{ source('django_apps', 'screener_energycalculatorscreen') }}
