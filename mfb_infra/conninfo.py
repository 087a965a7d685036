"""PostgreSQL connection strings, parsed and built by libpq's rules (psycopg.conninfo).

Every DSN the CLI, the benchmarks and the tests take or hand on goes through here, so a
connection string means to dbt and to our SQL what it means to psql: both forms libpq accepts
(`postgresql://u:p%40ss@host:5432/db?sslmode=require` and `host=... dbname=...`), host and port
given as URI query parameters (`postgresql://u@/db?host=/var/run/postgresql`), a unix-socket
directory as the host, percent-encoded or quoted special characters. `urllib.parse` knows none of
these rules (it read the socket URI above as localhost:5432).
"""

from __future__ import annotations

import os

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def parse(dsn: str) -> dict[str, str]:
    """The DSN's parameters as libpq reads them (either form); ValueError when it is not one."""
    try:
        params = conninfo_to_dict(dsn)
    except ProgrammingError as e:
        raise ValueError(f"not a PostgreSQL connection string ({e})") from None
    return {k: str(v) for k, v in params.items()}


def build(params: dict[str, str]) -> str:
    """A keyword/value connection string with libpq's quoting."""
    return make_conninfo("", **params)


def with_params(dsn: str, **changes: str | None) -> str:
    """The same connection string with parameters replaced (or removed, for None)."""
    params = parse(dsn)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return build(params)


def with_dbname(dsn: str, dbname: str) -> str:
    """The same server and login, another database."""
    return with_params(dsn, dbname=dbname)


def with_login(dsn: str, user: str, password: str | None) -> str:
    """The same server and database, logging in as `user` (with `password`, or none)."""
    return with_params(dsn, user=user, password=password)


def redacted(dsn: str) -> str:
    """The connection string without its password, for messages and logs."""
    try:
        return with_params(dsn, password=None)
    except ValueError:
        return "(an unparsable connection string)"


def endpoint(dsn: str) -> tuple[str, str]:
    """(host, port) libpq would use for a DSN naming one server: the DSN's, else PGHOST /
    PGPORT, else localhost:5432. A host starting with '/' is a unix-socket directory."""
    params = parse(dsn)
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or ""
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    if "," in host or "," in port:
        raise ValueError(
            f"the connection string names several servers (host={host!r}, port={port!r}); "
            "name exactly one"
        )
    return host or "localhost", port


def pinned(dsn: str, connect_timeout: int = 20) -> str:
    """The DSN with the host and port libpq actually connected to written into it.

    A DSN without a host means libpq's compiled-in socket directory (/var/run/postgresql on
    Debian, /tmp for Homebrew and Postgres.app), which tools outside libpq (dbt's profile, psql
    instructions) cannot guess; connecting once and reading `conn.info` settles it.
    """
    import psycopg

    with psycopg.connect(dsn, connect_timeout=connect_timeout) as conn:
        host, port = conn.info.host, conn.info.port
    return with_params(dsn, host=host, port=str(port), hostaddr=None)
