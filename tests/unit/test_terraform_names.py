"""Adoption of the Terraform-made Metabase relies on our names being Terraform's: every Metabase
create adopts an object of the same name (cards and dashboards within their collection) instead
of making a second one. The names below are the legacy workspace's, as
../shared/reference/upstream-facts.md §4.3-4.5 records them (dashboards/*.tf in
MyFriendBen/data-queries); a rename on our side would duplicate the object on the first up."""

from __future__ import annotations

import pytest

from components.metabase_content.definitions import render_for_config
from mfb_infra.sql import load_stack_config

TENANTS = [
    "North Carolina", "Colorado", "Texas", "Washington", "Illinois", "Massachusetts", "CESN",
    "CO Tax Calculator",
]  # fmt: skip


@pytest.fixture(scope="module")
def plan():
    return render_for_config(load_stack_config("production"), bigquery=True)


def test_collections_have_the_terraform_names_in_its_order(plan) -> None:
    assert [c.name for c in plan.collections] == ["Global", *TENANTS, "CU Denver", "CPAL"]


def test_groups_have_the_terraform_names(plan) -> None:
    want = {"Global Viewers", "CU Denver Viewers", "CPAL Viewers"}
    want |= {f"{t} {role}" for t in TENANTS for role in ("Viewers", "Editors")}
    assert {g.name for g in plan.groups} == want


def test_databases_have_the_terraform_names(plan) -> None:
    want = {"MFB PostgreSQL Analytics", "MFB BigQuery Analytics"}
    want |= {f"MFB PostgreSQL {t}" for t in TENANTS}
    assert {d.name for d in plan.databases} == want
