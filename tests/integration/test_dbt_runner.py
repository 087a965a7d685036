"""mfb_infra.dbt_runner: DSN -> profile env vars, and failures that show dbt's output."""

from __future__ import annotations

import pytest

from mfb_infra.dbt_runner import DbtError, dbt_env_for_dsn, run_dbt

pytestmark = pytest.mark.dbt


def test_dsn_maps_to_every_profile_variable():
    env = dbt_env_for_dsn(
        "postgresql://dbt%40x:p%2Fw@db.example:6543/app?sslmode=require", schema="marts"
    )
    assert env == {
        "DB_HOST": "db.example",
        "DB_PORT": "6543",
        "DB_USER": "dbt@x",
        "DB_PASS": "p/w",
        "DB_NAME": "app",
        "DB_SCHEMA": "marts",
        "DB_SSLMODE": "require",
        "DBT_TARGET": "postgres",
    }


def test_dsn_defaults_port_and_sslmode():
    env = dbt_env_for_dsn("postgres://u@h/d")
    assert (env["DB_PORT"], env["DB_SSLMODE"], env["DB_PASS"]) == ("5432", "prefer", "")


@pytest.mark.parametrize("dsn", ["mysql://u@h/d", "postgresql://h/d", "postgresql://u@h/"])
def test_bad_dsn_is_rejected(dsn):
    with pytest.raises(ValueError):
        dbt_env_for_dsn(dsn)


def test_failed_dbt_run_raises_with_dbts_output(tmp_path):
    (tmp_path / "dbt_project.yml").write_text(
        "name: broken\nprofile: nope\nversion: '1'\nconfig-version: 2\n"
    )
    (tmp_path / "profiles.yml").write_text("other: {}\n")
    with pytest.raises(DbtError) as err:
        run_dbt(
            ["parse"],
            env={"DBT_TARGET_PATH": str(tmp_path / "t"), "DBT_LOG_PATH": str(tmp_path / "l")},
            project_dir=tmp_path,
        )
    assert "exit code" in str(err.value) and "nope" in str(err.value)
