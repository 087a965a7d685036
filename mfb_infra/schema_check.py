"""Check the program's registrations against the providers' published Pulumi schemas.

`schemas/<package>.json` holds the subset of each provider's `schema.json` the program uses
(extracted by `scripts/extract_schemas.py`; sources and refs in `schemas/README.md`). The engine
hands a provider exactly the inputs a program registers; a bridged provider then rejects unknown
inputs, missing required ones and mistyped values at `pulumi preview` — which the mocks never
run. `validate()` finds those here, offline, for every resource of every stack.

`provider_rules()` adds the rules the provider or the API enforces that a schema cannot state
(ranges, "exactly one of", cross-field conditions), each citing where it is enforced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mfb_infra.program import REPO, ProgramRun, Registration, is_secret, run_program

SCHEMA_DIR = REPO / "schemas"
PACKAGES = ("heroku", "github", "gcp", "postgresql", "random")
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi's unknown-value sentinel

# Stack configurations whose registrations are checked: both committed stacks, plus the
# switches that register other resource types (so none escapes the check).
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("staging", {}),
    ("production", {}),
    (
        "production",
        {"githubProductionReviewerUserIds": [101], "githubProductionReviewerTeamIds": [7]},
    ),
    ("production", {"gcpCreateMetabaseKey": True}),
    ("production", {"databaseTenantCredentialMode": "sql"}),
    ("staging", {"gcpBigqueryEnabled": False, "tfeEnabled": False}),
)


def run_variant(variant: tuple[str, dict[str, Any]]) -> ProgramRun:
    stack, overrides = variant
    return run_program(stack, overrides)


@dataclass(frozen=True)
class Problem:
    urn: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.path}: {self.message}"


@cache
def load_schema(package: str, directory: Path = SCHEMA_DIR) -> dict[str, Any]:
    return json.loads((directory / f"{package}.json").read_text())


def package_of(token: str) -> str | None:
    """Schema package of a registered type ("pulumi:providers:gcp" -> "gcp")."""
    if token.startswith("pulumi:providers:"):
        pkg = token.rsplit(":", 1)[-1]
    else:
        pkg = token.split(":", 1)[0]
    return pkg if pkg in PACKAGES else None


def spec_for(token: str, schemas: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    pkg = package_of(token)
    if pkg is None:
        return None
    schema = schemas[pkg]
    if token.startswith("pulumi:providers:"):
        return schema["provider"]
    return schema["resources"].get(token)


def _unwrap(value: Any) -> Any:
    while is_secret(value):
        value = value.get("value")
    return value


def _is_unknown(value: Any) -> bool:
    return value == UNKNOWN


class _Checker:
    def __init__(self, schema: dict[str, Any], urn: str, problems: list[Problem]):
        self.schema = schema
        self.urn = urn
        self.problems = problems

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.urn, path, message))

    def value(self, path: str, prop: dict[str, Any], value: Any) -> None:
        value = _unwrap(value)
        if value is None or _is_unknown(value):
            return
        if "oneOf" in prop:
            for alt in prop["oneOf"]:
                trial: list[Problem] = []
                _Checker(self.schema, self.urn, trial).value(path, alt, value)
                if not trial:
                    return
            self.fail(path, f"{value!r} matches none of {prop['oneOf']}")
            return
        ref = prop.get("$ref")
        if ref is not None:
            self.ref(path, ref, value)
            return
        typ = prop.get("type")
        if typ == "string":
            if not isinstance(value, str):
                self.fail(path, f"expected a string, got {type(value).__name__} {value!r}")
        elif typ == "integer":
            # the engine carries every number as a float; an integer must have no fraction
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or float(value) != int(value):
                self.fail(path, f"expected an integer, got {value!r}")
        elif typ == "number":
            if not isinstance(value, int | float) or isinstance(value, bool):
                self.fail(path, f"expected a number, got {value!r}")
        elif typ == "boolean":
            if not isinstance(value, bool):
                self.fail(path, f"expected a boolean, got {value!r}")
        elif typ == "array":
            if not isinstance(value, list):
                self.fail(path, f"expected a list, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.value(f"{path}[{i}]", prop.get("items") or {}, item)
        elif typ == "object":
            if not isinstance(value, dict):
                self.fail(path, f"expected a map, got {type(value).__name__}")
                return
            for k, item in value.items():
                self.value(f"{path}.{k}", prop.get("additionalProperties") or {}, item)

    def ref(self, path: str, ref: str, value: Any) -> None:
        if ref.startswith("pulumi.json#/"):
            kind = ref.split("/", 1)[1]
            if kind in ("Asset", "Archive") and not isinstance(value, dict):
                self.fail(path, f"expected an {kind}, got {value!r}")
            return  # Any / Json accept anything
        name = ref[len("#/types/") :]
        spec = self.schema["types"].get(name)
        if spec is None:
            self.fail(path, f"type {name} is not in the extracted schema (rerun the extractor)")
            return
        if "enum" in spec:
            if value not in spec["enum"]:
                self.fail(path, f"{value!r} is not one of {spec['enum']}")
            return
        if not isinstance(value, dict):
            self.fail(path, f"expected an object of type {name}, got {value!r}")
            return
        self.object(path, spec["properties"], spec["required"], value)

    def object(
        self,
        path: str,
        properties: dict[str, Any],
        required: Iterable[str],
        value: dict[str, Any],
    ) -> None:
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in properties:
                self.fail(where, f"unknown input; known: {', '.join(sorted(properties))}")
                continue
            if item is not None and properties[key].get("deprecationMessage"):
                self.fail(where, f"deprecated: {properties[key]['deprecationMessage']}")
            self.value(where, properties[key], item)
        for key in required:
            if _unwrap(value.get(key)) is None:
                self.fail(f"{path}.{key}" if path else key, "required input is missing")


# Inputs the Python SDK adds to every provider registration itself (not provider config).
_SDK_PROVIDER_INPUTS = frozenset({"version", "pluginDownloadURL"})


def _decode_provider_inputs(inputs: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """The Python SDK sends a provider's non-string config JSON-encoded (pulumi
    `ProviderResource`: the engine's provider config is a map of strings); decode those."""
    out = {}
    for k, v in inputs.items():
        raw = _unwrap(v)
        if isinstance(raw, str) and props.get(k, {}).get("type") not in (None, "string"):
            try:
                raw = json.loads(raw)
            except ValueError:
                pass  # not JSON: left as the string, so the type check names it
            v = raw
        out[k] = v
    return out


