"""Every DSN form users pass reaches psycopg, dbt and `local up` as libpq reads it (real server).

The throwaway server listens on 127.0.0.1 (password auth for every role but the superuser) and on
a unix socket in its own directory (pg_server.sockdir), so the issue's form
`postgresql://u@/db?host=<socket dir>` can be tried for real: read with urlsplit it pointed dbt at
localhost:5432, where nothing listens.
"""

from __future__ import annotations

import psycopg
import pytest

from mfb_infra import conninfo, local
from mfb_infra.dbt_runner import dbt_env_for_dsn, run_dbt
from mfb_infra.isolation import dsn_with_login

pytestmark = [pytest.mark.postgres]

ROLE = "mfb_dsn_forms"
PASSWORD = "p@ss w:rd/'\"\\%?&=x{{ }}"


@pytest.fixture(scope="module")
def role(pg_server):
    literal = PASSWORD.replace("'", "''")
    pg_server.execute(f"DROP ROLE IF EXISTS {ROLE}")
    pg_server.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{literal}'")
    yield ROLE
    pg_server.execute(f"DROP ROLE IF EXISTS {ROLE}")


def _dbt_connects(dsn: str, work) -> tuple[bool, str]:
    env = dbt_env_for_dsn(dsn)
    env |= {"DBT_LOG_PATH": str(work / "logs"), "DBT_TARGET_PATH": str(work / "target")}
    res = run_dbt(["debug", "--connection"], env=env, check=False)
    return res.returncode == 0, res.stdout


# ---- psycopg ------------------------------------------------------------------------------
def test_socket_uri_connects_over_the_socket(pg_server):
    with psycopg.connect(pg_server.socket_uri()) as conn:
        assert conn.info.host == str(pg_server.sockdir)


def test_login_swap_on_a_socket_uri_stays_on_the_socket(pg_server, role):
    with psycopg.connect(dsn_with_login(pg_server.socket_uri(), role, PASSWORD)) as conn:
        assert (conn.info.host, conn.info.user) == (str(pg_server.sockdir), role)


def test_special_character_password_logs_in_over_tcp(pg_server, role):
    with psycopg.connect(pg_server.dsn("postgres", role, PASSWORD)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


def test_wrong_password_is_refused_over_tcp(pg_server, role):
    # control: TCP really checks passwords, so the test above proves the password got through
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.dsn("postgres", role, PASSWORD + "!"))


def test_pinned_names_the_socket_libpq_used(pg_server):
    assert conninfo.endpoint(conninfo.pinned(pg_server.socket_uri())) == (
        str(pg_server.sockdir),
        str(pg_server.port),
    )


# ---- dbt ----------------------------------------------------------------------------------
@pytest.mark.dbt
def test_dbt_connects_through_a_socket_uri(pg_server, tmp_path):
    ok, out = _dbt_connects(pg_server.socket_uri(), tmp_path)
    assert ok and f"host: {pg_server.sockdir}" in out, out[-2000:]


@pytest.mark.dbt
def test_dbt_logs_in_with_a_special_character_password_from_a_keyword_dsn(
    pg_server, role, tmp_path
):
    ok, out = _dbt_connects(pg_server.dsn("postgres", role, PASSWORD), tmp_path)
    assert ok, out[-2000:]


@pytest.mark.dbt
def test_dbt_logs_in_with_a_special_character_password_from_an_encoded_uri(
    pg_server, role, tmp_path
):
    from urllib.parse import quote

    uri = f"postgresql://{role}:{quote(PASSWORD, safe='')}@127.0.0.1:{pg_server.port}/postgres"
    ok, out = _dbt_connects(uri, tmp_path)
    assert ok, out[-2000:]


@pytest.mark.dbt
def test_dbt_with_a_wrong_password_fails(pg_server, role, tmp_path):
    # control for the two above: dbt's connection check does fail on a bad login
    ok, _ = _dbt_connects(pg_server.dsn("postgres", role, "wrong"), tmp_path)
    assert not ok


# ---- local up -----------------------------------------------------------------------------
@pytest.mark.dbt
def test_local_up_with_a_socket_uri_builds_and_proves_isolation(pg_server, tmp_path):
    dbname = "mfb_dsn_forms_up"
    try:
        result = local.up(
            dsn=pg_server.socket_uri(),
            screens=60,
            seed=5,
            dbname=dbname,
            root=tmp_path,
            say=lambda _: None,
        )
        assert (result.host, result.ok) == (str(pg_server.sockdir), True), (
            result.isolation.format(verbose=True) if result.isolation else result
        )
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
