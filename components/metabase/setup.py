"""MetabaseSetup: first-run setup with the admin account, idempotent once set up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from .base import (
    MetabaseConnection,
    MetabaseProvider,
    check_type,
    connection_input,
    progress,
    secret_opts,
)
from .client import MetabaseClient, MetabaseConfigError, MetabaseError

DEFAULT_HEALTH_TIMEOUT = 900.0  # first deploy: build, release, formation, first boot
TRACKING_SETTING = "anon-tracking-enabled"


class SetupProvider(MetabaseProvider):
    managed = ("site_name", "first_name", "last_name")

    def defaults(self) -> dict[str, Any]:
        return {
            "site_name": "MyFriendBen Analytics",
            "first_name": "MFB",
            "last_name": "Admin",
            "health_timeout_seconds": DEFAULT_HEALTH_TIMEOUT,
            "health_interval_seconds": 5.0,
        }

    def validate(self, news: Mapping[str, Any]) -> list[tuple[str, str]]:
        failures = []
        for name in ("site_name", "first_name", "last_name"):
            failures += check_type(news, name, str, "MetabaseSetup", "a string")
        failures += check_type(
            news, "health_timeout_seconds", (int, float), "MetabaseSetup", "a number of seconds"
        )
        conn = news.get("connection") or {}
        if isinstance(conn, Mapping) and conn.get("api_key"):
            failures.append(
                ("connection", "MetabaseSetup needs the admin email and password, not an api_key")
            )
        return failures

    def _ensure(self, props: Mapping[str, Any]) -> dict[str, Any]:
        creds = self.credentials(props)
        client = MetabaseClient(creds)  # setup may change who can log in: fresh client
        client.wait_healthy(
            timeout=float(props.get("health_timeout_seconds") or DEFAULT_HEALTH_TIMEOUT),
            interval=float(props.get("health_interval_seconds") or 5.0),
            progress=progress,
        )
        session_props = client.session_properties()
        if not session_props.get("has-user-setup"):
            token = session_props.get("setup-token")
            if not token:
                raise MetabaseConfigError(
                    "Metabase has no admin user yet but published no setup-token in "
                    "/api/session/properties; finish the setup wizard once by hand"
                )
            progress(f"completing first-run setup of {creds.base_url} as {creds.email}")
            try:
                body = client._post_retrying(
                    "setup",
                    {
                        "token": token,
                        "user": {
                            "email": creds.email,
                            "password": creds.password,
                            "first_name": props.get("first_name"),
                            "last_name": props.get("last_name"),
                            "site_name": props.get("site_name"),
                        },
                        # 0.56 setup/api.clj reads only site_name and site_locale from prefs
                        # (and switches tracking ON): tracking is turned off below
                        "prefs": {"site_name": props.get("site_name")},
                    },
                    auth=False,
                )
            except MetabaseError as exc:
                if exc.status != 403:  # 403: someone finished setup meanwhile → verify below
                    raise MetabaseConfigError(f"Metabase setup failed: {exc.message}") from exc
            else:
                if isinstance(body, dict) and body.get("id"):
                    client.adopt_session(str(body["id"]))
        user = client.get("user/current")  # verifies the login (raises a clear error if wrong)
        if not user.get("is_superuser"):
            raise MetabaseConfigError(
                f"{creds.email} can log in to Metabase but is not an administrator"
            )
        self._tracking_off(client)
        return {
            "site_name": props.get("site_name"),
            "first_name": props.get("first_name"),
            "last_name": props.get("last_name"),
            "admin_user_id": user.get("id"),
            "url": creds.base_url,
        }

    @staticmethod
    def _tracking_off(client: MetabaseClient) -> None:
        """Anonymous usage tracking off (``anon-tracking-enabled``; PUT only when it is on)."""
        if client.get(f"setting/{TRACKING_SETTING}") is not False:
            client.put(f"setting/{TRACKING_SETTING}", {"value": False})

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {**props, **self._ensure(props)}
        return CreateResult(id_="metabase-setup", outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, **self._ensure(news)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=dict(props))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: Metabase has no way back to the first-run state."""


@dataclass
class MetabaseSetupArgs:
    connection: MetabaseConnection | None = None
    site_name: pulumi.Input[str] | None = None
    first_name: pulumi.Input[str] | None = None
    last_name: pulumi.Input[str] | None = None
    health_timeout_seconds: pulumi.Input[float] | None = None
    health_interval_seconds: pulumi.Input[float] | None = None


class MetabaseSetup(Resource, module="metabase", name="MetabaseSetup"):
    """First-run setup (or verification of the admin login). Other resources depend on it."""

    admin_user_id: pulumi.Output[int]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: MetabaseSetupArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = args or MetabaseSetupArgs()
        props = {
            "connection": connection_input(args.connection),
            "site_name": args.site_name,
            "first_name": args.first_name,
            "last_name": args.last_name,
            "health_timeout_seconds": args.health_timeout_seconds,
            "health_interval_seconds": args.health_interval_seconds,
            "admin_user_id": None,
            "url": None,
        }
        provider = SetupProvider()
        super().__init__(provider, name, props, secret_opts(opts, provider.secret_outputs))
