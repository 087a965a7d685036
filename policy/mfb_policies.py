"""The project's invariants as plain functions, checked where mocks cannot see: at real
`pulumi preview`/`up` (via `__main__.py`, the pulumi-policy pack), and in the unit tests over the
program's own registrations and over hand-built arguments.

Each check takes what a `pulumi_policy.ResourceValidationArgs` offers (`resource_type`,
`props`, `urn`, `name`, `opts.protect`) and returns violation messages (empty = compliant).
Nothing here imports pulumi_policy or the project, so the same code runs in the pack's own
virtualenv (policy/venv) and in the project's tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

# wl_<slug>_<white label id>_ro (components/config.py TENANT_ROLE_RE)
TENANT_ROLE_RE = re.compile(r"^wl_[a-z][a-z_]*_[0-9]+_ro$")
# what a tenant may hold, by object type: connect, see the schema, read its tables
TENANT_PRIVILEGES: dict[str, frozenset[str]] = {
    "database": frozenset({"CONNECT"}),
    "schema": frozenset({"USAGE"}),
    "table": frozenset({"SELECT"}),
}
GRANT = "postgresql:index/grant:Grant"
DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges"
ROLE = "postgresql:index/role:Role"
ROLE_ESCALATIONS = (
    "superuser",
    "createDatabase",
    "createRole",
    "bypassRowLevelSecurity",
    "replication",
)
# resources whose deletion loses data that no `pulumi up` can bring back
DATA_RESOURCES = frozenset(
    {
        "heroku:addon/addon:Addon",  # Metabase's application database (content, users, history)
        "gcp:bigquery/dataset:Dataset",  # the GA4 marts
        "postgresql:index/schema:Schema",  # the analytics marts (and dbt's sources)
    }
)
ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
PRODUCTION_DEPLOY_ENVIRONMENT = "production-deploy"
# a name that says "credential": `password`, `apiKey`, `MB_DB_PASS`, `TFE_TOKEN`, ... (not
# `secretName`, which names a secret, nor `canAdminsBypass`)
_CREDENTIAL_WORDS = frozenset(
    {"pass", "password", "passwd", "pw", "secret", "token", "credential", "credentials"}
)
_CREDENTIAL_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key")})


def credential_name(name: str) -> bool:
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)]
    if not words:
        return False
    return words[-1] in _CREDENTIAL_WORDS or tuple(words[-2:]) in _CREDENTIAL_PAIRS


# values that are credentials whatever the key is called
SECRET_VALUE_RES = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r'"private_key"\s*:'),
    re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # scheme://user:password@host
    re.compile(r"\bmb_[A-Za-z0-9+/=]{20,}"),  # Metabase API key
)


@dataclass(frozen=True)
class Resource:
    """The parts of a pulumi_policy.ResourceValidationArgs the checks read."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    protect: bool = False


