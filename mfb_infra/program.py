"""Run the real Pulumi program (`__main__.py`) under Pulumi's mocks and collect what it declares.

No CLI, no plugins, no credentials: config comes from `Pulumi.yaml` defaults plus the stack file,
secrets get placeholders (tagged so they can be recognised and never printed). Used by the unit
tests and by `mfb-infra snapshot`.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import os
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
PROJECT = "mfb-analytics"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pulumi's secret marker in serialized values
SECRET_KEY = "4dabf18193072939515e22adb298388d"
PLACEHOLDER_PREFIX = "placeholder-secret:"


# --------------------------------------------------------------------------------------------
# Config as the CLI would hand it to the program
# --------------------------------------------------------------------------------------------
def project_declarations(root: Path = REPO) -> dict[str, dict[str, Any]]:
    """`config:` declarations of Pulumi.yaml, keyed without the project prefix."""
    doc = yaml.safe_load((root / "Pulumi.yaml").read_text())
    out: dict[str, dict[str, Any]] = {}
    for key, decl in (doc.get("config") or {}).items():
        short = key.split(":", 1)[1] if key.startswith(f"{PROJECT}:") else key
        out[short] = decl if isinstance(decl, dict) else {"default": decl}
    return out


def stack_file_config(stack: str, root: Path = REPO) -> dict[str, Any]:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; known stacks: {', '.join(known)}")
    doc = yaml.safe_load(path.read_text()) or {}
    return dict(doc.get("config") or {})


def _to_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def cli_config(
    stack: str,
    overrides: dict[str, Any] | None = None,
    *,
    root: Path = REPO,
    secret_values: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """(config map, secret keys) the way `pulumi up` would pass them: defaults applied,
    secrets present. Secrets not given in `secret_values` get tagged placeholders.

    `overrides` maps short keys to values; a value of None removes the key.
    """
    decls = project_declarations(root)
    stack_cfg = stack_file_config(stack, root)
    values: dict[str, Any] = {}
    for short, decl in decls.items():
        if "default" in decl and not decl.get("secret"):
            values[f"{PROJECT}:{short}"] = decl["default"]
    for k, v in stack_cfg.items():
        if isinstance(v, dict) and "secure" in v:
            continue  # ciphertext: replaced by a placeholder below
        values[k] = v
    from components.config import SECRET_KEYS  # local import: repo root on sys.path

    secret_keys: list[str] = []
    secret_values = dict(secret_values or {})
    for short, (required, _source) in SECRET_KEYS.items():
        full = f"{PROJECT}:{short}"
        if short in secret_values:
            values[full] = secret_values[short]
        elif required or full in stack_cfg:
            values[full] = f"{PLACEHOLDER_PREFIX}{short}"
        else:
            continue
        secret_keys.append(full)
    for k, v in (overrides or {}).items():
        full = k if ":" in k else f"{PROJECT}:{k}"
        if v is None:
            values.pop(full, None)
        else:
            values[full] = v
    return {k: _to_config_string(v) for k, v in values.items()}, secret_keys


# --------------------------------------------------------------------------------------------
# Mocks that record every registration
# --------------------------------------------------------------------------------------------
@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str | None
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str | None
    additional_secret_outputs: list[str]
    delete_before_replace: bool
    ignore_changes: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    read: bool = False  # a `get`/StackReference read rather than a managed resource

    @property
    def parent_name(self) -> str | None:
        return self.parent.rsplit("::", 1)[-1] if self.parent else None


def _fake_outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Plausible provider-computed outputs for the mocks (ids, URLs, generated values)."""
    out = dict(inputs)
    if typ == "random:index/randomPassword:RandomPassword":
        # tagged like a config placeholder, so a generated secret that escapes its secret
        # wrapping is caught by the same leak checks
        out["result"] = f"{PLACEHOLDER_PREFIX}random:{name}"
    elif typ == "pulumi-python:dynamic/heroku:PostgresCredential":
        out.update(
            username=inputs.get("name"),
            addonId=f"{name}-addon-id",
            password=f"{PLACEHOLDER_PREFIX}heroku-credential:{name}",
        )
        out["addon_id"] = out.pop("addonId")
    elif typ == "pulumi-python:dynamic/postgres:TenantPolicies":
        out["tables"] = []
    elif typ.startswith("pulumi-python:dynamic/metabase:"):
        # Metabase ids the provider would return (stable per resource name)
        id_key = {
            "Database": "database_id",
            "Collection": "collection_id",
            "Card": "card_id",
            "Dashboard": "dashboard_id",
            "PermissionsGroup": "group_id",
        }.get(typ.rsplit(":", 1)[-1])
        if id_key:
            # 7 hex digits: ~1000 content objects in production would collide in 5 (birthday bound)
            out[id_key] = int(hashlib.sha256(name.encode()).hexdigest()[:7], 16) + 1
    elif typ == "heroku:index/app:App" or typ == "heroku:app/app:App":
        app = inputs.get("name", name)
        out.update(
            uuid=f"{app}-uuid",
            webUrl=f"https://{app}-0000000000.herokuapp.com/",
            herokuHostname=f"{app}.herokuapp.com",
            allConfigVars={},
        )
    elif typ == "heroku:build/build:Build":
        out.update(
            releaseId=f"{name}-release-id",
            slugId=None,
            status="succeeded",
            uuid=f"{name}-id",
            localChecksum=f"SHA256:mock-{name}",
        )
    elif typ == "pulumi-python:dynamic/heroku:PipelinePromotion":
        out.update(
            promotion_id=f"{name}-id",
            release_id=f"{name}-release-id",
            source_release_id=inputs.get("expected_source_release_id"),
            status="succeeded",
        )
    elif typ == "heroku:addon/addon:Addon":
        out.update(configVars=["DATABASE_URL"], providerId=f"{name}-provider-id")
    elif typ.startswith("gcp:iam/workloadIdentityPool:"):
        pool = inputs.get("workloadIdentityPoolId", name)
        out["name"] = f"projects/0/locations/global/workloadIdentityPools/{pool}"
    elif typ.startswith("gcp:iam/workloadIdentityPoolProvider:"):
        out["name"] = (
            "projects/0/locations/global/workloadIdentityPools/"
            f"{inputs.get('workloadIdentityPoolId', 'pool')}/providers/"
            f"{inputs.get('workloadIdentityPoolProviderId', name)}"
        )
    elif typ.startswith("gcp:serviceaccount/key:"):
        fake = json.dumps({"type": "service_account", "private_key_id": f"mock-{name}"})
        out["privateKey"] = base64.b64encode(fake.encode()).decode()
    elif typ.startswith("gcp:serviceaccount/account:"):
        acct = inputs.get("accountId", name)
        project = inputs.get("project", "project")
        out.update(
            email=f"{acct}@{project}.iam.gserviceaccount.com",
            member=f"serviceAccount:{acct}@{project}.iam.gserviceaccount.com",
            name=f"projects/{project}/serviceAccounts/{acct}@{project}.iam.gserviceaccount.com",
        )
    return out