def validate(
    registrations: Iterable[Registration],
    schemas: dict[str, dict[str, Any]] | None = None,
) -> list[Problem]:
    """Every schema violation among `registrations` (types of other packages are skipped)."""
    schemas = schemas or {p: load_schema(p) for p in PACKAGES}
    problems: list[Problem] = []
    for reg in registrations:
        if reg.read:
            continue
        pkg = package_of(reg.type)
        if pkg is None:
            continue
        spec = spec_for(reg.type, schemas)
        if spec is None:
            problems.append(
                Problem(
                    reg.urn,
                    "",
                    f"type {reg.type} is not in schemas/{pkg}.json "
                    "(a new resource type: rerun scripts/extract_schemas.py)",
                )
            )
            continue
        inputs = dict(reg.inputs)
        if reg.type.startswith("pulumi:providers:"):
            for k in _SDK_PROVIDER_INPUTS:
                inputs.pop(k, None)
            inputs = _decode_provider_inputs(inputs, spec["inputProperties"])
        _Checker(schemas[pkg], reg.urn, problems).object(
            "", spec["inputProperties"], spec["requiredInputs"], inputs
        )
    return problems


# --------------------------------------------------------------------------------------------
# Provider-side rules a schema cannot express
# --------------------------------------------------------------------------------------------
ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
ENV_POLICY = (
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
)
ENV_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
SECRET_VALUE_INPUTS = ("value", "valueEncrypted", "encryptedValue", "plaintextValue")
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
WIF_POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
WIF_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
# hashicorp/terraform-provider-google google/verify/validation.go RFC1035NameTemplate, used by
# resource_google_service_account.go account_id: ValidateRFC1035Name(6, 30)
RFC1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# google/services/iambeta/resource_iam_workload_identity_pool(_provider).go
WIF_ID_RE = re.compile(r"^[0-9a-z-]{4,32}$")
GITHUB_MAX_REVIEWERS = 6
GITHUB_MAX_WAIT_TIMER = 43200


def _present(inputs: dict[str, Any], key: str) -> bool:
    return _unwrap(inputs.get(key)) not in (None, "")


def reviewer_count(env_inputs: dict[str, Any]) -> int:
    total = 0
    for block in _unwrap(env_inputs.get("reviewers")) or []:
        block = _unwrap(block) or {}
        total += len(_unwrap(block.get("users")) or []) + len(_unwrap(block.get("teams")) or [])
    return total


