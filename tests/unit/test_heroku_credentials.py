"""HerokuCredentialProvider against a small fake of Heroku's platform + Postgres credentials API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from components.heroku.credentials import HerokuApiError, HerokuCredentialProvider

KEY = "test-api-key-0001"
ADDON = "addon-1234"


class FakeHeroku:
    """Records requests; credentials become active after `polls_to_active` GETs."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.creds: dict[str, dict] = {}
        self.polls_to_active = 2
        self.essential = False
        self.no_password = False

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, object]:
        if path == "/actions/addon-attachments/resolve" and method == "POST":
            if body != {
                "app": "cobenefits-api",
                "addon_attachment": "DATABASE",
                "addon_service": "heroku-postgresql",
            }:
                return 404, {"message": "Couldn't find that add on attachment."}
            return 200, [{"addon": {"id": ADDON, "name": "postgresql-shiny-1"}}]
        base = f"/postgres/v0/databases/{ADDON}/credentials"
        if path == base and method == "POST":
            if self.essential:
                return 422, {
                    "message": "You can't create a custom credential on Essential-tier databases."
                }
            self.creds[body["name"]] = {"polls": 0}
            return 200, {"message": "Credential created"}
        if path.startswith(base + "/"):
            name = path[len(base) + 1 :]
            cred = self.creds.get(name)
            if cred is None:
                return 404, {"message": "not found"}
            if method == "DELETE":
                del self.creds[name]
                return 200, {"message": f"The credential {name} has been destroyed"}
            cred["polls"] += 1
            active = cred["polls"] >= self.polls_to_active
            pair = {
                "user": name,
                "state": "active" if active else "provisioning",
                "password": None if self.no_password else f"pw-of-{name}",
            }
            return 200, {
                "name": name,
                "state": "active" if active else "provisioning",
                "database": "d2ng9i7crgcemt",
                "host": "db.example",
                "port": 5432,
                "credentials": [pair],
            }
        return 404, {"message": f"no route {method} {path}"}


