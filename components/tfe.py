"""Terraform Cloud: the legacy Terraform's workspace, while that Terraform still exists.

There is no pulumi-tfe package in the registries, so `Workspace` is a small dynamic resource over
HashiCorp's official SDK (`pytfe`). It manages one workspace's name, execution mode (`local`:
runners execute, Terraform Cloud only keeps state and locks), description and the tags it
declares (the legacy `cloud {}` block selects workspaces by the tag `dashboards`).

Credentials: the API token comes from the stack secret `mfb-analytics:tfeToken` through
`configure` (or `TFE_TOKEN` in the environment, as CI passes it); it is never an input, an output,
or part of the pickled provider. The address is an ordinary input (`tfeAddress`).

Lifecycle:
- create adopts a workspace that already exists under that name (upstream's workspaces do), so
  its state is kept; the adoption is reported in the outputs (`adopted`);
- delete uses Terraform Cloud's *safe delete*, which refuses while the workspace still manages
  resources, so removing this resource can never drop the legacy Terraform's state;
- tags outside the declared set (added by people) are left alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components._dynamic import is_unknown
from components.config import StackConfig

TOKEN_CONFIG_KEY = "tfeToken"
TOKEN_ENV = "TFE_TOKEN"
LEGACY_TAGS: tuple[str, ...] = ("dashboards",)
EXECUTION_MODES = ("local", "remote", "agent")
MANAGED = ("organization", "name", "execution_mode", "description", "tags", "address")
REPLACE_ON = ("organization", "address")  # another org/server is another workspace
WORKSPACE_NAME_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_-]{0,88}[A-Za-z0-9_]|[A-Za-z0-9_])$")
ORGANIZATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9:_-]{0,254}$")


class TfeConfigError(RuntimeError):
    """Missing or unusable Terraform Cloud credentials."""


def _normalize(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "organization": props.get("organization"),
        "name": props.get("name"),
        "execution_mode": props.get("execution_mode"),
        "description": props.get("description") or "",
        "tags": sorted(set(props.get("tags") or [])),
        "address": str(props.get("address") or "").rstrip("/"),
    }


def validate(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for every bad input; unknown (preview) values are not judged."""
    problems: list[tuple[str, str]] = []

    def known(key: str) -> bool:
        return not is_unknown(props.get(key))

    org = props.get("organization")
    if known("organization") and not (isinstance(org, str) and ORGANIZATION_RE.fullmatch(org)):
        problems.append(
            (
                "organization",
                f"{org!r} is not a Terraform Cloud organization name (tfeOrganization)",
            )
        )
    name = props.get("name")
    if known("name") and not (isinstance(name, str) and WORKSPACE_NAME_RE.fullmatch(name)):
        problems.append(
            (
                "name",
                f"{name!r} is not a workspace name: 1-90 letters, digits, '-' or '_', not starting "
                "or ending with '-' (tfeWorkspace)",
            )
        )
    mode = props.get("execution_mode")
    if known("execution_mode") and mode not in EXECUTION_MODES:
        problems.append(("execution_mode", f"{mode!r} is not one of {', '.join(EXECUTION_MODES)}"))
    tags = props.get("tags") or []
    if known("tags"):
        if not isinstance(tags, (list, tuple)):
            problems.append(("tags", "must be a list of tag names"))
        else:
            bad = [t for t in tags if not (isinstance(t, str) and TAG_RE.fullmatch(t))]
            if bad:
                problems.append(
                    ("tags", f"{bad} are not tags: lowercase letters, digits, ':', '-', '_'")
                )
    addr = props.get("address")
    if known("address") and not (
        isinstance(addr, str) and re.match(r"^https?://[^/\s]+", addr or "")
    ):
        problems.append(("address", f"{addr!r} is not an http(s) URL (tfeAddress)"))
    return problems