def provider_rules(registrations: Iterable[Registration]) -> list[Problem]:
    """Rules the providers (integrations/terraform-provider-github,
    hashicorp/terraform-provider-google validators) or GitHub's API enforce at preview or
    create time that the Pulumi schema cannot state."""
    problems: list[Problem] = []
    regs = [r for r in registrations if not r.read]
    for r in regs:
        i = r.inputs
        if r.type == ENV:
            n = reviewer_count(i)
            # GitHub REST "Create or update an environment" answers 422 "Required reviewers
            # must have at least one reviewer to set prevent_self_review".
            if _unwrap(i.get("preventSelfReview")) is True and n == 0:
                problems.append(
                    Problem(
                        r.urn,
                        "preventSelfReview",
                        "GitHub rejects "
                        'prevent_self_review without required reviewers ("Required reviewers must '
                        'have at least one reviewer to set prevent_self_review")',
                    )
                )
            # terraform-provider-github github/resource_github_repository_environment.go:
            # resourceGithubRepositoryEnvironmentDiff (users + teams combined) and MaxItems: 6.
            if n > GITHUB_MAX_REVIEWERS:
                problems.append(
                    Problem(
                        r.urn,
                        "reviewers",
                        f"{n} reviewers; GitHub allows at "
                        f"most {GITHUB_MAX_REVIEWERS} (users and teams combined)",
                    )
                )
            # same file: "reviewers" MaxItems: 1 (one block holding users and teams)
            if len(_unwrap(i.get("reviewers")) or []) > 1:
                problems.append(Problem(r.urn, "reviewers", "at most one reviewers block"))
            # same file: wait_timer validation.IntBetween(0, 43200)
            wait = _unwrap(i.get("waitTimer"))
            if wait is not None and not (0 <= wait <= GITHUB_MAX_WAIT_TIMER):
                problems.append(Problem(r.urn, "waitTimer", f"{wait} is outside 0..43200"))
            # GitHub REST environments: custom_branch_policies and protected_branches are
            # mutually exclusive (exactly one of them true when a policy is set).
            policy = _unwrap(i.get("deploymentBranchPolicy"))
            if policy:
                prot = _unwrap(policy.get("protectedBranches"))
                custom = _unwrap(policy.get("customBranchPolicies"))
                if bool(prot) == bool(custom):
                    problems.append(
                        Problem(
                            r.urn,
                            "deploymentBranchPolicy",
                            "exactly one of "
                            "protectedBranches and customBranchPolicies must be true",
                        )
                    )
        elif r.type == ENV_POLICY:
            # resource_github_repository_environment_deployment_policy.go:
            # ExactlyOneOf(branch_pattern, tag_pattern), StringIsNotEmpty
            given = [k for k in ("branchPattern", "tagPattern") if _present(i, k)]
            if len(given) != 1:
                problems.append(
                    Problem(
                        r.urn,
                        "branchPattern",
                        "exactly one of branchPattern "
                        f"and tagPattern must be set (got {given or 'neither'})",
                    )
                )
            # A custom deployment branch policy only applies to an environment whose
            # deployment_branch_policy has custom_branch_policies = true (GitHub REST
            # "Create a deployment branch policy").
            env_name = _unwrap(i.get("environment"))
            envs = [
                e
                for e in regs
                if e.type == ENV
                and _unwrap(e.inputs.get("environment")) == env_name
                and e.provider == r.provider
            ]
            if envs:
                policy = _unwrap(envs[0].inputs.get("deploymentBranchPolicy")) or {}
                if _unwrap(policy.get("customBranchPolicies")) is not True:
                    problems.append(
                        Problem(
                            r.urn,
                            "environment",
                            f"environment {env_name!r} "
                            "does not enable customBranchPolicies: the branch policy is refused",
                        )
                    )
        elif r.type == SERVICE_ACCOUNT:
            aid = _unwrap(i.get("accountId"))
            if isinstance(aid, str) and not (6 <= len(aid) <= 30 and RFC1035_RE.match(aid)):
                problems.append(
                    Problem(
                        r.urn,
                        "accountId",
                        f"{aid!r}: 6-30 characters matching [a-z]([-a-z0-9]*[a-z0-9])",
                    )
                )
        elif r.type in (WIF_POOL, WIF_PROVIDER):
            key = (
                "workloadIdentityPoolId" if r.type == WIF_POOL else "workloadIdentityPoolProviderId"
            )
            ident = _unwrap(i.get(key))
            if isinstance(ident, str) and (ident.startswith("gcp-") or not WIF_ID_RE.match(ident)):
                problems.append(
                    Problem(r.urn, key, f"{ident!r}: 4-32 of [0-9a-z-], not starting with gcp-")
                )
        elif r.type == ENV_SECRET:
            # resource_github_actions_environment_secret.go: ExactlyOneOf(value,
            # value_encrypted, encrypted_value, plaintext_value)
            given = [k for k in SECRET_VALUE_INPUTS if _present(i, k)]
            if len(given) != 1:
                problems.append(
                    Problem(
                        r.urn,
                        "value",
                        "exactly one of "
                        f"{', '.join(SECRET_VALUE_INPUTS)} must be set (got {given or 'none'})",
                    )
                )
    return problems
