"""Shapes that components hand to each other (so each can be built and tested on its own)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


# --------------------------------------------------------------------------------------------
# The commit a deploy ran from (the promotion gate reads it from the staging stack)
# --------------------------------------------------------------------------------------------
DEPLOY_COMMIT_ENV = "MFB_DEPLOY_COMMIT"
OUT_DEPLOYED_COMMIT = "deployedCommit"
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def deploy_commit(environ: Mapping[str, str] | None = None) -> str:
    """The full commit SHA the deploy workflow runs `pulumi up` from (`MFB_DEPLOY_COMMIT`, set
    to `${{ github.sha }}` on the `up` step only), or "" when a person runs `pulumi up` by hand
    — then the stack records that it runs no known commit, and the gate refuses to promote it.

    Read from the environment rather than stack config so the stack files stay identical across
    commits; `mfb_infra.program.run_program` hides the variable, so snapshots and parity never
    depend on it.
    """
    raw = (os.environ if environ is None else environ).get(DEPLOY_COMMIT_ENV, "")
    value = raw.strip().lower()
    if value and not _SHA_RE.fullmatch(value):
        raise ValueError(
            f"{DEPLOY_COMMIT_ENV}={raw!r} is not a full 40-character commit SHA: set it to "
            "${{ github.sha }} in the deploy workflow, or unset it"
        )
    return value


def runbook_outputs(cfg: Any, ci: Any) -> dict[str, Any]:
    """Stack outputs `mfb-infra runbook` renders (besides the components' own): the deployed
    commit, where the workflows' secrets live, and the database the marts are in. Names only —
    never a secret value."""
    return {
        OUT_DEPLOYED_COMMIT: deploy_commit(),
        "githubSecretNames": list(ci.secret_names),
        "githubVariableNames": list(ci.variable_names),
        "databaseName": cfg.database.name,
        "databaseSchema": cfg.database.schema_name,
        "herokuDataApp": cfg.database.heroku_data_app,
        "tenantWhiteLabelIds": {t.slug: t.white_label_id for t in cfg.tenants},
    }
