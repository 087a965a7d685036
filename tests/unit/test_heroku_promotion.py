"""PipelinePromotionProvider against a small fake Heroku Platform API on 127.0.0.1."""

from __future__ import annotations

import json
import pickle
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from components.heroku.promotion import HerokuApiError, PipelinePromotionProvider

KEY = "test-api-key"
PIPE, STAGING, PROD = "pipe-1", "app-staging", "app-prod"
SOURCE_VERSION = "v0.56.19+abcdef012345"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


# Heroku's list endpoints page with a Range header `<field> [start]..[end][; max=N, order=asc|desc]`
# (default `id ..; max=200, order=asc`); a partial page answers 206 with Next-Range. Which fields
# an endpoint orders on: Build List `ranges: ["id", "started_at"]` (heroku/heroku-go
# v6/schema.json); Release List declares none there, `id`/`version` are what its Accept-Ranges
# names and what the Heroku CLI sends. Another field is refused with 416 (heroku/cli#1674), a
# malformed header with 400 (martyzz1/heroku3.py#12).
LIST_RANGES = {"builds": ("id", "started_at"), "releases": ("id", "version")}
# a build object has no `started_at` property (only `created_at`): the fake orders by when it
# was created, which is when it started
SORT_KEY = {"started_at": "created_at"}
RANGE_RE = re.compile(r"^\s*(\w+)\s+([^.\s]*)\.\.([^;\s]*)\s*(?:;\s*(.*))?$")


BAD_RANGE = {
    "id": "bad_request",
    "message": "Invalid `Range` header. Please use format like `id ..; max=10, order=desc`.",
}
RANGE_NOT_ALLOWED = {
    "id": "requested_range_not_satisfiable",
    "message": "Requested range order is not allowed, please try `id` or another specified in "
    "`Accept-Ranges`.",
}


def _page(items: list[dict], header: str | None, fields: tuple[str, ...]) -> tuple[int, Any, dict]:
    m = RANGE_RE.match(header or "id ..")
    if not m:
        return 400, BAD_RANGE, {}
    options = dict(p.strip().partition("=")[::2] for p in (m.group(4) or "").split(",") if p)
    if set(options) - {"max", "order"} or options.get("order", "asc") not in ("asc", "desc"):
        return 400, BAD_RANGE, {}
    field = m.group(1)
    if field not in fields:
        return 416, RANGE_NOT_ALLOWED, {}
    key = SORT_KEY.get(field, field)
    ordered = sorted(items, key=lambda x: x[key], reverse=options.get("order") == "desc")
    size = min(int(options.get("max", 200)), 1000)
    headers = {"Accept-Ranges": ", ".join(fields)}
    if len(ordered) > size:
        headers["Next-Range"] = f"]{ordered[size - 1][key]}..; max={size}"
        return 206, ordered[:size], headers
    return 200, ordered, headers


