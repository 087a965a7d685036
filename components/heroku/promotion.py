"""Heroku pipeline promotion as a Pulumi dynamic resource (pulumiverse-heroku has none).

`PipelinePromotion` copies the staging app's current release to the production app through the
Platform API (`POST /pipeline-promotions`, then `GET /pipeline-promotions/{id}/promotion-targets`
until the target succeeds or fails). Before promoting it checks that staging's current release
runs the slug of the build the staging stack made (a later config-var or add-on release keeps
that slug and is fine) and that this build was made from the pinned Metabase version (the version
and image digest make up the Build API `source_blob.version` the program sets on staging builds),
so production never receives an image nobody vetted.

A promotion is an event: `update` promotes again (when staging's release or the version
changed), `delete` leaves the target's release in place, `read` refreshes the recorded outcome.

Credentials: the Heroku API key comes from stack config `heroku:apiKey` (secret; read in
`configure`, after unpickling) or from the environment variable `HEROKU_API_KEY`. It is never an
input, so it never lands in state. `HEROKU_API_URL` overrides the API endpoint (tests).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
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
from components.heroku.api import PLATFORM_API, HerokuApiError, HerokuClient, api_key

DEFAULT_API_URL = PLATFORM_API
SOURCE_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+(\+[0-9a-f]{6,64})?$")

INPUTS = (
    "pipeline_id",
    "source_app_id",
    "target_app_id",
    "expected_source_release_id",
    "source_version",
)
REPLACE_ON = ("pipeline_id", "target_app_id")
OUTPUTS = ("promotion_id", "release_id", "source_release_id", "status")
BUILDS = 50  # how many of staging's newest builds are searched for the running one


# --------------------------------------------------------------------------------------------
# The provider
# --------------------------------------------------------------------------------------------
def _is_unknown(value: Any) -> bool:
    return is_unknown(value)


def _slug_id(obj: Mapping[str, Any]) -> str | None:
    return (obj.get("slug") or {}).get("id") or None


def _release_id(build: Mapping[str, Any]) -> str | None:
    return (build.get("release") or {}).get("id") or None


def _clean(props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in INPUTS:
        value = props.get(key)
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = value
    return out


class PipelinePromotionProvider(ResourceProvider):
    """Promotes staging's current release to the target app; see the module docstring."""

    def __init__(
        self,
        api_url: str | None = None,
        poll_interval_seconds: float = 5.0,
        timeout_seconds: float = 900.0,
        backoff_seconds: float = 1.0,
    ):
        super().__init__()
        self.api_url = api_url
        self.poll_interval_seconds = poll_interval_seconds
        self.timeout_seconds = timeout_seconds
        self.backoff_seconds = backoff_seconds
        self._api_key: str | None = None

    # ---- credentials ---------------------------------------------------------------------
    def configure(self, req: ConfigureRequest) -> None:
        value = req.config.get("heroku:apiKey")
        self._api_key = value or None

    def _client(self) -> HerokuClient:
        key = api_key(
            getattr(self, "_api_key", None),
            "; `heroku authorizations:create` makes a long-lived one",
        )
        url = self.api_url or os.environ.get("HEROKU_API_URL") or DEFAULT_API_URL
        return HerokuClient(key, url, backoff_seconds=self.backoff_seconds)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_api_key"] = None  # never pickle a credential into state
        return state

    # ---- engine methods ------------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        props = _clean(news)
        failures: list[CheckFailure] = []
        for key in ("pipeline_id", "target_app_id", "source_version"):
            if props[key] is None:
                failures.append(CheckFailure(key, f"{key} is required"))
        version = props["source_version"]
        if version and not _is_unknown(version) and not SOURCE_VERSION_RE.fullmatch(version):
            failures.append(
                CheckFailure(
                    "source_version",
                    f"'{version}' is not '<Metabase tag vX.Y.Z>[+<image digest>]', the build "
                    "source version staging must have been built from",
                )
            )
        src, dst = props["source_app_id"], props["target_app_id"]
        if src and dst and not _is_unknown(src) and src == dst:
            failures.append(
                CheckFailure(
                    "target_app_id", "the target app is the source app; promote to another"
                )
            )
        return CheckResult({**news, **props}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old, new = _clean(olds), _clean(news)
        changed = [k for k in INPUTS if old[k] != new[k]]
        replaces = [k for k in changed if k in REPLACE_ON]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in REPLACE_ON if k not in changed],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._promote(_clean(props))
        return CreateResult(outs["promotion_id"], {**props, **outs})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, **self._promote(_clean(news))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client()
        try:
            promotion = client.request("GET", f"/pipeline-promotions/{id_}")
        except HerokuApiError as e:
            if e.status == 404:  # record gone: nothing to refresh, the target keeps its release
                return ReadResult(id_, dict(props))
            raise
        target = props.get("target_app_id")
        targets = client.request("GET", f"/pipeline-promotions/{id_}/promotion-targets") or []
        mine = next((t for t in targets if (t.get("app") or {}).get("id") == target), None)
        outs = dict(props)
        outs["promotion_id"] = id_
        outs["source_release_id"] = ((promotion.get("source") or {}).get("release") or {}).get("id")
        if mine is not None:
            outs["status"] = mine.get("status")
            outs["release_id"] = (mine.get("release") or {}).get("id")
        return ReadResult(id_, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """A promotion cannot be undone; the target app keeps the promoted release."""

    # ---- the promotion -------------------------------------------------------------------
    def _promote(self, props: dict[str, Any]) -> dict[str, Any]:
        client = self._client()
        pipeline = props["pipeline_id"]
        target = props["target_app_id"]
        source = props["source_app_id"] or self._staging_app(client, pipeline)
        current = self._current_release(client, source)
        build = self._running_build(client, source, current, props["expected_source_release_id"])
        self._check_version(current, build, props["source_version"])
        try:
            promotion = client.request(
                "POST",
                "/pipeline-promotions",
                {
                    "pipeline": {"id": pipeline},
                    "source": {"app": {"id": source}},
                    "targets": [{"app": {"id": target}}],
                },
            )
        except HerokuApiError as e:
            if "not supported" in str(e).lower():
                raise HerokuApiError(
                    f"{e}. Heroku does not promote this app's releases (container-stack apps "
                    "cannot be promoted: heroku/roadmap#222); deploy production with "
                    "image_strategy='rebuild' instead",
                    e.status,
                ) from None
            raise
        target_result = self._wait_for_target(client, promotion["id"], target)
        promoted = ((promotion.get("source") or {}).get("release") or {}).get("id")
        return {
            "promotion_id": promotion["id"],
            "release_id": (target_result.get("release") or {}).get("id"),
            "source_release_id": promoted or current["id"],
            "status": target_result.get("status"),
        }

    def _staging_app(self, client: HerokuClient, pipeline: str) -> str:
        couplings = client.request("GET", f"/pipelines/{pipeline}/pipeline-couplings") or []
        staging = [c for c in couplings if c.get("stage") == "staging"]
        if len(staging) != 1:
            raise HerokuApiError(
                f"pipeline {pipeline} has {len(staging)} app(s) in the staging stage; exactly one "
                "is needed to promote from (check `heroku pipelines:info`)"
            )
        return staging[0]["app"]["id"]

    def _current_release(self, client: HerokuClient, app: str) -> dict[str, Any]:
        # heroku-go's schema.json declares no ranges for Release List; `version` is what the
        # Heroku CLI itself sends there (heroku/cli: `Range: 'version ..; max=1, order=desc'`)
        releases = client.request(
            "GET", f"/apps/{app}/releases", range_header="version ..; order=desc, max=10"
        )
        current = next((r for r in releases or [] if r.get("current")), None)
        if current is None:
            raise HerokuApiError(
                f"staging app {app} has no current release yet; deploy staging first"
            )
        return current

    def _builds(self, client: HerokuClient, app: str) -> list[dict[str, Any]]:
        """The app's newest builds, newest first.

        Build List accepts a Range on `id` or `started_at` only (heroku/heroku-go
        v6/schema.json, definitions.build.links "List": "ranges": ["id", "started_at"]); any
        other field is answered 416 requested_range_not_satisfiable (heroku/cli#1674).
        """
        builds = client.request(
            "GET", f"/apps/{app}/builds", range_header=f"started_at ..; order=desc, max={BUILDS}"
        )
        return [b for b in builds or [] if b.get("status") == "succeeded"]

    def _running_build(
        self,
        client: HerokuClient,
        app: str,
        current: Mapping[str, Any],
        expected_release: str | None,
    ) -> dict[str, Any]:
        """The Build API build whose slug staging's current release runs.

        A config-var or add-on change makes a new release that keeps the running slug
        (release `slug.id`, schema definitions.release.properties.slug), so staging's current
        release need not be the build's own: it must run the build's slug (build `slug.id`).
        When `expected_release` (the release the staging stack's Build recorded) is given, the
        build is the one that made it, and staging must still run that build's slug.

        Container-stack releases carry no slug (`slug: null`, heroku/heroku-releases-retry#11)
        and nothing else in the schema names the image a release runs, so there only the
        build's own release counts as running it.
        """
        builds = self._builds(client, app)
        where = f"staging release v{current.get('version')} ({current['id']})"
        slug = _slug_id(current)
        if expected_release:
            build = next((b for b in builds if _release_id(b) == expected_release), None)
            if build is None:
                raise HerokuApiError(
                    f"release {expected_release}, which the staging stack exported, was not made "
                    f"by any of staging's last {BUILDS} successful builds; run `pulumi up` on the "
                    "staging stack and try again"
                )
        elif slug:
            build = next((b for b in builds if _slug_id(b) == slug), None)
        else:
            build = next((b for b in builds if _release_id(b) == current["id"]), None)
        if build is None:
            raise HerokuApiError(
                f"{where} was not made by a Build API build (none of staging's last {BUILDS} "
                "successful builds made or ran it); deploy staging with `pulumi up -s staging`"
            )
        if _release_id(build) == current["id"]:
            return build
        if slug and _slug_id(build) == slug:
            return build  # a config-var / add-on release on top of the build: same slug
        if not slug:
            raise HerokuApiError(
                f"{where} is not build {build['id']}'s release {_release_id(build)}, and on the "
                "container stack Heroku's API does not say which image a later release runs "
                "(its slug is null). Deploy staging again (`pulumi up -s staging`) so its "
                "current release is the build's own, then promote"
            )
        raise HerokuApiError(
            f"{where} runs slug {slug}, not slug {_slug_id(build)} of build {build['id']} "
            f"(release {_release_id(build)}, which the staging stack exported); staging was "
            "deployed or rolled back outside this stack. Run `pulumi up` on the staging stack "
            "(or wait for its deploy) and try again"
        )

    def _check_version(
        self, release: Mapping[str, Any], build: Mapping[str, Any], version: str
    ) -> None:
        built = (build.get("source_blob") or {}).get("version") or ""
        matches = built == version if "+" in version else built.split("+", 1)[0] == version
        if not matches:
            raise HerokuApiError(
                f"staging release v{release.get('version')} ({release['id']}) runs build "
                f"{build['id']}, which was built from '{built}', but production expects "
                f"'{version}' (Metabase tag + image digest). Deploy the same version and image "
                "files to staging first (`pulumi up -s staging`), then promote"
            )

    def _wait_for_target(
        self, client: HerokuClient, promotion_id: str, target: str
    ) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            targets = client.request(
                "GET", f"/pipeline-promotions/{promotion_id}/promotion-targets"
            )
            mine = next(
                (t for t in targets or [] if (t.get("app") or {}).get("id") == target), None
            )
            status = (mine or {}).get("status")
            if status == "succeeded":
                return mine  # type: ignore[return-value]
            if status == "failed":
                raise HerokuApiError(
                    f"promotion {promotion_id} to app {target} failed: "
                    f"{mine.get('error_message') or 'no reason given'}"  # type: ignore[union-attr]
                )
            if time.monotonic() >= deadline:
                raise HerokuApiError(
                    f"promotion {promotion_id} to app {target} still '{status or 'unlisted'}' "
                    f"after {self.timeout_seconds:.0f} s; check `heroku releases -a <app>`"
                )
            time.sleep(self.poll_interval_seconds)


class PipelinePromotion(Resource, module="heroku", name="PipelinePromotion"):
    """Promote staging's current (vetted) release to `target_app_id` through `pipeline_id`."""

    promotion_id: pulumi.Output[str]
    release_id: pulumi.Output[str]
    source_release_id: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        pipeline_id: pulumi.Input[str],
        target_app_id: pulumi.Input[str],
        source_version: pulumi.Input[str],
        source_app_id: pulumi.Input[str] | None = None,
        expected_source_release_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        props: dict[str, Any] = {
            "pipeline_id": pipeline_id,
            "source_app_id": source_app_id,
            "target_app_id": target_app_id,
            "expected_source_release_id": expected_source_release_id,
            "source_version": source_version,
            **{k: None for k in OUTPUTS},
        }
        super().__init__(PipelinePromotionProvider(), name, props, opts)
