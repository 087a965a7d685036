"""Compatibility shim: the TenantPolicies provider moved to `components.postgres.policies`.

Do not delete. Pulumi pickles a dynamic provider with dill, and dill stores a class from an
importable module BY REFERENCE (module path + class name, see ../shared/reference/pulumi-notes.md):
every TenantPolicies resource created before the move carries `components.pg_sql
.TenantPoliciesProvider` in its `__provider` state. The engine deserializes the OLD state's
provider for `pulumi refresh`, `destroy`, deletes and replacements, so that path must keep
resolving to the same class until every stack has been through an `up` (which re-stores the new
path). tests/unit/test_postgres_package.py checks it.
"""

from components.postgres.policies import TenantPolicies, TenantPoliciesProvider

__all__ = ["TenantPolicies", "TenantPoliciesProvider"]
