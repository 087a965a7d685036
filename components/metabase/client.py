"""HTTP client for the Metabase v0.56 REST API.

No Pulumi engine concerns live here: the dynamic providers, the ``mfb-infra`` CLI and the tests
all use this module. What it does:

- session auth (``POST /api/session``) or API-key auth (``x-api-key``); one logged-in client per
  (url, principal) per process (``client_for``), so consecutive provider calls reuse the session;
- re-login once on ``401`` (expired or unknown session);
- retries with exponential backoff: connection errors for every method (nothing was sent), and
  ``502/503/504`` plus read errors for idempotent methods (urllib3 ``Retry``). ``POST`` is not
  retried blindly; callers that can find what a lost ``POST`` created use ``create_adopting``;
- every answer must be JSON (or empty): an HTML page (wrong base URL or path) raises
  ``MetabaseConfigError`` naming the URL instead of crashing in a JSON parser.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

LOG = logging.getLogger("mfb.metabase")

T = TypeVar("T")

TRANSIENT_STATUSES = (502, 503, 504)
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})


class MetabaseError(Exception):
    """An HTTP error answered by Metabase (status, method, path and Metabase's message)."""

    def __init__(self, status: int, method: str, path: str, message: str, body: Any = None):
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        self.body = body
        super().__init__(f"Metabase {method} {path} failed with HTTP {status}: {message}")


class MetabaseNotFound(MetabaseError):
    """404: the object (or route) does not exist."""


class MetabaseConflict(MetabaseError):
    """409: e.g. a stale permissions-graph revision."""


class MetabaseTransientError(MetabaseError):
    """502/503/504 or a lost connection after retries: the request may or may not have applied."""


class _SessionRejected(MetabaseError):
    """401 to a request made with session ``session`` (expired or unknown): log in again."""

    def __init__(self, session: str, *args: Any) -> None:
        super().__init__(*args)
        self.session = session


class MetabaseConfigError(Exception):
    """The base URL or the credentials are wrong (HTML answer, bad login, missing settings)."""


@dataclass(frozen=True)
class Credentials:
    """Where Metabase is and who we are. ``password``/``api_key`` never appear in ``repr``."""

    url: str
    email: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.url or not self.url.startswith(("http://", "https://")):
            raise MetabaseConfigError(
                f"Metabase URL {self.url!r} must start with http:// or https:// "
                "(set mfb-analytics:metabaseUrl or the connection's url)"
            )
        if not self.api_key and not (self.email and self.password):
            raise MetabaseConfigError(
                "Metabase credentials missing: give an admin email and password "
                "(mfb-analytics:metabaseAdminEmail / metabaseAdminPassword) or an api_key"
            )

    @property
    def base_url(self) -> str:
        url = self.url.rstrip("/")
        return url[: -len("/api")] if url.endswith("/api") else url

    def cache_key(self) -> str:
        secret = self.api_key or f"{self.email}\0{self.password}"
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return f"{self.base_url}|{digest}"


@dataclass
class RetryPolicy:
    """Retry/backoff knobs. Tests shrink ``backoff`` so injected faults cost milliseconds."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * (2**attempt))


RETRY_ENV = "MFB_METABASE_RETRY"


def policy_from_env(value: str | None) -> RetryPolicy:
    """``MFB_METABASE_RETRY="attempts=8,backoff=1,max_backoff=30,timeout=120"``: retry knobs for a
    slow proxy, read once per process (the provider host inherits the engine's environment;
    the tests use it to shrink backoff in the host process). Unset or empty: the defaults."""
    policy = RetryPolicy()
    for item in (value or "").replace(" ", ",").split(","):
        if not item:
            continue
        key, _, raw = item.partition("=")
        if key not in ("attempts", "backoff", "max_backoff", "timeout"):
            raise MetabaseConfigError(
                f"{RETRY_ENV}: unknown setting {key!r}; use attempts, backoff, max_backoff, timeout"
            )
        try:
            number = int(raw) if key == "attempts" else float(raw)
        except ValueError:
            raise MetabaseConfigError(f"{RETRY_ENV}: {key}={raw!r} is not a number") from None
        setattr(policy, key, number)
    return policy


DEFAULT_POLICY = policy_from_env(os.environ.get(RETRY_ENV))


def _message_of(body: Any, text: str) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        if isinstance(body.get("errors"), dict) and body["errors"]:
            return "; ".join(f"{k}: {v}" for k, v in body["errors"].items())
        for key in ("message", "cause", "error"):
            if body.get(key):
                return str(body[key])
    return text[:300]


class MetabaseClient:
    """A logged-in Metabase API client. Thread-safe enough for the engine's parallel calls."""

    def __init__(self, creds: Credentials, policy: RetryPolicy | None = None) -> None:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.creds = creds
        self.policy = policy or DEFAULT_POLICY
        self._lock = threading.Lock()  # guards the session: login happens under it
        self._session_id: str | None = None
        self._calls_lock = threading.Lock()
        self.calls = 0  # API calls made through ``request`` (not counting urllib3 retries)
        retry = Retry(
            total=self.policy.attempts,
            connect=self.policy.attempts,
            read=self.policy.attempts,
            status=self.policy.attempts,
            other=0,
            allowed_methods=IDEMPOTENT_METHODS,
            status_forcelist=TRANSIENT_STATUSES,
            backoff_factor=self.policy.backoff,
            backoff_max=self.policy.max_backoff,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        self.http = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.headers.update({"Accept": "application/json"})
        if creds.api_key:
            self.http.headers["x-api-key"] = creds.api_key

    # ------------------------------------------------------------------ low level
    def _url(self, path: str) -> str:
        return f"{self.creds.base_url}/api/{path.lstrip('/')}"

    def _parse(self, method: str, path: str, resp: Any) -> Any:
        text = resp.text or ""
        ctype = resp.headers.get("Content-Type", "")
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            pass
        if resp.status_code in TRANSIENT_STATUSES:
            return f"HTTP {resp.status_code} from a proxy or a booting Metabase"
        if "html" in ctype or text.lstrip()[:1] == "<":
            raise MetabaseConfigError(
                f"{method} {resp.url} answered HTML (HTTP {resp.status_code}), not the Metabase "
                f"API: check the Metabase base URL {self.creds.base_url!r} (it must be the site "
                "root, e.g. https://metabase.example.org, without a trailing path)"
            )
        return text  # Metabase answers some errors as a bare string

    def _raw(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        """Send once (plus urllib3's retries); raise typed errors for non-2xx answers."""
        import requests

        headers = dict(kwargs.pop("headers", {}) or {})
        session = None
        if auth and not self.creds.api_key:
            session = headers["X-Metabase-Session"] = self._ensure_session()
        self._count_call()
        try:
            resp = self.http.request(
                method, self._url(path), headers=headers, timeout=self.policy.timeout, **kwargs
            )
        except requests.exceptions.RetryError as exc:
            raise MetabaseTransientError(0, method, path, f"gave up after retries: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise MetabaseTransientError(0, method, path, f"connection failed: {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise MetabaseTransientError(0, method, path, f"timed out: {exc}") from exc
        body = self._parse(method, path, resp)
        if resp.status_code < 400:
            if isinstance(body, str) and resp.status_code != 204 and method != "DELETE":
                raise MetabaseConfigError(
                    f"{method} {resp.url} answered non-JSON text {body[:80]!r}: check the "
                    f"Metabase base URL {self.creds.base_url!r}"
                )
            return body
        message = _message_of(body, resp.text or "")
        status = resp.status_code
        if status == 401 and session is not None:
            raise _SessionRejected(session, status, method, path, message, body)
        if status == 404:
            raise MetabaseNotFound(status, method, path, message, body)
        if status == 409:
            raise MetabaseConflict(status, method, path, message, body)
        if status in TRANSIENT_STATUSES:
            raise MetabaseTransientError(status, method, path, message, body)
        raise MetabaseError(status, method, path, message, body)

    def _count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    # ------------------------------------------------------------------ sessions
    def _forget_session(self, rejected: str) -> None:
        """Drop the session a 401 answered to, unless another thread already replaced it.

        The host runs up to 4 calls at once on one client: when a session expires, every call in
        flight gets a 401 for the same session. Only the first one may clear it; the others then
        reuse the session that one logs in with (one login, not one per thread).
        """
        with self._lock:
            if self._session_id == rejected:
                self._session_id = None

    def _ensure_session(self) -> str:
        with self._lock:
            if self._session_id is None:
                self._session_id = self._login()
            return self._session_id

    def _login(self) -> str:
        payload = {"username": self.creds.email, "password": self.creds.password}
        try:
            body = self._post_retrying("session", payload, auth=False)
        except MetabaseError as exc:
            if exc.status in (400, 401):
                raise MetabaseConfigError(
                    f"Metabase login as {self.creds.email} failed ({exc.message}): check "
                    "mfb-analytics:metabaseAdminEmail / metabaseAdminPassword"
                ) from exc
            raise
        if not isinstance(body, dict) or not body.get("id"):
            raise MetabaseConfigError(f"POST /api/session answered {body!r}, expected a session id")
        return str(body["id"])

    def adopt_session(self, session_id: str) -> None:
        """Use a session id obtained elsewhere (e.g. from ``POST /api/setup``)."""
        with self._lock:
            self._session_id = session_id

    def _post_retrying(self, path: str, payload: Any, *, auth: bool = True) -> Any:
        """POST for calls that are safe to repeat (login, sync_schema)."""
        for attempt in range(self.policy.attempts + 1):
            try:
                return self._raw("POST", path, json=payload, auth=auth)
            except MetabaseTransientError:
                if attempt == self.policy.attempts:
                    raise
                time.sleep(self.policy.delay(attempt))
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call with session handling: on 401, log in again and retry once."""
        try:
            return self._raw(method, path, **kwargs)
        except _SessionRejected as exc:
            self._forget_session(exc.session)
        return self._raw(method, path, **kwargs)

    # ------------------------------------------------------------------ verbs
    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, payload: Any = None) -> Any:
        return self.request("POST", path, json=payload)

    def post_idempotent(self, path: str, payload: Any = None) -> Any:
        """POST that may be repeated safely (sync_schema): retried on transient errors."""
        for attempt in range(self.policy.attempts + 1):
            try:
                return self.request("POST", path, json=payload)
            except MetabaseTransientError:
                if attempt == self.policy.attempts:
                    raise
                time.sleep(self.policy.delay(attempt))
        raise AssertionError("unreachable")

    def put(self, path: str, payload: Any) -> Any:
        return self.request("PUT", path, json=payload)

    def delete(self, path: str) -> bool:
        """DELETE; returns False when the object was already gone (404)."""
        try:
            self.request("DELETE", path)
        except MetabaseNotFound:
            return False
        return True

    def get_or_none(self, path: str, **params: Any) -> Any:
        try:
            return self.get(path, **params)
        except MetabaseNotFound:
            return None

    # ------------------------------------------------------------------ helpers
    def create_adopting(self, post: Callable[[], T], find: Callable[[], T | None], what: str) -> T:
        """Run a non-idempotent create; after a transient failure, adopt what it made.

        ``find`` must locate the object the POST would have created (by entity_id, or by name
        and collection). It is called after every transient failure before re-posting, so a
        create whose response was lost is adopted, never duplicated.
        """
        last: Exception | None = None
        for attempt in range(self.policy.attempts + 1):
            try:
                return post()
            except MetabaseTransientError as exc:
                last = exc
                LOG.info("create %s: transient failure (%s); looking for it", what, exc.message)
            time.sleep(self.policy.delay(attempt))
            found = self._find_quietly(find)
            if found is not None:
                LOG.info("create %s: adopted the object a lost response had created", what)
                return found
        raise MetabaseTransientError(
            getattr(last, "status", 0), "POST", what, f"create did not succeed: {last}"
        )

    def _find_quietly(self, find: Callable[[], T | None]) -> T | None:
        for attempt in range(self.policy.attempts + 1):
            try:
                return find()
            except MetabaseTransientError:
                time.sleep(self.policy.delay(attempt))
        return find()

    def health(self) -> dict[str, Any]:
        """``GET /api/health`` without retries on 503 (initializing is an expected answer)."""
        import requests

        self._count_call()
        try:
            resp = requests.get(self._url("health"), timeout=self.policy.timeout)
        except requests.exceptions.RequestException as exc:
            return {"status": f"unreachable: {exc.__class__.__name__}"}
        ctype = resp.headers.get("Content-Type", "").lower()
        is_html = "html" in ctype or (resp.text or "").lstrip()[:1] == "<"
        if is_html and (resp.status_code == 404 or resp.status_code >= 500):
            # the platform's router (e.g. Heroku's "Application Error") while no dyno runs
            # Metabase yet: not ready, not a misconfiguration; a 200 HTML page still is one
            return {
                "status": f"HTTP {resp.status_code} from the platform: Metabase not running yet"
            }
        body = self._parse("GET", "health", resp)
        if not isinstance(body, dict):
            return {"status": f"HTTP {resp.status_code}: {str(body)[:80]}"}
        return body

    def wait_healthy(
        self,
        timeout: float = 300.0,
        interval: float = 5.0,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Poll ``/api/health`` until ``ok``; report progress; raise after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        report = progress or LOG.info
        while True:
            body = self.health()
            status = body.get("status")
            if status == "ok":
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise MetabaseConfigError(
                    f"Metabase at {self.creds.base_url} not healthy after {timeout:.0f}s "
                    f"(last /api/health status: {status!r})"
                )
            extra = f", progress {body['progress']}" if "progress" in body else ""
            report(f"waiting for Metabase at {self.creds.base_url}: {status}{extra}")
            time.sleep(min(interval, max(left, 0.01)))

    def session_properties(self) -> dict[str, Any]:
        return self.request("GET", "session/properties", auth=False)

    def list_data(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """GET a list endpoint that may answer a bare list or ``{"data": [...]}``."""
        body = self.get(path, **params)
        if isinstance(body, dict):
            return list(body.get("data") or [])
        return list(body or [])


_CLIENTS: dict[str, MetabaseClient] = {}
_CLIENTS_LOCK = threading.Lock()


def client_for(creds: Credentials) -> MetabaseClient:
    """The process-wide client for these credentials (session reused across provider calls)."""
    key = creds.cache_key()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = MetabaseClient(creds)
            _CLIENTS[key] = client
        return client


def set_default_policy(policy: RetryPolicy) -> None:
    """Change retry/backoff for clients made from now on (tests use millisecond backoff)."""
    global DEFAULT_POLICY
    DEFAULT_POLICY = policy
    reset_clients()


def reset_clients() -> None:
    """Forget cached clients (tests; or after changing the retry policy)."""
    with _CLIENTS_LOCK:
        _CLIENTS.clear()
