"""Shared fixtures: a throwaway PostgreSQL server, and the program evaluated under mocks."""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mfb_infra.pgserver import PgServer  # noqa: E402
from mfb_infra.program import ProgramRun, run_program  # noqa: E402

_db_counter = itertools.count()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server per test module (Debian's binaries, in a temp dir).

    Per module, not per session: roles are cluster-wide, and modules create the same tenant
    roles (wl_co_1_ro, ...) with their own passwords and tear them down. Starting one costs ~1 s.
    """
    root = Path(tempfile.mkdtemp(prefix="mfb-pg-")) / "cluster"
    server = PgServer.start(root)
    try:
        yield server
    finally:
        server.destroy()
        root.parent.rmdir() if root.parent.exists() and not any(root.parent.iterdir()) else None


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[tuple[PgServer, str]]:
    """A fresh, empty database on the session server; dropped afterwards."""
    name = f"t{os.getpid()}_{next(_db_counter)}"
    pg_server.create_database(name)
    try:
        yield pg_server, name
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def staging_run() -> ProgramRun:
    """The staging stack file evaluated under Pulumi's mocks (shared, read-only)."""
    return run_program("staging")


@pytest.fixture(scope="session")
def production_run() -> ProgramRun:
    """The production stack file evaluated under Pulumi's mocks (shared, read-only)."""
    return run_program("production")


@pytest.fixture(scope="session", params=["staging", "production"])
def stack_run(request, staging_run, production_run) -> ProgramRun:
    return {"staging": staging_run, "production": production_run}[request.param]