def stack_of(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# ---- tenant access -----------------------------------------------------------------------------
def tenant_grants_read_only(r: Resource) -> list[str]:
    if r.resource_type not in (GRANT, DEFAULT_PRIVILEGES):
        return []
    role = str(r.props.get("role") or "")
    if not TENANT_ROLE_RE.match(role):
        return []
    out: list[str] = []
    object_type = str(r.props.get("objectType") or "")
    allowed = TENANT_PRIVILEGES.get(object_type, frozenset())
    privileges = {str(p).upper() for p in _listify(r.props.get("privileges"))}
    extra = sorted(privileges - allowed)
    if extra:
        want = ", ".join(sorted(allowed)) or "nothing"
        out.append(
            f"tenant role {role} is granted {', '.join(extra)} on {object_type or '?'}; a tenant "
            f"may hold only {want} there (read-only access)"
        )
    if r.props.get("withGrantOption"):
        out.append(f"tenant role {role} may not pass its privileges on (withGrantOption)")
    return out


def tenant_roles_cannot_escalate(r: Resource) -> list[str]:
    if r.resource_type != ROLE or not TENANT_ROLE_RE.match(str(r.props.get("name") or "")):
        return []
    # each of these bypasses RLS or reaches other databases and roles; a granted role would
    # lend the tenant its privileges
    bad = [k for k in ROLE_ESCALATIONS if r.props.get(k) is True]
    if r.props.get("roles"):
        bad.append("roles")
    return [f"tenant role {r.props.get('name')} must not have {', '.join(bad)}"] if bad else []


# ---- production data ---------------------------------------------------------------------------
def production_data_protected(r: Resource) -> list[str]:
    if r.resource_type not in DATA_RESOURCES or stack_of(r.urn) != "production":
        return []
    if r.protect:
        return []
    return [
        f"{r.name} ({r.resource_type}) holds production data and must be protected "
        "(ResourceOptions(protect=True)) so no replace or destroy can delete it"
    ]


# ---- secrets -----------------------------------------------------------------------------------
_schema_cache: dict[str, dict[str, Any]] = {}


def _schema(package: str) -> dict[str, Any] | None:
    if package not in _schema_cache:
        path = SCHEMAS / f"{package}.json"
        _schema_cache[package] = json.loads(path.read_text()) if path.is_file() else {}
    return _schema_cache[package] or None


def _input_spec(resource_type: str) -> dict[str, Any] | None:
    schema = _schema(resource_type.split(":", 1)[0])
    if schema is None:
        return None
    return (schema.get("resources", {}).get(resource_type) or {}).get("inputProperties")


def _looks_secret_value(value: Any) -> bool:
    return isinstance(value, str) and any(p.search(value) for p in SECRET_VALUE_RES)


def no_secret_in_plain_input(r: Resource) -> list[str]:
    """A credential only in an input the provider stores and sends as a secret.

    The engine hands analyzers plain values, so secretness is read from the provider schema
    (`secret: true` inputs are wrapped as secrets by the generated SDK)."""
    out: list[str] = []
    spec = _input_spec(r.resource_type)
    if spec is None:
        # no published schema (our dynamic providers): which inputs the program wrapped as
        # secrets is not visible to an analyzer; the mock tests check those wrappings
        return []
    for key, value in r.props.items():
        prop = spec.get(key, {})
        if prop.get("deprecationMessage") and "plaintext" in key.lower() and value:
            out.append(f"{key} is deprecated; pass the secret as the secret `value` input")
        if prop.get("secret"):
            continue
        if credential_name(key) and value not in (None, "", False):
            out.append(f"input {key} looks like a credential but is not a secret input")
        if isinstance(value, Mapping):
            for k, v in value.items():
                if credential_name(str(k)) and v not in (None, ""):
                    out.append(
                        f"{key}.{k} looks like a credential in a plain map; use the "
                        "resource's sensitive/secret input instead"
                    )
                elif _looks_secret_value(v):
                    out.append(f"{key}.{k} holds a credential-shaped value in a plain map")
        elif _looks_secret_value(value):
            out.append(f"input {key} holds a credential-shaped value but is not a secret input")
    if r.resource_type == VARIABLE:
        name = str(r.props.get("variableName") or "")
        if credential_name(name):
            out.append(
                f"GitHub variable {name} looks like a credential: variables are readable by "
                "anyone with read access; make it an ActionsEnvironmentSecret"
            )
    return out


# ---- GitHub environments ------------------------------------------------------------------------
def _reviewer_count(props: Mapping[str, Any]) -> int:
    n = 0
    for block in _listify(props.get("reviewers")):
        n += len(_listify((block or {}).get("users"))) + len(_listify((block or {}).get("teams")))
    return n


def production_deploy_requires_reviewers(r: Resource) -> list[str]:
    if r.resource_type != ENVIRONMENT:
        return []
    if r.props.get("environment") != PRODUCTION_DEPLOY_ENVIRONMENT:
        return []
    out: list[str] = []
    if _reviewer_count(r.props) == 0:
        out.append(
            "production-deploy has no required reviewers, so any push to main deploys "
            "production: set githubProductionReviewerUserIds and/or "
            "githubProductionReviewerTeamIds (numeric ids; `gh api users/<login> --jq .id`)"
        )
    elif r.props.get("preventSelfReview") is not True:
        out.append("production-deploy must forbid self-review (preventSelfReview: true)")
    if r.props.get("canAdminsBypass") is not False:
        out.append("production-deploy must not let admins bypass its reviewers")
    policy = r.props.get("deploymentBranchPolicy") or {}
    if policy.get("customBranchPolicies") is not True:
        out.append("production-deploy must accept only the release branch (custom branch policy)")
    return out


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    fn: Callable[[Resource], list[str]]


CHECKS: tuple[Check, ...] = (
    Check(
        "tenant-grants-read-only",
        "Tenant roles hold CONNECT, USAGE and SELECT only, never more, never grantable.",
        tenant_grants_read_only,
    ),
    Check(
        "tenant-roles-cannot-escalate",
        "Tenant roles are plain login roles: no superuser, BYPASSRLS, CREATEROLE, ...",
        tenant_roles_cannot_escalate,
    ),
    Check(
        "production-data-protected",
        "Production resources that hold data are protected against delete and replace.",
        production_data_protected,
    ),
    Check(
        "no-secret-in-plain-input",
        "Credentials travel only in secret inputs, never in plain inputs, maps or variables.",
        no_secret_in_plain_input,
    ),
    Check(
        "production-deploy-requires-reviewers",
        "production-deploy needs reviewers, no self-review, no admin bypass, main only.",
        production_deploy_requires_reviewers,
    ),
)


def violations(resources: Iterable[Resource]) -> list[tuple[str, str, str]]:
    """(check name, urn, message) for every violation."""
    return [(c.name, r.urn, m) for r in resources for c in CHECKS for m in c.fn(r)]
