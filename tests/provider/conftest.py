"""Fixtures for the Metabase provider tests.

By default every test gets a fresh in-process Metabase double. With ``METABASE_URL``,
``METABASE_ADMIN_EMAIL`` and ``METABASE_ADMIN_PASSWORD`` set, the same tests run against that
Metabase (a fresh instance is set up through its setup token); double-only tests (fault injection,
sync-delay internals) are skipped there. The engine simulator (harness.py) sends every resource
call to Pulumi's own ``python -m pulumi.dynamic`` host over gRPC (host.py). Database tests
against a real Metabase also need a warehouse it can reach:
``METABASE_TEST_PG_HOST/PORT/DB/USER/PASSWORD`` (tables in ``analytics``).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from harness import Engine  # noqa: E402
from metabase_double import MetabaseDouble  # noqa: E402

from components.metabase.client import (  # noqa: E402
    Credentials,
    MetabaseClient,
    RetryPolicy,
    reset_clients,
    set_default_policy,
)
from components.metabase.setup import SetupProvider  # noqa: E402

REAL_URL = os.environ.get("METABASE_URL")
ADMIN_EMAIL = os.environ.get("METABASE_ADMIN_EMAIL", "admin@mfb.test")
ADMIN_PASSWORD = os.environ.get("METABASE_ADMIN_PASSWORD", "Xq7-long-enough-pass!")

double_only = pytest.mark.skipif(bool(REAL_URL), reason="needs the double's fault/sync controls")


@dataclass
class MB:
    """One Metabase under test (double or real) plus an engine simulator bound to it."""

    url: str
    email: str
    password: str
    double: MetabaseDouble | None
    engine: Engine
    run_id: str

    @property
    def connection(self) -> dict[str, Any]:
        return {"url": self.url, "email": self.email, "password": self.password}

    def client(self) -> MetabaseClient:
        return MetabaseClient(Credentials(self.url, self.email, self.password))

    def name(self, base: str) -> str:
        """Unique object names, so runs against a shared real Metabase don't collide."""
        return f"{base} [{self.run_id}]"

    def sample_db_id(self) -> int:
        for db in self.client().list_data("database"):
            if db.get("is_sample") or db.get("name") == "Sample Database":
                return int(db["id"])
        raise AssertionError("no Sample Database on this Metabase")


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    set_default_policy(RetryPolicy(attempts=6, backoff=0.005, max_backoff=0.02, timeout=10.0))
    yield
    reset_clients()


@pytest.fixture
def fresh_double() -> Iterator[MetabaseDouble]:
    double = MetabaseDouble(sync_delay=0.15).start()
    yield double
    double.stop()


@pytest.fixture
def mb(request: pytest.FixtureRequest) -> Iterator[MB]:
    """A set-up Metabase with an admin; the engine simulator uses connection inputs."""
    run_id = uuid.uuid4().hex[:6]
    if REAL_URL:
        env = MB(REAL_URL, ADMIN_EMAIL, ADMIN_PASSWORD, None, Engine({}), run_id)
        env.engine.connection = env.connection
        _ensure_setup(env)
        yield env
        return
    double = MetabaseDouble(sync_delay=0.15).start()
    double.setup_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    env = MB(double.url, ADMIN_EMAIL, ADMIN_PASSWORD, double, Engine({}), run_id)
    env.engine.connection = env.connection
    try:
        yield env
    finally:
        double.stop()


def _ensure_setup(env: MB) -> None:
    """Real mode: complete first-run setup through the setup token if nobody has yet."""
    engine = Engine(env.connection)
    engine.up("setup", SetupProvider(), {"health_timeout_seconds": 180})


@pytest.fixture
def warehouse_details(mb: MB) -> dict[str, Any]:
    """Details + secrets of a Postgres the Metabase under test can reach."""
    if mb.double is not None:
        return {
            "details": {
                "host": "pg.example.org",
                "port": 5432,
                "dbname": "mfb",
                "user": "wl_nc_5_ro",
                "ssl": False,
                "schema-filters-type": "inclusion",
                "schema-filters-patterns": "analytics",
            },
            "secrets": {"password": "s3cret-tenant-pw"},
        }
    host = os.environ.get("METABASE_TEST_PG_HOST")
    if not host:
        pytest.skip(
            "real Metabase: set METABASE_TEST_PG_HOST/PORT/DB/USER/PASSWORD for database tests"
        )
    return {
        "details": {
            "host": host,
            "port": int(os.environ.get("METABASE_TEST_PG_PORT", "5432")),
            "dbname": os.environ.get("METABASE_TEST_PG_DB", "mfb"),
            "user": os.environ.get("METABASE_TEST_PG_USER", "mfb"),
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "analytics",
        },
        "secrets": {"password": os.environ.get("METABASE_TEST_PG_PASSWORD", "")},
    }
