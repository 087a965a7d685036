"""A small Heroku API client shared by the Heroku dynamic providers.

Used by `promotion` (Platform API) and `credentials` (Platform + Data API). Built
per call, never stored on a provider (providers are pickled into state). The API key comes from
stack config `heroku:apiKey` (secret; handed to the provider's `configure`) or the environment
variable `HEROKU_API_KEY`; it is never a resource input.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

PLATFORM_API = "https://api.heroku.com"
DATA_API = "https://api.data.heroku.com"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RESEND_STATUSES = frozenset({429, 503})  # not processed by Heroku: safe to resend a write


class HerokuApiError(RuntimeError):
    """A Heroku API call failed (with the HTTP status when there was one)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def api_key(configured: str | None, hint: str = "") -> str:
    """The key from stack config, else HEROKU_API_KEY; a clear error naming both otherwise."""
    key = configured or os.environ.get("HEROKU_API_KEY")
    if not key:
        raise HerokuApiError(
            "no Heroku API key: set it with `pulumi config set --secret heroku:apiKey <key>` "
            f"(or export HEROKU_API_KEY){hint}"
        )
    return key


def error_text(resp: Any) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return (resp.text or "").strip()[:300] or "(empty body)"
    if isinstance(doc, dict):
        ident, message = doc.get("id"), doc.get("message")
        return f"{ident}: {message}" if ident else str(message or doc)
    return str(doc)[:300]


class HerokuClient:
    """JSON over HTTPS with Heroku's headers; reads retry on 429/5xx, writes only on 429/503."""

    def __init__(
        self,
        key: str,
        base_url: str = PLATFORM_API,
        *,
        attempts: int = 4,
        backoff_seconds: float = 1.0,
        timeout_seconds: float = 30.0,
    ):
        import requests  # heavy import kept out of module import

        self._session = requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.heroku+json; version=3",
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "User-Agent": "mfb-analytics-pulumi",
            }
        )
        self._url = base_url.rstrip("/")
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        range_header: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The decoded JSON answer (None for an empty body, or a 404 when `missing_ok`)."""
        import requests

        headers = {"Range": range_header} if range_header else {}
        retry_on = RETRY_STATUSES if method == "GET" else RESEND_STATUSES
        last = ""
        for attempt in range(1, self._attempts + 1):
            try:
                resp = self._session.request(
                    method, self._url + path, json=body, headers=headers, timeout=self._timeout
                )
            except requests.RequestException as e:
                last = f"{type(e).__name__}: {e}"
                if attempt < self._attempts:
                    time.sleep(self._backoff * 2 ** (attempt - 1))
                    continue
                raise HerokuApiError(
                    f"Heroku API {method} {path}: no answer after {attempt} attempt(s) ({last})"
                ) from None
            if resp.status_code in retry_on and attempt < self._attempts:
                last = f"HTTP {resp.status_code}"
                time.sleep(self._backoff * 2 ** (attempt - 1))
                continue
            if missing_ok and resp.status_code == 404:
                return None
            if resp.status_code >= 400:
                raise HerokuApiError(
                    f"Heroku API {method} {path} failed with HTTP {resp.status_code}: "
                    f"{error_text(resp)}",
                    resp.status_code,
                )
            return resp.json() if resp.content else None
        raise HerokuApiError(f"Heroku API {method} {path}: gave up ({last})")  # pragma: no cover
