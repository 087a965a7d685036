"""Credentials flow and Resource wiring: configure, pickling, secret inputs, type tokens."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pulumi
import pytest
from conftest import MB
from harness import Engine

from components.metabase import (
    Card,
    CardArgs,
    Database,
    DatabaseArgs,
    MetabaseConnection,
    postgres_details,
)
from components.metabase.collection import CollectionProvider
from components.metabase.dashboard import DashboardProvider


def test_configure_supplies_credentials_when_no_connection_input(mb: MB) -> None:
    engine = Engine(
        connection={},
        config={
            "mfb-analytics:metabaseUrl": mb.url,
            "mfb-analytics:metabaseAdminEmail": mb.email,
            "mfb-analytics:metabaseAdminPassword": mb.password,
        },
    )
    outs = engine.up("c", CollectionProvider(), {"name": mb.name("Configured")})
    assert mb.client().get(f"collection/{int(outs['collection_id'])}")["name"] == mb.name(
        "Configured"
    )


def test_pickled_provider_carries_no_credentials(mb: MB) -> None:
    provider = DashboardProvider()
    engine = Engine(connection={}, config={"mfb-analytics:metabaseAdminPassword": mb.password})
    configured = engine.load(provider)
    assert configured._configured and mb.password.encode() not in dill.dumps(provider, recurse=True)


def test_missing_url_error_names_the_config_key() -> None:
    with pytest.raises(Exception, match="metabaseUrl"):
        CollectionProvider().credentials({"connection": {"email": "a@b.c", "password": "x"}})


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Any] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, []


def _run(build) -> list[Any]:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="mfb-analytics", stack="test", preview=False)

    @pulumi.runtime.test
    def program():
        res = build()
        return res.id

    program()
    return mocks.resources


def test_database_secrets_and_connection_are_secret_inputs_and_outputs() -> None:
    def build():
        return Database(
            "nc",
            DatabaseArgs(
                name="MFB PostgreSQL North Carolina",
                engine="postgres",
                details=postgres_details(host="h", port=5432, dbname="mfb", user="wl_nc_5_ro"),
                secrets={"password": "pw-plain"},
                connection=MetabaseConnection(
                    url="https://m.example.org", email="a@b.c", password="admin-pw"
                ),
            ),
        )

    resources = _run(build)
    inputs = resources[0].inputs
    assert resources[0].typ == "pulumi-python:dynamic/metabase:Database"
    for key in ("secrets", "connection"):
        assert (
            isinstance(inputs[key], dict)
            and inputs[key].get("4dabf18193072939515e22adb298388d")
            == "1b47061264138c4ac30d75fd1eb44270"
        )


def test_card_resource_sends_no_client_entity_id() -> None:
    """POST /api/card ignores a client entity_id (models/card.clj create-card!): it is an output."""

    def build():
        return Card(
            "nc-completed", CardArgs(name="Completed Screeners", database_id=3, sql="select 1")
        )

    assert _run(build)[0].inputs.get("entity_id") in (None, "")


def test_serialized_provider_in_inputs_holds_no_password() -> None:
    def build():
        return Card(
            "c",
            CardArgs(
                name="n",
                database_id=3,
                sql="select 1",
                connection=MetabaseConnection(
                    url="https://m.example.org", email="a@b.c", password="admin-pw"
                ),
            ),
        )

    inputs = _run(build)[0].inputs
    blob = inputs["__provider"]
    blob = blob.get("value", blob) if isinstance(blob, dict) else blob
    assert b"admin-pw" not in base64.b64decode(blob)


def test_preview_with_unknown_ids_passes_check_and_reports_a_change(mb: MB) -> None:
    from components._dynamic import UNKNOWN
    from components.metabase.card import CardProvider

    coll = mb.engine.up("c", CollectionProvider(), {"name": mb.name("Preview")})
    inputs = {
        "name": "n",
        "collection_id": coll["collection_id"],
        "database_id": mb.sample_db_id(),
        "sql": "select 1",
        "entity_id": "A" * 21,
    }
    mb.engine.up("card", CardProvider(), inputs)
    diff = mb.engine.preview("card", CardProvider(), {**inputs, "database_id": UNKNOWN})
    assert diff.changes is True  # the engine sees no stables
