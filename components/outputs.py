"""Shapes that components hand to each other (so each can be built and tested on its own)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class DbCredential:
    """A login on the analytics Postgres. `password` is always a secret Output."""

    username: pulumi.Output[str]
    password: pulumi.Output[str]


@dataclass(frozen=True)
class DbEndpoint:
    """Where the analytics Postgres is. `host` is a secret Output (upstream keeps it secret)."""

    host: pulumi.Output[str]
    port: int
    dbname: str
    sslmode: str