# plausible answers to provider lookups (invokes) the program makes
DEFAULT_CALL_RESULTS: dict[str, Callable[[dict], dict]] = {
    "heroku:team/getTeam:getTeam": lambda a: {
        "id": f"{a.get('name')}-team-id",
        "name": a.get("name"),
        "defaultTeam": False,
        "membershipEnabled": True,
        "personal": False,
    },
}


class RecordingMocks:
    """pulumi.runtime.Mocks that answer with inputs + plausible computed outputs."""

    def __init__(
        self,
        stack_reference_outputs: dict[str, dict[str, Any]] | None = None,
        call_results: dict[str, Callable[[dict], dict]] | None = None,
    ):
        self.stack_reference_outputs = stack_reference_outputs or {}
        self.call_results = call_results or {}
        self.calls: list[tuple[str, dict]] = []

    def new_resource(self, args):  # pulumi.runtime.MockResourceArgs
        if args.typ == "pulumi:pulumi:StackReference":
            ref = args.inputs.get("name") or args.name
            outputs = self.stack_reference_outputs.get(ref)
            if outputs is None:
                raise RuntimeError(
                    f"stack reference '{ref}' cannot be resolved (no such stack or no access); "
                    "check herokuPipelineOwnerStack"
                )
            return f"{ref}", {"name": ref, "outputs": outputs, "secretOutputNames": []}
        rid = args.resource_id or f"{args.name}-id"
        return rid, _fake_outputs(args.typ, args.name, args.inputs)

    def call(self, args):  # pulumi.runtime.MockCallArgs
        self.calls.append((args.token, dict(args.args)))
        fn = self.call_results.get(args.token) or DEFAULT_CALL_RESULTS.get(args.token)
        return fn(dict(args.args)) if fn else {}


def _make_monitor_class():
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        def __init__(self, mocks):
            super().__init__(mocks)
            self.registrations: list[Registration] = []
            self.stack_outputs: dict[str, Any] = {}
            self.logs: list[tuple[str, str]] = []

        def _record(self, request, read: bool) -> None:
            from pulumi.runtime import rpc

            props = request.properties if read else request.object
            inputs = rpc.deserialize_properties(props, keep_unknowns=True)
            urn = self.make_urn(request.parent, request.type, request.name)
            self.registrations.append(
                Registration(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(getattr(request, "custom", True)),
                    inputs=inputs,
                    parent=request.parent or None,
                    protect=bool(getattr(request, "protect", False)),
                    retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                    dependencies=list(getattr(request, "dependencies", []) or []),
                    property_dependencies={
                        k: list(v.urns)
                        for k, v in (getattr(request, "propertyDependencies", {}) or {}).items()
                    },
                    provider=getattr(request, "provider", None) or None,
                    additional_secret_outputs=list(
                        getattr(request, "additionalSecretOutputs", []) or []
                    ),
                    delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
                    ignore_changes=list(getattr(request, "ignoreChanges", []) or []),
                    read=read,
                )
            )

        def RegisterResource(self, request):
            if request.type != "pulumi:pulumi:Stack":
                self._record(request, read=False)
            return super().RegisterResource(request)

        def ReadResource(self, request):
            self._record(request, read=True)
            return super().ReadResource(request)

        def RegisterResourceOutputs(self, request):
            from pulumi.runtime import rpc

            outs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            if "::pulumi:pulumi:Stack::" in request.urn:
                self.stack_outputs.update(outs)
            else:
                for r in self.registrations:
                    if r.urn == request.urn:
                        r.outputs = outs
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor


