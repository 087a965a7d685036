"""Client behaviour: HTML base URLs, session expiry, retries, health waiting."""

from __future__ import annotations

import pytest
from conftest import MB, double_only
from metabase_double import MetabaseDouble

from components.metabase.client import (
    Credentials,
    MetabaseClient,
    MetabaseConfigError,
    MetabaseNotFound,
    client_for,
)


def test_base_url_with_wrong_path_raises_config_error_naming_the_url(mb: MB) -> None:
    if mb.double is None:
        pytest.skip("needs a path that answers HTML; a real proxy may answer differently")
    client = MetabaseClient(Credentials(mb.url + "/metabase", mb.email, mb.password))
    with pytest.raises(MetabaseConfigError, match="base URL"):
        client.get("user/current")


def test_wrong_password_raises_config_error_naming_the_config_key(mb: MB) -> None:
    client = MetabaseClient(Credentials(mb.url, mb.email, "not-the-password"))
    with pytest.raises(MetabaseConfigError, match="metabaseAdminPassword"):
        client.get("user/current")


def test_missing_object_raises_not_found(mb: MB) -> None:
    with pytest.raises(MetabaseNotFound):
        mb.client().get("card/987654321")


@double_only
def test_expired_session_logs_in_again_once(mb: MB) -> None:
    client = mb.client()
    client.get("user/current")
    mb.double.expire_sessions()
    mb.double.reset_counts()
    assert client.get("user/current")["email"] == mb.email
    assert mb.double.count("POST", "/api/session") == 1


@double_only
def test_session_is_reused_across_calls(mb: MB) -> None:
    client = client_for(Credentials(mb.url, mb.email, mb.password))
    for _ in range(3):
        client_for(Credentials(mb.url, mb.email, mb.password)).get("user/current")
    assert client is client_for(Credentials(mb.url, mb.email, mb.password))
    assert mb.double.count("POST", "/api/session") == 1


@double_only
def test_transient_502_on_get_is_retried(mb: MB) -> None:
    mb.double.faults.rate = 1.0
    mb.double.faults.kinds = ("502-before",)
    client = mb.client()
    mb.double.faults.rng.seed(3)
    # 100% faults: retries exhaust and the error says so (not a crash on the HTML 502 page)
    with pytest.raises(Exception, match=r"502|retries|connection"):
        client.get("user/current")
    mb.double.faults.rate = 0.5
    assert client.get("user/current")["email"] == mb.email


@double_only
def test_wait_healthy_waits_through_initializing() -> None:
    double = MetabaseDouble(boot_delay=0.3).start()
    try:
        client = MetabaseClient(Credentials(double.url, "a@b.c", "x"))
        seen: list[str] = []
        client.wait_healthy(timeout=5, interval=0.05, progress=seen.append)
        assert seen and "initializing" in seen[0]
    finally:
        double.stop()


@double_only
def test_wait_healthy_times_out_with_the_last_status() -> None:
    double = MetabaseDouble(boot_delay=30).start()
    try:
        client = MetabaseClient(Credentials(double.url, "a@b.c", "x"))
        with pytest.raises(MetabaseConfigError, match="initializing"):
            client.wait_healthy(timeout=0.2, interval=0.05)
    finally:
        double.stop()


def test_credentials_reject_a_url_without_scheme() -> None:
    with pytest.raises(MetabaseConfigError, match="http"):
        Credentials("metabase.example.org", "a@b.c", "pw")


def test_credentials_repr_hides_the_password() -> None:
    assert "pw-secret" not in repr(Credentials("https://m.example.org", "a@b.c", "pw-secret"))


class _Router:
    """127.0.0.1 server answering /api/health like a platform router, then like Metabase."""

    def __init__(self, answers: list[tuple[int, str, str]]):
        import http.server
        import threading

        answers = list(answers)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, ctype, body = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


APP_ERROR = (503, "text/html", "<!DOCTYPE html><html><body>Application Error</body></html>")
HEALTH_OK = (200, "application/json", '{"status":"ok"}')


def test_wait_healthy_waits_while_the_platform_answers_html_errors() -> None:
    router = _Router([APP_ERROR, APP_ERROR, HEALTH_OK])
    try:
        client = MetabaseClient(Credentials(router.url, "a@b.c", "x"))
        seen: list[str] = []
        client.wait_healthy(timeout=5, interval=0.01, progress=seen.append)
        assert len(seen) == 2 and "not running yet" in seen[0]
    finally:
        router.stop()


def test_health_answered_by_an_html_page_is_a_wrong_base_url() -> None:
    router = _Router([(200, "text/html", "<html><body>a web site</body></html>")])
    try:
        client = MetabaseClient(Credentials(router.url, "a@b.c", "x"))
        with pytest.raises(MetabaseConfigError, match="HTML"):
            client.wait_healthy(timeout=5, interval=0.01)
    finally:
        router.stop()
