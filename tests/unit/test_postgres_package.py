"""The Postgres pieces live in components/postgres/; the old provider path still resolves.

Pulumi stores a dynamic provider in state as `dill.dumps(provider)` (pulumi/dynamic/dynamic.py
`serialize_provider`) and the host turns it back with `dill.loads` (pulumi/dynamic/__main__.py
`get_provider`). A class from an importable module is pickled by reference, so state written
before the move names `components.pg_sql.TenantPoliciesProvider`.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import dill
from pulumi.dynamic.dynamic import serialize_provider

from components.postgres.policies import TenantPolicies, TenantPoliciesProvider
from tests.conftest import REPO

# `serialize_provider(TenantPoliciesProvider())` run on the tree before the move (commit befc500,
# pulumi 3.272, dill 0.4.1): exactly the `__provider` string existing stacks hold in state.
PRE_MOVE_PROVIDER = (
    "gASVMwAAAAAAAACMEWNvbXBvbmVudHMucGdfc3FslIwWVGVuYW50UG9saWNpZXNQcm92aWRlcpSTlCmBlC4="
)


def test_state_written_before_the_move_loads_the_same_provider_class():
    assert b"components.pg_sql" in base64.b64decode(PRE_MOVE_PROVIDER)
    provider = dill.loads(base64.b64decode(PRE_MOVE_PROVIDER))
    assert type(provider) is TenantPoliciesProvider


def test_the_old_path_loads_in_a_fresh_process_like_the_provider_host():
    # the host imports providers from the program directory in a new interpreter
    code = (
        "import base64, dill\n"
        f"p = dill.loads(base64.b64decode({PRE_MOVE_PROVIDER!r}))\n"
        "print(type(p).__module__ + '.' + type(p).__qualname__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "components.postgres.policies.TenantPoliciesProvider"


def test_new_state_names_the_package_path():
    byts = base64.b64decode(serialize_provider(TenantPoliciesProvider()))
    assert b"components.postgres.policies" in byts


def test_the_shim_reexports_the_same_classes():
    from components import pg_sql

    assert pg_sql.TenantPoliciesProvider is TenantPoliciesProvider
    assert pg_sql.TenantPolicies is TenantPolicies


def test_type_tokens_are_unchanged(production_run):
    # registered as pulumi-python:dynamic/postgres:TenantPolicies, as before the move
    assert TenantPolicies._resource_type_name == "dynamic/postgres:TenantPolicies"
    assert production_run.of_type("pulumi-python:dynamic/postgres:TenantPolicies")
    assert production_run.of_type("mfb:postgres:AnalyticsDatabase")
