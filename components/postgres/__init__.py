"""The analytics Postgres: who exists and what they may touch.

- `access`: the tenant access plan (one model) and its SQL rendering (`mfb-infra sql`, local up);
- `database`: `AnalyticsDatabase`, the same plan rendered into pulumi-postgresql resources;
- `policies`: `TenantPolicies`, the dynamic resource that puts a new tenant's RLS policies (and
  its SELECT) on the marts that already exist.
"""
