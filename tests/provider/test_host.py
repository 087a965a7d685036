"""The contract host.py relies on, checked against the real ``python -m pulumi.dynamic``."""

from __future__ import annotations

import base64

from harness import host_for
from host import UNKNOWN, make_urn, serialize_provider
from production import production_content

from components.metabase.card import CardProvider

CARD = make_urn("pulumi-python:dynamic/metabase:Card", "probe")


def test_host_declines_secrets_so_every_request_carries_plain_values() -> None:
    response = host_for({}).configure_response
    assert response is not None and response.acceptSecrets is False


def test_check_hands_unknowns_back_as_the_sentinel() -> None:
    news = {
        "__provider": serialize_provider(CardProvider()),
        "connection": {"url": "http://metabase.invalid", "email": "a@b.c", "password": "x"},
        "name": "n",
        "sql": "select 1",
        "database_id": UNKNOWN,
    }
    inputs, failures = host_for({}).check(CARD, {}, news)
    assert failures == [] and inputs["database_id"] == UNKNOWN


def test_numbers_reach_the_provider_as_floats_and_come_back_as_floats() -> None:
    news = {
        "__provider": serialize_provider(CardProvider()),
        "connection": {"url": "http://metabase.invalid", "email": "a@b.c", "password": "x"},
        "name": "n",
        "sql": "select 1",
        "database_id": 3,
    }
    inputs, failures = host_for({}).check(CARD, {}, news)
    # CardProvider.check turns float ids back into ints, but the wire knows only float64
    assert failures == [] and isinstance(inputs["database_id"], float)


def test_program_registers_one_provider_string_per_kind_pickled_by_reference() -> None:
    content = production_content(bigquery=True)
    per_kind: dict[str, set[str]] = {}
    for d in content.resources:
        per_kind.setdefault(d.urn.split("::")[-2].rsplit(":", 1)[-1], set()).add(d.provider)
    # one string per kind = every resource of the kind shares one instance in the host
    assert {kind: len(blobs) for kind, blobs in per_kind.items()} == dict.fromkeys(per_kind, 1)
    for blob in set().union(*per_kind.values()):
        raw = base64.b64decode(blob)  # by reference: a small pickle naming an importable class
        assert len(raw) < 200 and b"components.metabase." in raw
