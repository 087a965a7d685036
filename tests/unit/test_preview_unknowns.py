"""Every dynamic provider under `pulumi preview`: values not known yet reach `check` and `diff`
the way the provider host deserializes them (`keep_unknowns=True` → `pulumi.output.Unknown`).
They must neither fail validation nor crash the diff, and an unknown input is a change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from components.heroku.promotion import PipelinePromotionProvider
from components.metabase.card import CardProvider
from components.metabase.dashboard import DashboardProvider
from components.metabase.database import DatabaseProvider
from components.metabase.permissions import PermissionsGraphProvider
from components.postgres.policies import TenantPoliciesProvider
from components.tfe import WorkspaceProvider

U = rpc.UNKNOWN


def engine(props: dict[str, Any]) -> dict[str, Any]:
    """Props as the dynamic provider host hands them to Check/Diff during a preview."""
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props)))
    return rpc.deserialize_properties(s, True)


CONN = {"url": "https://mb.example.org", "email": "a@b.org", "password": "pw"}
CASES: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {
    # name: (provider, known inputs, the same inputs with what preview cannot know yet)
    "card": (
        CardProvider(),
        {
            "connection": CONN,
            "name": "Completed",
            "database_id": 3,
            "collection_id": 4,
            "sql": "select 1",
            "display": "scalar",
            "entity_id": "A" * 21,
        },
        {"database_id": U, "collection_id": U},
    ),
    "dashboard": (
        DashboardProvider(),
        {
            "connection": CONN,
            "name": "CO",
            "collection_id": 4,
            "tabs": [{"key": "t", "name": "Summary"}],
            "dashcards": [{"card_id": 7, "tab": "t", "row": 0, "col": 0, "size_x": 4, "size_y": 3}],
        },
        {
            "collection_id": U,
            "dashcards": [{"card_id": U, "tab": "t", "row": 0, "col": 0, "size_x": 4, "size_y": 3}],
        },
    ),
    "database": (
        DatabaseProvider(),
        {
            "connection": CONN,
            "name": "MFB PostgreSQL Colorado",
            "engine": "postgres",
            "details": {"host": "h", "port": 5432, "dbname": "d", "user": "wl_co_1_ro"},
            "secrets": {"password": "p"},
        },
        {"details": U},
    ),
    "database-nested": (
        DatabaseProvider(),
        {
            "connection": CONN,
            "name": "MFB PostgreSQL Colorado",
            "engine": "postgres",
            "details": {"host": "h", "port": 5432, "dbname": "d", "user": "wl_co_1_ro"},
            "secrets": {"password": "p"},
        },
        {"details": {"host": "h", "port": 5432, "dbname": "d", "user": U}},
    ),
    "permissions": (
        PermissionsGraphProvider(),
        {
            "connection": CONN,
            "kind": "data",
            "entries": [{"group_id": 5, "database_id": 3, "permissions": {"view-data": "x"}}],
        },
        {"entries": [{"group_id": U, "database_id": U, "permissions": {"view-data": "x"}}]},
    ),
    "tenant-policies": (
        TenantPoliciesProvider(),
        {
            "role": "wl_co_1_ro",
            "white_label_id": 1,
            "schema": "analytics",
            "column": "white_label_id",
            "host": "h",
            "port": 5432,
            "dbname": "d",
            "sslmode": "require",
            "user": "u",
            "password": "p",
        },
        {"role": U, "host": U},
    ),
    "promotion": (
        PipelinePromotionProvider(),
        {
            "pipeline_id": "p",
            "target_app_id": "t",
            "source_app_id": "s",
            "source_version": "v0.56.19+abcdef123456",
        },
        {"target_app_id": U, "source_version": U},
    ),
    "tfe-workspace": (
        WorkspaceProvider(),
        {
            "organization": "MyFriendBen",
            "name": "mfb-dashboards-staging",
            "address": "https://app.terraform.io",
            "execution_mode": "local",
            "tags": ["dashboards"],
        },
        {"organization": U, "name": U},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_accepts_unknown_values(case):
    provider, known, unknown = CASES[case]
    result = provider.check({}, engine({**known, **unknown}))
    assert [(f.property, f.reason) for f in result.failures or []] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_still_rejects_a_bad_known_value(case):
    """The control: validation is skipped for unknowns only, not switched off."""
    provider, known, _unknown = CASES[case]
    key = {
        "card": "display",
        "dashboard": "width",
        "database": "engine",
        "database-nested": "engine",
        "permissions": "kind",
        "tenant-policies": "role",
        "promotion": "source_version",
        "tfe-workspace": "execution_mode",
    }[case]
    result = provider.check({}, engine({**known, key: "not-valid"}))
    assert key in {f.property for f in result.failures or []}


@pytest.mark.parametrize("case", sorted(CASES))
def test_diff_reports_an_unknown_input_as_a_change(case):
    provider, known, unknown = CASES[case]
    olds = provider.check({}, engine(known)).inputs
    news = provider.check(olds, engine({**known, **unknown})).inputs
    assert provider.diff("id", olds, news).changes
