"""Provider-instance state under the host's sharing: one instance, 4 worker threads.

The host deserializes each distinct ``__provider`` once and serves every resource of that kind
from that instance concurrently; the instance's Metabase client (one per credentials, shared
process-wide) keeps the login session between calls. These tests issue concurrent gRPC calls to
the real host, as ``pulumi up``/``refresh`` do.
"""

from __future__ import annotations

import pytest
from conftest import MB, double_only
from harness import host_for
from host import HOST_WORKERS, Desired, HostEngine, make_urn, serialize_provider

from components.metabase.collection import CollectionProvider

pytestmark = double_only

COLLECTIONS = 16


def collections(mb: MB) -> list[Desired]:
    provider = serialize_provider(CollectionProvider())
    return [
        Desired(
            make_urn("pulumi-python:dynamic/metabase:Collection", f"c{i}"),
            {"connection": mb.connection, "name": mb.name(f"Concurrent {i}")},
            provider,
        )
        for i in range(COLLECTIONS)
    ]


@pytest.fixture
def engine(mb: MB) -> HostEngine:
    engine = HostEngine(host_for({}), parallel=COLLECTIONS)
    result = engine.up(collections(mb))
    result.raise_first()
    return engine


def test_concurrent_creates_through_one_instance_make_each_object_once(
    mb: MB, engine: HostEngine
) -> None:
    assert mb.double is not None
    names = sorted(c["name"] for c in mb.double.collections.values())
    assert names == sorted(mb.name(f"Concurrent {i}") for i in range(COLLECTIONS))


def test_the_host_runs_calls_on_one_kind_four_at_a_time(mb: MB, engine: HostEngine) -> None:
    """The premise of the tests below: the harness gets the host's real concurrency."""
    assert mb.double is not None
    mb.double.latency = 0.05
    mb.double.max_in_flight = 0
    assert engine.refresh().ok
    assert mb.double.max_in_flight == HOST_WORKERS


def test_an_expired_session_is_renewed_once_for_all_concurrent_calls(
    mb: MB, engine: HostEngine
) -> None:
    assert mb.double is not None
    mb.double.expire_sessions()
    mb.double.latency = 0.02  # every caller's request is in flight when the first 401 arrives
    mb.double.reset_counts()
    result = engine.refresh()
    assert result.ok and result.changed() == []
    assert mb.double.count("POST", "/api/session") == 1