@pytest.fixture
def fake():
    state = FakeHeroku()

    class Handler(BaseHTTPRequestHandler):
        def _do(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.requests.append((method, self.path, body, self.headers.get("Authorization")))
            status, payload = state.handle(method, self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._do("GET")

        def do_POST(self):
            self._do("POST")

        def do_DELETE(self):
            self._do("DELETE")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(fake, monkeypatch):
    monkeypatch.setenv("HEROKU_API_KEY", KEY)
    return HerokuCredentialProvider(
        platform_api=fake.url, data_api=fake.url, poll_seconds=0.01, timeout_seconds=5
    )


PROPS = {"app": "cobenefits-api", "name": "wl_tx_40_ro", "attachment": "DATABASE"}


def test_create_returns_the_active_credentials_password(provider, fake):
    result = provider.create(dict(PROPS))
    assert result.outs["username"] == "wl_tx_40_ro"
    assert result.outs["password"] == "pw-of-wl_tx_40_ro"
    assert result.id == f"{ADDON}/wl_tx_40_ro"


def test_create_posts_the_credential_name_to_the_databases_credentials(provider, fake):
    provider.create(dict(PROPS))
    posts = [(p, b) for m, p, b, _ in fake.requests if m == "POST" and "credentials" in p]
    assert posts == [(f"/postgres/v0/databases/{ADDON}/credentials", {"name": "wl_tx_40_ro"})]


def test_create_waits_until_the_credential_is_active(provider, fake):
    fake.polls_to_active = 4
    provider.create(dict(PROPS))
    gets = [p for m, p, _, _ in fake.requests if m == "GET"]
    assert len(gets) == 5  # one existence probe + four polls


def test_create_adopts_an_existing_credential_without_posting(provider, fake):
    fake.creds["wl_tx_40_ro"] = {"polls": 5}
    provider.create(dict(PROPS))
    assert not [p for m, p, _, _ in fake.requests if m == "POST" and "credentials" in p]


def test_requests_carry_the_api_key_as_bearer_token(provider, fake):
    provider.create(dict(PROPS))
    assert {auth for *_, auth in fake.requests} == {f"Bearer {KEY}"}


def test_essential_tier_refusal_explains_the_fix(provider, fake):
    fake.essential = True
    with pytest.raises(HerokuApiError, match=r"Standard or higher.*shared"):
        provider.create(dict(PROPS))


def test_active_credential_without_password_fails_closed(provider, fake):
    fake.no_password = True
    with pytest.raises(HerokuApiError, match=r"wl_tx_40_ro.*never falls back"):
        provider.create(dict(PROPS))


def test_provisioning_timeout_names_the_credential(fake, monkeypatch):
    monkeypatch.setenv("HEROKU_API_KEY", KEY)
    fake.polls_to_active = 10_000
    slow = HerokuCredentialProvider(
        platform_api=fake.url, data_api=fake.url, poll_seconds=0.01, timeout_seconds=0.1
    )
    with pytest.raises(HerokuApiError, match="'wl_tx_40_ro' did not become active"):
        slow.create(dict(PROPS))


def test_missing_api_key_says_where_to_set_it(fake, monkeypatch):
    monkeypatch.delenv("HEROKU_API_KEY", raising=False)
    bare = HerokuCredentialProvider(platform_api=fake.url, data_api=fake.url)
    with pytest.raises(HerokuApiError, match="heroku:apiKey"):
        bare.create(dict(PROPS))


def test_configure_reads_the_heroku_api_key_from_stack_config(fake, monkeypatch):
    monkeypatch.delenv("HEROKU_API_KEY", raising=False)
    p = HerokuCredentialProvider(platform_api=fake.url, data_api=fake.url, poll_seconds=0.01)
    p.configure(ConfigureRequest(Config({"heroku:apiKey": "from-config"}, "mfb-analytics")))
    p.create(dict(PROPS))
    assert {auth for *_, auth in fake.requests} == {"Bearer from-config"}


def test_read_of_a_deleted_credential_reports_it_gone(provider, fake):
    assert provider.read(f"{ADDON}/wl_tx_40_ro", dict(PROPS)).id is None


def test_read_returns_the_current_password(provider, fake):
    fake.creds["wl_tx_40_ro"] = {"polls": 5}
    result = provider.read(f"{ADDON}/wl_tx_40_ro", dict(PROPS))
    assert result.outs["password"] == "pw-of-wl_tx_40_ro"


def test_delete_destroys_the_credential(provider, fake):
    provider.create(dict(PROPS))
    provider.delete(f"{ADDON}/wl_tx_40_ro", dict(PROPS))
    assert "wl_tx_40_ro" not in fake.creds


def test_delete_of_a_missing_credential_succeeds(provider, fake):
    provider.delete(f"{ADDON}/wl_tx_40_ro", dict(PROPS))
    assert fake.requests[-1][0] == "DELETE"


def test_check_rejects_a_name_outside_the_convention(provider):
    result = provider.check({}, {**PROPS, "name": "tx_reader"})
    assert [f.property for f in result.failures] == ["name"]


def test_renaming_replaces_the_credential(provider):
    diff = provider.diff("x", dict(PROPS), {**PROPS, "name": "wl_tx2_40_ro"})
    assert diff.replaces == ["name"] and diff.delete_before_replace


def test_unchanged_inputs_have_no_diff(provider):
    assert provider.diff("x", dict(PROPS), dict(PROPS)).changes is False


def test_serialized_provider_holds_no_api_key(fake, monkeypatch):
    from pulumi.dynamic.dynamic import serialize_provider

    monkeypatch.setenv("HEROKU_API_KEY", KEY)
    p = HerokuCredentialProvider(platform_api=fake.url, data_api=fake.url)
    assert KEY not in serialize_provider(p) and p._api_key is None