@dataclass
class ProgramRun:
    stack: str
    registrations: list[Registration]
    stack_outputs: dict[str, Any]
    calls: list[tuple[str, dict]]

    # ---- finders for tests -----------------------------------------------------------------
    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(typ)]
            raise AssertionError(f"expected one {typ} named {name!r}, found {names}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        for r in self.registrations:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def children_of(self, parent: Registration) -> list[Registration]:
        return [r for r in self.registrations if r.parent == parent.urn]

    def types(self) -> set[str]:
        return {r.type for r in self.registrations}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """Strip secret markers, recursively (for assertions on the plain value)."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def _deployed_staging_outputs(root: Path = REPO) -> dict[str, Any]:
    """What the staging stack exports once deployed (the keys production's MetabaseApp reads).

    Version and build source version follow the checkout, as after `pulumi up -s staging`.
    """
    import hashlib

    version = str(stack_file_config("staging", root).get(f"{PROJECT}:metabaseVersion", ""))
    h = hashlib.sha256()  # same recipe as components.heroku.app.image_digest
    for name in ("heroku.yml", "Dockerfile.heroku", "heroku-entrypoint.sh"):
        path = root / "dashboards" / name
        data = path.read_bytes() if path.is_file() else b""
        mode = 0o755 if name == "heroku-entrypoint.sh" else 0o644
        h.update(f"{name}\0{mode:o}\0{len(data)}\0".encode())
        h.update(data)
    return {
        "herokuPipelineId": "mfb-metabase-id",
        "metabaseAppId": "mfb-metabase-staging-id",
        "metabaseReleaseId": "mfb-metabase-staging-build-release-id",
        "metabaseVersion": version,
        "metabaseSourceVersion": f"{version}+{h.hexdigest()[:12]}",
    }


DEFAULT_STACK_REFERENCE_OUTPUTS: dict[str, dict[str, Any]] = {
    "MyFriendBen/mfb-analytics/staging": _deployed_staging_outputs(),
}


def run_program(
    stack: str,
    overrides: dict[str, Any] | None = None,
    *,
    root: Path = REPO,
    stack_reference_outputs: dict[str, dict[str, Any]] | None = None,
    call_results: dict[str, Callable[[dict], dict]] | None = None,
    preview: bool = False,
    secret_values: dict[str, str] | None = None,
) -> ProgramRun:
    """Evaluate `__main__.py` for `stack` under mocks and return everything it registered.

    Exceptions raised by the program (e.g. a ConfigError) propagate unchanged.
    """
    config, secret_keys = cli_config(stack, overrides, root=root, secret_values=secret_values)
    refs = dict(DEFAULT_STACK_REFERENCE_OUTPUTS)
    refs.update(stack_reference_outputs or {})
    mocks = RecordingMocks(refs, call_results)

    def _run() -> ProgramRun:
        import pulumi
        from pulumi.runtime import settings as rt_settings
        from pulumi.runtime.stack import run_in_stack
        from pulumi.runtime.sync_await import _sync_await

        monitor = _make_monitor_class()(mocks)
        rt_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor
        )
        pulumi.runtime.set_all_config(config, secret_keys)
        rt_settings.ROOT.set(None)  # set_mocks made (and finished) a root; run_in_stack makes ours
        rt_settings.SETTINGS.rpc_manager.clear()
        rt_settings.SETTINGS.outputs.clear()
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        cwd = os.getcwd()
        os.chdir(root)
        try:
            _sync_await(
                run_in_stack(lambda: runpy.run_path(str(root / "__main__.py"), run_name="__main__"))
            )
        finally:
            os.chdir(cwd)
        return ProgramRun(stack, monitor.registrations, monitor.stack_outputs, mocks.calls)

    # the deploy commit comes from the deploy workflow's environment; a snapshot must not
    # depend on where it runs (components/outputs.py deploy_commit)
    from components.outputs import DEPLOY_COMMIT_ENV

    hidden = os.environ.pop(DEPLOY_COMMIT_ENV, None)
    try:
        return contextvars.copy_context().run(_run)
    finally:
        if hidden is not None:
            os.environ[DEPLOY_COMMIT_ENV] = hidden