class FakeHeroku:
    """Just enough of the Platform API for promotions; records every request.

    Shapes follow heroku/heroku-go v6/schema.json: a release has `slug: {id}` ("slug running in
    this release"; null on the container stack), a build has `status`, `created_at`,
    `release: {id}`, `slug: {id}` and `source_blob.version`. Every object it answers with is
    checked against the schema's property names (tests/unit/heroku_platform_schema.json).
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.couplings = [
            {"stage": "staging", "app": {"id": STAGING}},
            {"stage": "production", "app": {"id": PROD}},
        ]
        self.releases: dict[str, list[dict]] = {STAGING: []}
        self.builds: dict[str, list[dict]] = {STAGING: []}
        self.build(STAGING, 7, SOURCE_VERSION)
        self.pending_polls = 0  # target answers "pending" this many times first
        self.target_outcome = ("succeeded", None)
        self.fail_next: dict[tuple[str, str], list[int]] = {}  # (method, path) -> statuses
        self.post_error: tuple[int, dict] | None = None
        self.promotions: dict[str, dict] = {}
        self.targets: dict[str, list[str]] = {}  # promotion id -> target app ids
        self.answers: list[tuple[str, Any]] = []  # (route kind, 2xx body) for the schema check

    # ---- what happens on the app ---------------------------------------------------------
    def release(self, app: str, slug: str | None, description: str) -> dict:
        """A new release on `app` running `slug`; it becomes the current one."""
        releases = self.releases.setdefault(app, [])
        for r in releases:
            r["current"] = False
        version = len(releases) + 1
        rel = {
            "id": f"rel-{version}",
            "version": version,
            "current": True,
            "status": "succeeded",
            "description": description,
            "slug": {"id": slug} if slug else None,
        }
        releases.append(rel)
        return rel

    def build(self, app: str, n: int, version: str, *, container: bool = False) -> dict:
        """A successful Build API build whose release becomes current (after a few others)."""
        while len(self.releases.setdefault(app, [])) < n - 1:
            self.release(app, None, "Set MB_SITE_URL config vars")
        slug = None if container else f"slug-{n}"
        rel = self.release(app, slug, f"Deploy {version}")
        b = {
            "id": f"b-{n}",
            "status": "succeeded",
            "created_at": (T0 + timedelta(hours=n)).isoformat(),
            "release": {"id": rel["id"]},
            "slug": {"id": slug} if slug else None,
            "source_blob": {"version": version},
        }
        self.builds.setdefault(app, []).append(b)
        return b

    def current(self, app: str) -> dict:
        return next(r for r in self.releases[app] if r["current"])

    # ---- the API ---------------------------------------------------------------------------
    def answer(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict]:
        status, doc, extra = self._answer(method, path, headers, body)
        if status < 300:
            last = path.strip("/").split("/")[-1]
            kind = {
                "builds": "build",
                "releases": "release",
                "pipeline-couplings": "pipeline-coupling",
                "promotion-targets": "pipeline-promotion-target",
            }.get(last, "pipeline-promotion")
            self.answers.append((kind, doc))
        return status, doc, extra

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict]:
        self.requests.append((method, path, headers, body))
        if headers.get("Authorization") != f"Bearer {KEY}" or "version=3" not in headers.get(
            "Accept", ""
        ):
            return 401, {"id": "unauthorized", "message": "Invalid credentials provided."}, {}
        queued = self.fail_next.get((method, path))
        if queued:
            return queued.pop(0), {"id": "server_error", "message": "try again"}, {}
        parts = path.strip("/").split("/")
        if method == "GET" and parts[0] == "pipelines" and parts[2] == "pipeline-couplings":
            return 200, self.couplings, {}
        if method == "GET" and parts[0] == "apps" and parts[2] in LIST_RANGES:
            items = (self.releases if parts[2] == "releases" else self.builds).get(parts[1], [])
            return _page(items, headers.get("Range"), LIST_RANGES[parts[2]])
        if method == "POST" and path == "/pipeline-promotions":
            if self.post_error:
                return (*self.post_error, {})
            pid = f"promo-{len(self.promotions) + 1}"
            source = body["source"]["app"]["id"]
            self.promotions[pid] = {
                "id": pid,
                "status": "pending",
                "source": {"app": {"id": source}, "release": {"id": self.current(source)["id"]}},
            }
            self.targets[pid] = [t["app"]["id"] for t in body["targets"]]
            return 201, self.promotions[pid], {}
        if method == "GET" and parts[0] == "pipeline-promotions":
            promo = self.promotions.get(parts[1])
            if promo is None:
                return 404, {"id": "not_found", "message": "Couldn't find that promotion."}, {}
            if len(parts) == 2:
                return 200, promo, {}
            status, error = ("pending", None)
            if self.pending_polls > 0:
                self.pending_polls -= 1
            else:
                status, error = self.target_outcome
            return (
                200,
                [
                    {
                        "app": {"id": t},
                        "status": status,
                        "error_message": error,
                        "release": {"id": f"rel-{t}-1"} if status == "succeeded" else None,
                    }
                    for t in self.targets[parts[1]]
                ],
                {},
            )
        return 404, {"id": "not_found", "message": f"no route {method} {path}"}, {}

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _, _ in self.requests if (m, p) == (method, path))


@pytest.fixture
def api() -> Iterator[tuple[FakeHeroku, str]]:
    fake = FakeHeroku()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, doc, extra = fake.answer(self.command, self.path, dict(self.headers), body)
            data = json.dumps(doc).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _provider(url: str, **kw: Any) -> PipelinePromotionProvider:
    provider = PipelinePromotionProvider(
        api_url=url, poll_interval_seconds=0, backoff_seconds=0, **kw
    )
    provider.configure(ConfigureRequest(Config({"heroku:apiKey": KEY}, "mfb-analytics")))
    return provider


def _props(**changes: Any) -> dict[str, Any]:
    props = {
        "pipeline_id": PIPE,
        "source_app_id": STAGING,
        "target_app_id": PROD,
        "expected_source_release_id": "rel-7",
        "source_version": SOURCE_VERSION,
    }
    props.update(changes)
    return props


# ---- create ------------------------------------------------------------------------------------
def test_create_records_the_targets_new_release(api):
    _, url = api
    result = _provider(url).create(_props())
    assert (result.outs["release_id"], result.outs["status"]) == (f"rel-{PROD}-1", "succeeded")


def test_create_uses_the_promotion_id_as_resource_id(api):
    fake, url = api
    result = _provider(url).create(_props())
    assert result.id == next(iter(fake.promotions))


def test_create_posts_pipeline_source_and_target(api):
    fake, url = api
    _provider(url).create(_props())
    body = next(b for m, p, _, b in fake.requests if (m, p) == ("POST", "/pipeline-promotions"))
    assert body == {
        "pipeline": {"id": PIPE},
        "source": {"app": {"id": STAGING}},
        "targets": [{"app": {"id": PROD}}],
    }


def test_create_records_which_staging_release_was_promoted(api):
    _, url = api
    assert _provider(url).create(_props()).outs["source_release_id"] == "rel-7"


def test_create_waits_while_the_target_is_pending(api):
    fake, url = api
    fake.pending_polls = 3
    _provider(url).create(_props())
    assert fake.count("GET", "/pipeline-promotions/promo-1/promotion-targets") == 4


def test_create_reports_a_failed_target_with_herokus_reason(api):
    fake, url = api
    fake.target_outcome = ("failed", "release phase crashed")
    with pytest.raises(HerokuApiError, match=r"promo-1 .*failed: release phase crashed"):
        _provider(url).create(_props())


def test_create_gives_up_after_the_timeout(api):
    fake, url = api
    fake.pending_polls = 10**6
    with pytest.raises(HerokuApiError, match="still 'pending'"):
        _provider(url, timeout_seconds=0).create(_props())


def test_create_promotes_over_a_config_var_release_that_kept_the_builds_slug(api):
    fake, url = api
    fake.release(STAGING, "slug-7", "Set MB_SITE_URL config vars")  # rel-8, same slug
    _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_create_promotes_over_an_addon_release_without_an_expected_release(api):
    fake, url = api
    fake.release(STAGING, "slug-7", "Attach HEROKU_POSTGRESQL_RED (@ref:postgresql-x)")
    _provider(url).create(_props(source_app_id=None, expected_source_release_id=None))
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_create_refuses_when_staging_runs_another_builds_slug(api):
    fake, url = api
    fake.build(STAGING, 8, SOURCE_VERSION)  # deployed outside the stack: rel-8, slug-8
    with pytest.raises(HerokuApiError, match=r"runs slug slug-8, not slug slug-7 of build b-7"):
        _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 0


def test_create_refuses_a_rollback_to_an_older_slug(api):
    fake, url = api
    fake.release(STAGING, "slug-3", "Rollback to v3")
    with pytest.raises(HerokuApiError, match=r"runs slug slug-3"):
        _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 0


def test_create_refuses_an_expected_release_no_build_made(api):
    _, url = api
    with pytest.raises(HerokuApiError, match=r"release rel-3, which the staging stack exported"):
        _provider(url).create(_props(expected_source_release_id="rel-3"))


def test_create_promotes_a_container_release_that_is_the_builds_own(api):
    fake, url = api
    fake.builds[STAGING] = []
    fake.build(STAGING, 8, SOURCE_VERSION, container=True)
    _provider(url).create(_props(expected_source_release_id="rel-8"))
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_create_refuses_a_container_config_release_it_cannot_tie_to_the_build(api):
    fake, url = api
    fake.builds[STAGING] = []
    fake.build(STAGING, 8, SOURCE_VERSION, container=True)
    fake.release(STAGING, None, "Set MB_SITE_URL config vars")
    with pytest.raises(HerokuApiError, match=r"container stack.*slug is null"):
        _provider(url).create(_props(expected_source_release_id="rel-8"))
    assert fake.count("POST", "/pipeline-promotions") == 0


def test_create_finds_the_newest_build_beyond_herokus_default_page(api):
    fake, url = api
    for n in range(8, 260):  # more builds than one default (200) or requested page holds
        fake.build(STAGING, n, SOURCE_VERSION)
    _provider(url).create(_props(expected_source_release_id=fake.current(STAGING)["id"]))
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_builds_are_listed_with_a_range_field_the_schema_allows(api):
    fake, url = api
    _provider(url).create(_props())
    ranges = [h.get("Range") for m, p, h, _ in fake.requests if p == f"/apps/{STAGING}/builds"]
    assert [r.split()[0] for r in ranges] == ["started_at"]


def test_fake_refuses_a_created_at_range_as_heroku_does():
    status, doc, _ = FakeHeroku().answer(
        "GET",
        f"/apps/{STAGING}/builds",
        {
            "Authorization": f"Bearer {KEY}",
            "Accept": "application/vnd.heroku+json; version=3",
            "Range": "created_at ..; order=desc, max=50",
        },
        None,
    )
    assert (status, doc["id"]) == (416, "requested_range_not_satisfiable")


SCHEMA = json.loads((Path(__file__).with_name("heroku_platform_schema.json")).read_text())


def _unknown_keys(kind: str, obj: dict) -> list[str]:
    props = SCHEMA[kind]["properties"]
    bad = [k for k in obj if k not in props]
    for key, nested in props.items():
        if nested is not None and isinstance(obj.get(key), dict):
            bad += [f"{key}.{k}" for k in obj[key] if k not in nested]
    return bad


def test_fake_answers_only_with_properties_the_schema_defines(api):
    fake, url = api
    fake.release(STAGING, "slug-7", "Set MB_SITE_URL config vars")
    _provider(url).create(_props(source_app_id=None))  # every route: couplings too
    objects = [(k, o) for k, doc in fake.answers for o in (doc if isinstance(doc, list) else [doc])]
    assert {k for k, _ in objects} == set(SCHEMA) - {"_source"}
    assert [(k, bad) for k, o in objects if (bad := _unknown_keys(k, o))] == []


def test_fake_build_ranges_are_the_schemas():
    assert list(LIST_RANGES["builds"]) == SCHEMA["build"]["links"]["List"]["ranges"]


def test_create_refuses_a_staging_release_built_from_another_version(api):
    fake, url = api
    fake.builds[STAGING][0]["source_blob"]["version"] = "v0.55.1+abcdef012345"
    with pytest.raises(HerokuApiError, match=r"built from 'v0\.55\.1.*expects 'v0\.56\.19"):
        _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 0


def test_create_refuses_a_staging_release_built_from_other_image_files(api):
    fake, url = api
    fake.builds[STAGING][0]["source_blob"]["version"] = "v0.56.19+ffffffffffff"
    with pytest.raises(HerokuApiError, match="built from"):
        _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 0


def test_create_refuses_a_staging_release_no_build_made(api):
    fake, url = api
    fake.builds[STAGING] = []
    with pytest.raises(HerokuApiError, match="not made by a Build API build"):
        _provider(url).create(_props(expected_source_release_id=None))


def test_create_refuses_a_staging_app_without_a_release(api):
    fake, url = api
    fake.releases[STAGING] = []
    with pytest.raises(HerokuApiError, match="no current release"):
        _provider(url).create(_props())


def test_create_finds_the_staging_app_from_the_pipeline(api):
    fake, url = api
    _provider(url).create(_props(source_app_id=None, expected_source_release_id=None))
    body = next(b for m, p, _, b in fake.requests if (m, p) == ("POST", "/pipeline-promotions"))
    assert body["source"] == {"app": {"id": STAGING}}


@pytest.mark.parametrize("staging_apps", [0, 2])
def test_create_needs_exactly_one_staging_app_in_the_pipeline(api, staging_apps):
    fake, url = api
    fake.couplings = [{"stage": "staging", "app": {"id": f"s{i}"}} for i in range(staging_apps)]
    with pytest.raises(HerokuApiError, match=f"has {staging_apps} app"):
        _provider(url).create(_props(source_app_id=None))


def test_create_explains_herokus_refusal_to_promote_container_apps(api):
    fake, url = api
    fake.post_error = (
        422,
        {"id": "invalid_params", "message": "Pipeline promotions are not supported on this app"},
    )
    with pytest.raises(HerokuApiError, match=r"roadmap#222.*rebuild"):
        _provider(url).create(_props())


# ---- HTTP behaviour --------------------------------------------------------------------------
def test_reads_are_retried_on_server_errors(api):
    fake, url = api
    fake.fail_next[("GET", f"/apps/{STAGING}/releases")] = [503, 500]
    _provider(url).create(_props())
    assert fake.count("GET", f"/apps/{STAGING}/releases") == 3


def test_persistent_server_errors_name_the_call_and_status(api):
    fake, url = api
    fake.fail_next[("GET", f"/apps/{STAGING}/releases")] = [500] * 10
    with pytest.raises(HerokuApiError, match=rf"GET /apps/{STAGING}/releases failed with HTTP 500"):
        _provider(url).create(_props())


def test_promotion_post_is_not_resent_after_a_500(api):
    fake, url = api
    fake.fail_next[("POST", "/pipeline-promotions")] = [500]
    with pytest.raises(HerokuApiError, match="HTTP 500"):
        _provider(url).create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_requests_carry_the_v3_accept_header_and_bearer_key(api):
    fake, url = api
    _provider(url).create(_props())
    assert all(
        h.get("Authorization") == f"Bearer {KEY}"
        and h.get("Accept") == "application/vnd.heroku+json; version=3"
        for _, _, h, _ in fake.requests
    )


def test_environment_key_is_used_without_stack_config(api, monkeypatch):
    fake, url = api
    monkeypatch.setenv("HEROKU_API_KEY", KEY)
    provider = PipelinePromotionProvider(api_url=url, poll_interval_seconds=0, backoff_seconds=0)
    provider.create(_props())
    assert fake.count("POST", "/pipeline-promotions") == 1


def test_missing_api_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("HEROKU_API_KEY", raising=False)
    provider = PipelinePromotionProvider(api_url="http://127.0.0.1:9")
    with pytest.raises(HerokuApiError, match=r"heroku:apiKey"):
        provider.create(_props())


def test_configured_api_key_is_never_pickled(api):
    _, url = api
    assert KEY.encode() not in pickle.dumps(_provider(url))


# ---- check / diff / read / update / delete ---------------------------------------------------
@pytest.mark.parametrize("field", ["pipeline_id", "target_app_id", "source_version"])
def test_check_names_a_missing_field(field):
    result = PipelinePromotionProvider().check({}, _props(**{field: ""}))
    assert [f.property for f in result.failures] == [field]


@pytest.mark.parametrize("version", ["latest", "0.56.19", "v0.56", "v0.56.19+XYZ"])
def test_check_rejects_a_source_version_that_is_not_a_pinned_tag(version):
    result = PipelinePromotionProvider().check({}, _props(source_version=version))
    assert [f.property for f in result.failures] == ["source_version"]


def test_check_rejects_promoting_an_app_to_itself():
    result = PipelinePromotionProvider().check({}, _props(target_app_id=STAGING))
    assert [f.property for f in result.failures] == ["target_app_id"]


def test_check_accepts_unknown_values_during_preview():
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    result = PipelinePromotionProvider().check({}, _props(source_version=unknown))
    assert result.failures == []


def test_diff_without_input_changes_promotes_nothing():
    assert PipelinePromotionProvider().diff("p", _props(), _props()).changes is False


def test_diff_on_a_new_staging_release_updates_in_place():
    diff = PipelinePromotionProvider().diff("p", _props(), _props(expected_source_release_id="r8"))
    assert (diff.changes, diff.replaces) == (True, [])


@pytest.mark.parametrize("field", ["pipeline_id", "target_app_id"])
def test_diff_on_another_pipeline_or_target_replaces(field):
    diff = PipelinePromotionProvider().diff("p", _props(), _props(**{field: "other"}))
    assert diff.replaces == [field]


def test_update_promotes_again(api):
    fake, url = api
    provider = _provider(url)
    provider.create(_props())
    provider.update("promo-1", _props(), _props())
    assert fake.count("POST", "/pipeline-promotions") == 2


def test_read_refreshes_the_recorded_release(api):
    _, url = api
    provider = _provider(url)
    created = provider.create(_props())
    stale = {**created.outs, "release_id": "stale", "status": "stale"}
    outs = provider.read(created.id, stale).outs
    assert (outs["release_id"], outs["status"]) == (f"rel-{PROD}-1", "succeeded")


def test_read_of_a_vanished_promotion_keeps_the_recorded_state(api):
    _, url = api
    props = {**_props(), "release_id": "rel-x"}
    result = _provider(url).read("promo-gone", props)
    assert (result.id, result.outs) == ("promo-gone", props)


def test_delete_calls_nothing(api):
    fake, url = api
    _provider(url).delete("promo-1", _props())
    assert fake.requests == []
