"""mfb_infra.conninfo: connection strings read and written by libpq's rules, in both forms."""

from __future__ import annotations

import pytest

from mfb_infra import conninfo
from mfb_infra.dbt_runner import dbt_env_for_dsn
from mfb_infra.isolation import dsn_with_login

SOCKET_URI = "postgresql://u@/db?host=/var/run/postgresql"
SPECIAL = "p@ss w:rd/'\"\\%?&=x"


def test_host_given_as_a_uri_query_parameter_is_the_host():
    assert conninfo.endpoint(SOCKET_URI) == ("/var/run/postgresql", "5432")


def test_port_given_as_a_uri_query_parameter_is_the_port():
    assert conninfo.endpoint("postgresql://u@/db?host=/tmp&port=6544") == ("/tmp", "6544")


def test_dbt_gets_the_socket_directory_as_its_host():
    env = dbt_env_for_dsn(SOCKET_URI)
    assert (env["DB_HOST"], env["DB_PORT"], env["DB_USER"], env["DB_NAME"]) == (
        "/var/run/postgresql",
        "5432",
        "u",
        "db",
    )


def test_dbt_env_from_a_keyword_dsn():
    env = dbt_env_for_dsn("host=db.example port=6543 user=dbt password='a b' dbname=app")
    assert (env["DB_HOST"], env["DB_PORT"], env["DB_PASS"]) == ("db.example", "6543", "a b")


def test_dbt_env_keeps_sslmode_from_a_keyword_dsn():
    assert dbt_env_for_dsn("host=h user=u dbname=d sslmode=verify-full")["DB_SSLMODE"] == (
        "verify-full"
    )


def test_a_missing_host_follows_pghost_like_libpq(monkeypatch):
    monkeypatch.setenv("PGHOST", "/run/pg")
    assert conninfo.endpoint("user=u dbname=d")[0] == "/run/pg"


def test_several_hosts_are_refused_for_tools_that_connect_to_one():
    with pytest.raises(ValueError, match="several servers"):
        conninfo.endpoint("postgresql://u@a:5432,b:5432/d")


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://admin:s3cret@db.example.org/mfb",
        "postgresql://admin@db.example.org/mfb?password=s3cret",
        "host=db.example.org user=admin password=s3cret dbname=mfb",
        "host=db.example.org user=admin password='s3 cret' dbname=mfb",
    ],
)
def test_redacted_drops_the_password_in_every_form(dsn):
    shown = conninfo.redacted(dsn)
    assert "s3" not in shown and "db.example.org" in shown and "admin" in shown


def test_login_swap_keeps_socket_host_and_port():
    dsn = dsn_with_login("postgresql://postgres@/mfb?host=/sock&port=6000", "wl_co_1_ro", "pw")
    params = conninfo.parse(dsn)
    assert {k: params[k] for k in ("host", "port", "dbname", "user", "password")} == {
        "host": "/sock",
        "port": "6000",
        "dbname": "mfb",
        "user": "wl_co_1_ro",
        "password": "pw",
    }


def test_a_password_with_special_characters_survives_a_login_swap():
    dsn = dsn_with_login("postgresql://postgres@h/mfb", "u", SPECIAL)
    assert conninfo.parse(dsn)["password"] == SPECIAL


def test_a_percent_encoded_uri_password_reaches_dbt_decoded():
    assert dbt_env_for_dsn("postgresql://u:p%40ss%20w%3Ard@h/d")["DB_PASS"] == "p@ss w:rd"


def test_another_database_keeps_everything_else():
    dsn = conninfo.with_dbname("postgresql://u:pw@/old?host=/sock&sslmode=disable", "new")
    assert conninfo.parse(dsn) == {
        "user": "u",
        "password": "pw",
        "dbname": "new",
        "host": "/sock",
        "sslmode": "disable",
    }


@pytest.mark.parametrize("dsn", ["mysql://u@h/d", "host=h dbname", "postgresql://u@h/d?nope=1"])
def test_what_libpq_cannot_parse_is_a_value_error(dsn):
    with pytest.raises(ValueError, match="not a PostgreSQL connection string"):
        conninfo.parse(dsn)