class WorkspaceProvider(ResourceProvider):
    """CRUD for one Terraform Cloud workspace through pytfe (imported inside methods)."""

    def __init__(self) -> None:
        super().__init__()
        self._token: str | None = None

    # The engine pickles the provider when the resource is constructed; a token set later by
    # `configure` must never ride along if the instance is pickled again.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_token"] = None
        return state

    def configure(self, req: ConfigureRequest) -> None:
        token = req.config.get(TOKEN_CONFIG_KEY)
        self._token = token if token else None

    def _client(self, address: str):
        token = getattr(self, "_token", None) or os.environ.get(TOKEN_ENV)
        if not token:
            raise TfeConfigError(
                "Terraform Cloud token missing: `pulumi config set --secret tfeToken <token>` "
                f"or export {TOKEN_ENV} (CI: the repository secret TF_API_TOKEN)"
            )
        from pytfe import TFEClient, TFEConfig

        return TFEClient(
            TFEConfig(
                address=address,
                token=token,
                max_retries=int(os.environ.get("TFE_MAX_RETRIES", "3")),
            )
        )

    # ---------------------------------------------------------------- check / diff
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = dict(news)
        inputs.setdefault("execution_mode", "local")
        inputs.setdefault("description", "")
        if isinstance(inputs.get("tags"), (list, tuple)):
            inputs["tags"] = sorted(set(inputs["tags"]))
        return CheckResult(inputs, [CheckFailure(p, r) for p, r in validate(inputs)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old, new = _normalize(olds), _normalize(news)
        changed = [k for k in MANAGED if old[k] != new[k]]
        replaces = [k for k in changed if k in REPLACE_ON]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in REPLACE_ON if k not in replaces],
            delete_before_replace=False,
        )

    # ---------------------------------------------------------------- CRUD
    def create(self, props: dict[str, Any]) -> CreateResult:
        from pytfe.errors import NotFound

        want = _normalize(props)
        with self._client(want["address"]) as tfe:
            try:
                existing = tfe.workspaces.read(want["name"], organization=want["organization"])
            except NotFound:
                existing = None
            if existing is None:
                ws = tfe.workspaces.create(want["organization"], _create_options(want))
                adopted = False
            else:
                ws = tfe.workspaces.update_by_id(existing.id, _update_options(want))
                adopted = True
            _sync_tags(tfe, ws.id, add=want["tags"], remove=[])
        return CreateResult(ws.id, {**props, "workspace_id": ws.id, "adopted": adopted})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from pytfe.errors import NotFound

        want = _normalize(props)
        with self._client(want["address"]) as tfe:
            try:
                ws = tfe.workspaces.read_by_id(id_)
            except NotFound:
                return ReadResult(None, {})
            live_tags = {t.name for t in tfe.workspaces.list_tags(id_)}
        mode = ws.execution_mode.value if ws.execution_mode is not None else None
        outs = {
            **props,
            "name": ws.name,
            "execution_mode": mode,
            "description": ws.description or "",
            # only the tags this resource declares are its business
            "tags": sorted(live_tags & set(want["tags"])),
            "workspace_id": ws.id,
        }
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old, want = _normalize(olds), _normalize(news)
        with self._client(want["address"]) as tfe:
            tfe.workspaces.update_by_id(id_, _update_options(want))
            dropped = [t for t in old["tags"] if t not in want["tags"]]
            _sync_tags(tfe, id_, add=want["tags"], remove=dropped)
        return UpdateResult({**news, "workspace_id": id_, "adopted": olds.get("adopted", False)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from pytfe.errors import NotFound, TFEError

        want = _normalize(props)
        with self._client(want["address"]) as tfe:
            try:
                tfe.workspaces.safe_delete_by_id(id_)
            except NotFound:
                return  # already gone
            except TFEError as e:
                raise TfeConfigError(
                    f"Terraform Cloud refused to delete workspace '{want['name']}' ({id_}): {e}. "
                    "Safe delete fails while the workspace still manages resources: destroy or "
                    "move the legacy Terraform's resources first, or keep the workspace and drop "
                    "it from this stack with `pulumi state delete <urn>`"
                ) from e


def _create_options(want: Mapping[str, Any]):
    from pytfe.models import ExecutionMode, WorkspaceCreateOptions, WorkspaceSettingOverwrites

    return WorkspaceCreateOptions(
        name=want["name"],
        execution_mode=ExecutionMode(want["execution_mode"]),
        description=want["description"] or None,
        setting_overwrites=WorkspaceSettingOverwrites(execution_mode=True),
    )


def _update_options(want: Mapping[str, Any]):
    from pytfe.models import ExecutionMode, WorkspaceSettingOverwrites, WorkspaceUpdateOptions

    return WorkspaceUpdateOptions(
        name=want["name"],
        execution_mode=ExecutionMode(want["execution_mode"]),
        description=want["description"],
        setting_overwrites=WorkspaceSettingOverwrites(execution_mode=True),
    )


def _sync_tags(tfe: Any, workspace_id: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
    from pytfe.models import Tag, WorkspaceAddTagsOptions, WorkspaceRemoveTagsOptions

    live = {t.name for t in tfe.workspaces.list_tags(workspace_id)}
    missing = [t for t in add if t not in live]
    extra = [t for t in remove if t in live]
    if missing:
        tfe.workspaces.add_tags(
            workspace_id, WorkspaceAddTagsOptions(tags=[Tag(name=t) for t in missing])
        )
    if extra:
        tfe.workspaces.remove_tags(
            workspace_id, WorkspaceRemoveTagsOptions(tags=[Tag(name=t) for t in extra])
        )


class Workspace(Resource, module="tfe", name="Workspace"):
    """`pulumi-python:dynamic/tfe:Workspace` — one Terraform Cloud workspace."""

    workspace_id: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    name: pulumi.Output[str]
    execution_mode: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        organization: pulumi.Input[str],
        workspace_name: pulumi.Input[str],
        address: pulumi.Input[str],
        execution_mode: pulumi.Input[str] = "local",
        description: pulumi.Input[str] = "",
        tags: pulumi.Input[Sequence[str]] = LEGACY_TAGS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            WorkspaceProvider(),
            name,
            {
                "organization": organization,
                "name": workspace_name,
                "address": address,
                "execution_mode": execution_mode,
                "description": description,
                "tags": list(tags) if isinstance(tags, (list, tuple)) else tags,
                "workspace_id": None,
                "adopted": None,
            },
            opts,
        )


class TerraformWorkspace(pulumi.ComponentResource):
    """The legacy Terraform's workspace (local execution) for this stack."""

    workspace_id: pulumi.Output[str]

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mfb:tfe:TerraformWorkspace", name, None, opts)
        t = cfg.tfe
        ws = Workspace(
            f"{name}-workspace",
            organization=t.organization,
            workspace_name=t.workspace,
            address=t.address,
            execution_mode="local",
            description=(
                f"Legacy Metabase Terraform ({cfg.environment}); state and locking only — "
                "runs execute on GitHub Actions runners. Managed by Pulumi (mfb-analytics)."
            ),
            tags=LEGACY_TAGS,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workspace_id = ws.workspace_id
        self.register_outputs({"workspaceId": self.workspace_id, "workspaceName": t.workspace})
