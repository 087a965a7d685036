"""The Terraform Cloud workspace provider against an in-process fake of the TFE JSON:API.

The fake speaks the shapes pytfe reads and writes (JSON:API documents, bearer auth, 404/409/422
errors, paginated tag lists); it is strict about auth and request bodies so the provider's calls
are checked as the real API would check them.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dill
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from components.tfe import TerraformWorkspace, TfeConfigError, WorkspaceProvider, validate
from mfb_infra.program import run_program, unwrap

TOKEN = "tfe-test-token-0123456789"
ORG = "MyFriendBen"


class FakeTfe:
    """State + request log of the fake server."""

    def __init__(self) -> None:
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, body)
        self._ids = itertools.count(1)

    def add(self, name: str, *, mode: str = "remote", tags=(), resources: int = 0) -> str:
        wid = f"ws-fake{next(self._ids):04d}"
        self.workspaces[wid] = {
            "name": name,
            "org": ORG,
            "execution-mode": mode,
            "description": "",
            "tags": set(tags),
            "resource-count": resources,
            "setting-overwrites": {"execution-mode": False, "agent-pool": False},
        }
        return wid

    def doc(self, wid: str) -> dict[str, Any]:
        w = self.workspaces[wid]
        attrs = {k: v for k, v in w.items() if k not in ("org", "tags")}
        attrs["tag-names"] = sorted(w["tags"])
        return {
            "data": {
                "id": wid,
                "type": "workspaces",
                "attributes": attrs,
                "relationships": {
                    "organization": {"data": {"id": w["org"], "type": "organizations"}}
                },
            }
        }


def _handler(fake: FakeTfe):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, status: int, doc: dict | None = None) -> None:
            body = json.dumps(doc).encode() if doc is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, title: str) -> None:
            self._send(status, {"errors": [{"status": str(status), "title": title}]})

        def _body(self) -> dict:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode() if n else ""
            fake.requests.append((self.command, self.path, raw))
            return json.loads(raw) if raw else {}

        def _route(self) -> None:
            body = self._body()
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._error(401, "unauthorized")
            path = self.path.split("?", 1)[0]
            m = re.fullmatch(r"/api/v2/organizations/([^/]+)/workspaces(?:/([^/]+))?", path)
            if m:
                org, name = m.groups()
                if self.command == "GET" and name:
                    for wid, w in fake.workspaces.items():
                        if w["org"] == org and w["name"] == name:
                            return self._send(200, fake.doc(wid))
                    return self._error(404, "not found")
                if self.command == "POST" and not name:
                    data = body.get("data") or {}
                    attrs = data.get("attributes") or {}
                    if data.get("type") != "workspaces" or not attrs.get("name"):
                        return self._error(422, "invalid workspace document")
                    if any(w["name"] == attrs["name"] for w in fake.workspaces.values()):
                        return self._error(422, "Name has already been taken")
                    wid = fake.add(attrs["name"], mode=attrs.get("execution-mode", "remote"))
                    fake.workspaces[wid]["description"] = attrs.get("description", "")
                    fake.workspaces[wid]["setting-overwrites"].update(
                        attrs.get("setting-overwrites") or {}
                    )
                    return self._send(201, fake.doc(wid))
            m = re.fullmatch(r"/api/v2/workspaces/([^/]+)(/.*)?", path)
            if not m:
                return self._error(404, "no route")
            wid, rest = m.group(1), m.group(2) or ""
            if wid not in fake.workspaces:
                return self._error(404, "not found")
            w = fake.workspaces[wid]
            if rest == "" and self.command == "GET":
                return self._send(200, fake.doc(wid))
            if rest == "" and self.command == "PATCH":
                attrs = (body.get("data") or {}).get("attributes") or {}
                if (body.get("data") or {}).get("type") != "workspaces":
                    return self._error(422, "invalid workspace document")
                for k in ("name", "execution-mode", "description"):
                    if k in attrs:
                        w[k] = attrs[k]
                w["setting-overwrites"].update(attrs.get("setting-overwrites") or {})
                return self._send(200, fake.doc(wid))
            if rest == "/actions/safe-delete" and self.command == "POST":
                if w["resource-count"]:
                    return self._error(409, "workspace still manages resources")
                del fake.workspaces[wid]
                return self._send(204)
            if rest == "/relationships/tags":
                if self.command == "GET":
                    data = [
                        {"id": f"tag-{t}", "type": "tags", "attributes": {"name": t}}
                        for t in sorted(w["tags"])
                    ]
                    meta = {
                        "pagination": {
                            "current-page": 1,
                            "next-page": None,
                            "total-pages": 1,
                            "total-count": len(data),
                        }
                    }
                    return self._send(200, {"data": data, "meta": meta})
                names = [d["attributes"]["name"] for d in body.get("data") or []]
                if not names:
                    return self._error(422, "no tags")
                if self.command == "POST":
                    w["tags"].update(names)
                elif self.command == "DELETE":
                    w["tags"].difference_update(names)
                return self._send(204)
            return self._error(404, "no route")

        do_GET = do_POST = do_PATCH = do_DELETE = _route

    return Handler


@pytest.fixture
def fake(monkeypatch):
    state = FakeTfe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.address = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.delenv("TFE_TOKEN", raising=False)
    monkeypatch.setenv("TFE_MAX_RETRIES", "0")
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def provider(token: str | None = TOKEN) -> WorkspaceProvider:
    p = WorkspaceProvider()
    raw = {"mfb-analytics:tfeToken": token} if token else {}
    p.configure(ConfigureRequest(Config(raw, "mfb-analytics")))
    return p


def props(fake: FakeTfe, **over) -> dict[str, Any]:
    base = {
        "organization": ORG,
        "name": "mfb-dashboards-staging",
        "address": fake.address,
        "execution_mode": "local",
        "description": "legacy",
        "tags": ["dashboards"],
    }
    base.update(over)
    return provider().check({}, base).inputs


# ---- check / diff ------------------------------------------------------------------------------
def test_check_names_the_bad_workspace_name():
    failures = (
        WorkspaceProvider()
        .check(
            {}, {"organization": ORG, "name": "-bad name", "address": "https://app.terraform.io"}
        )
        .failures
    )
    assert [f.property for f in failures] == ["name"]


def test_check_refuses_an_unknown_execution_mode():
    assert "execution_mode" in {
        p
        for p, _ in validate(
            {"organization": ORG, "name": "w", "address": "https://x", "execution_mode": "cloud"}
        )
    }


def test_check_defaults_to_local_execution():
    inputs = (
        WorkspaceProvider()
        .check({}, {"organization": ORG, "name": "w", "address": "https://app.terraform.io"})
        .inputs
    )
    assert inputs["execution_mode"] == "local"


def test_check_refuses_uppercase_tags():
    assert "tags" in {
        p
        for p, _ in validate(
            {"organization": ORG, "name": "w", "address": "https://x", "tags": ["Dashboards"]}
        )
    }


def test_diff_replaces_on_organization_change(fake):
    old = props(fake)
    d = WorkspaceProvider().diff("ws-1", old, {**old, "organization": "Other"})
    assert d.changes and d.replaces == ["organization"]


def test_diff_updates_in_place_on_mode_change(fake):
    old = props(fake)
    d = WorkspaceProvider().diff("ws-1", old, {**old, "execution_mode": "remote"})
    assert d.changes and not d.replaces


def test_diff_ignores_tag_order(fake):
    old = props(fake, tags=["a", "dashboards"])
    assert not WorkspaceProvider().diff("ws-1", old, {**old, "tags": ["dashboards", "a"]}).changes


# ---- CRUD against the fake ---------------------------------------------------------------------
def test_create_makes_a_local_mode_workspace_with_the_legacy_tag(fake):
    res = provider().create(props(fake))
    w = fake.workspaces[res.id]
    assert (w["name"], w["execution-mode"], w["tags"]) == (
        "mfb-dashboards-staging",
        "local",
        {"dashboards"},
    )
    assert w["setting-overwrites"]["execution-mode"] is True
    assert res.outs["adopted"] is False


def test_create_adopts_an_existing_workspace_and_keeps_its_id(fake):
    wid = fake.add("mfb-dashboards-staging", mode="remote", tags={"team-data"})
    res = provider().create(props(fake))
    assert res.id == wid and res.outs["adopted"] is True
    assert fake.workspaces[wid]["execution-mode"] == "local"
    assert fake.workspaces[wid]["tags"] == {"team-data", "dashboards"}


def test_read_reports_drift_in_execution_mode(fake):
    p = props(fake)
    wid = provider().create(p).id
    fake.workspaces[wid]["execution-mode"] = "remote"
    assert provider().read(wid, p).outs["execution_mode"] == "remote"


def test_read_of_a_deleted_workspace_reports_it_gone(fake):
    p = props(fake)
    wid = provider().create(p).id
    del fake.workspaces[wid]
    assert provider().read(wid, p).id is None


def test_read_ignores_tags_the_resource_does_not_declare(fake):
    p = props(fake)
    wid = provider().create(p).id
    fake.workspaces[wid]["tags"].add("someone-elses")
    assert provider().read(wid, p).outs["tags"] == ["dashboards"]


def test_update_renames_and_swaps_declared_tags(fake):
    old = props(fake, tags=["dashboards", "old"])
    wid = provider().create(old).id
    fake.workspaces[wid]["tags"].add("manual")
    new = props(fake, name="mfb-dashboards-renamed", tags=["dashboards"])
    provider().update(wid, {**old, "workspace_id": wid}, new)
    w = fake.workspaces[wid]
    assert w["name"] == "mfb-dashboards-renamed"
    assert w["tags"] == {"dashboards", "manual"}


def test_delete_removes_an_empty_workspace(fake):
    p = props(fake)
    wid = provider().create(p).id
    provider().delete(wid, p)
    assert wid not in fake.workspaces


def test_delete_refuses_while_legacy_state_holds_resources(fake):
    p = props(fake)
    wid = provider().create(p).id
    fake.workspaces[wid]["resource-count"] = 17
    with pytest.raises(TfeConfigError, match="still manages resources"):
        provider().delete(wid, p)
    assert wid in fake.workspaces


# ---- credentials -------------------------------------------------------------------------------
def test_missing_token_is_a_clear_error(fake):
    with pytest.raises(TfeConfigError, match="tfeToken"):
        provider(token=None).create(props(fake))


def test_token_from_environment_is_accepted(fake, monkeypatch):
    monkeypatch.setenv("TFE_TOKEN", TOKEN)
    assert provider(token=None).create(props(fake)).id in fake.workspaces


def test_token_never_reaches_outputs_or_request_bodies(fake):
    p = props(fake)
    res = provider().create(p)
    provider().update(res.id, res.outs, props(fake, description="changed"))
    assert TOKEN not in json.dumps(res.outs)
    assert all(TOKEN not in body for _m, _p, body in fake.requests)


def test_pickled_provider_never_carries_the_token():
    assert TOKEN.encode() not in dill.dumps(provider())


# ---- the component under mocks -----------------------------------------------------------------
@pytest.mark.parametrize("stack", ["staging", "production"])
def test_component_declares_a_local_workspace_with_no_token_in_inputs(stack):
    r = run_program(stack, secret_values={"tfeToken": TOKEN})
    ws = r.one("pulumi-python:dynamic/tfe:Workspace") if _wired(r) else None
    if ws is None:
        pytest.fail("TerraformWorkspace is not wired into __main__.py")
    inputs = unwrap(ws.inputs)
    assert inputs["execution_mode"] == "local"
    assert TOKEN not in json.dumps(inputs)


def _wired(r) -> bool:
    return bool(r.of_type("mfb:tfe:TerraformWorkspace"))


def test_component_class_is_importable_without_side_effects():
    assert TerraformWorkspace.__name__ == "TerraformWorkspace"
