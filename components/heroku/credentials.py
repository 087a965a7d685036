"""Dynamic resource: a Heroku Postgres credential (an extra Postgres role Heroku manages).

Heroku Postgres Standard tier and up does not let anyone `CREATE ROLE`; extra roles are
"credentials" created through Heroku's Postgres API (what `heroku pg:credentials:create -a <app>
--name <name>` calls):

- resolve the app's database add-on:  POST {platform}/actions/addon-attachments/resolve
  {"app", "addon_attachment": "DATABASE", "addon_service": "heroku-postgresql"} -> [{addon: {id}}]
- create:  POST   {data}/postgres/v0/databases/{addon_id}/credentials   {"name": <name>}
- read:    GET    {data}/postgres/v0/databases/{addon_id}/credentials/{name}
           -> {"name", "state", "database", "host", "port",
               "credentials": [{"user", "password", "state"}]}  (provisioning is asynchronous:
               poll until the credential and one of its user/password pairs are "active")
- delete:  DELETE {data}/postgres/v0/databases/{addon_id}/credentials/{name}

Credentials start with no privileges; AnalyticsDatabase grants them with SQL. The API key comes
from the `heroku:apiKey` stack config (the same key the Heroku provider uses, via `configure`)
or the HEROKU_API_KEY environment variable; it is never an input, so never in state. The
password output is secret. Essential-tier databases refuse extra credentials: the error says to
use a Standard+ plan or the staging-only `shared` mode.
"""

from __future__ import annotations

import time
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
)

from components.heroku.api import DATA_API, PLATFORM_API, HerokuApiError, HerokuClient, api_key
from components.postgres.access import TENANT_ROLE_RE

IDENTITY_KEYS = ("app", "name", "attachment")


class HerokuCredentialProvider(ResourceProvider):
    """Creates/reads/deletes one Heroku Postgres credential. Holds no client or key when
    pickled; `configure` (run in the provider process) may set the API key from config."""

    def __init__(
        self,
        platform_api: str = PLATFORM_API,
        data_api: str = DATA_API,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 600.0,
        backoff_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.platform_api = platform_api.rstrip("/")
        self.data_api = data_api.rstrip("/")
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.backoff_seconds = backoff_seconds
        self._api_key: str | None = None

    # ---- credentials -----------------------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        key = req.config.get("heroku:apiKey")
        if key:
            self._api_key = str(key)

    def _request(
        self, method: str, url: str, body: dict[str, Any] | None = None, ok_missing: bool = False
    ) -> Any:
        base = self.data_api if url.startswith(self.data_api) else self.platform_api
        client = HerokuClient(api_key(self._api_key), base, backoff_seconds=self.backoff_seconds)
        try:
            return client.request(method, url[len(base) :], body, missing_ok=ok_missing)
        except HerokuApiError as e:
            if "essential" not in str(e).lower():
                raise
            raise HerokuApiError(
                f"{e} (Essential-tier databases have no extra credentials: upgrade the add-on "
                "to Standard or higher, or use databaseTenantCredentialMode=shared on staging "
                "only)",
                e.status,
            ) from None

    # ---- API steps -------------------------------------------------------------------------
    def resolve_addon(self, app: str, attachment: str) -> str:
        found = self._request(
            "POST",
            f"{self.platform_api}/actions/addon-attachments/resolve",
            {"app": app, "addon_attachment": attachment, "addon_service": "heroku-postgresql"},
        )
        if not found:
            raise HerokuApiError(f"app '{app}' has no heroku-postgresql attachment '{attachment}'")
        return str(found[0]["addon"]["id"])

    def _cred_url(self, addon_id: str, name: str | None = None) -> str:
        base = f"{self.data_api}/postgres/v0/databases/{addon_id}/credentials"
        return f"{base}/{name}" if name else base

    def fetch(self, addon_id: str, name: str) -> dict[str, Any] | None:
        return self._request("GET", self._cred_url(addon_id, name), ok_missing=True)

    def wait_active(self, addon_id: str, name: str) -> dict[str, str]:
        deadline = time.monotonic() + self.timeout_seconds
        state = "missing"
        while True:
            cred = self.fetch(addon_id, name)
            if cred is not None:
                state = str(cred.get("state"))
                pairs = [c for c in cred.get("credentials") or [] if c.get("state") == "active"]
                if state == "active" and pairs:
                    pair = pairs[0]
                    if not pair.get("user") or not pair.get("password"):
                        raise HerokuApiError(
                            f"credential '{name}' is active but has no user/password; refusing "
                            "to continue (a tenant never falls back to another credential)"
                        )
                    return {"username": str(pair["user"]), "password": str(pair["password"])}
            if time.monotonic() >= deadline:
                raise HerokuApiError(
                    f"credential '{name}' did not become active within "
                    f"{self.timeout_seconds:.0f} s (last state: {state})"
                )
            time.sleep(self.poll_seconds)

    # ---- engine methods --------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        name = news.get("name")
        if not isinstance(name, str) or not TENANT_ROLE_RE.fullmatch(name):
            failures.append(
                CheckFailure(
                    "name", f"'{name}' is not a tenant credential name (wl_<slug>_<id>_ro)"
                )
            )
        for key in ("app", "attachment"):
            v = news.get(key)
            if not isinstance(v, str) or not v.strip():
                failures.append(CheckFailure(key, "must be a non-empty string"))
        return CheckResult(dict(news), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in IDENTITY_KEYS if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(replaces),
            replaces=replaces,
            stables=[k for k in IDENTITY_KEYS if k not in replaces],
            delete_before_replace=True,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        addon_id = self.resolve_addon(props["app"], props["attachment"])
        existing = self.fetch(addon_id, props["name"])
        if existing is None:
            self._request("POST", self._cred_url(addon_id), {"name": props["name"]})
        secret = self.wait_active(addon_id, props["name"])
        if secret["username"] != props["name"]:
            raise HerokuApiError(
                f"credential '{props['name']}' logs in as '{secret['username']}', not as its "
                "name: the tenant role convention (and its RLS policy) would not match"
            )
        outs = {**props, "addon_id": addon_id, **secret}
        return CreateResult(f"{addon_id}/{props['name']}", outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        addon_id, _, name = id_.partition("/")
        cred = self.fetch(addon_id, name)
        if cred is None:
            return ReadResult(None, {})
        pairs = [c for c in cred.get("credentials") or [] if c.get("state") == "active"]
        outs = {**props, "addon_id": addon_id, "name": name}
        if pairs:
            outs.update(username=str(pairs[0].get("user")), password=str(pairs[0].get("password")))
        return ReadResult(id_, outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        addon_id, _, name = id_.partition("/")
        self._request("DELETE", self._cred_url(addon_id, name), ok_missing=True)


class HerokuPostgresCredential(Resource, module="heroku", name="PostgresCredential"):
    """Credential `name` on the DATABASE of Heroku app `app`; `password` is secret."""

    username: pulumi.Output[str]
    password: pulumi.Output[str]
    addon_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        app: str,
        name: str,
        attachment: str = "DATABASE",
        provider: HerokuCredentialProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "app": app,
            "name": name,
            "attachment": attachment,
            "username": None,
            "password": None,
            "addon_id": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["password"])
        )
        super().__init__(provider or HerokuCredentialProvider(), resource_name, props, opts)
