"""MetabaseContent under Pulumi mocks: the real program (`__main__.py`) per stack."""

from __future__ import annotations

import itertools
import json

import pytest

from mfb_infra.program import PLACEHOLDER_PREFIX, ProgramRun, is_secret, run_program, unwrap

MB = "pulumi-python:dynamic/metabase:"
COMPONENT = "mfb:metabase:MetabaseContent"
BQ_KEY = json.dumps({"type": "service_account", "private_key": "placeholder-secret:bq-key"})


@pytest.fixture(scope="module")
def production() -> ProgramRun:
    """Production with a BigQuery key (so the BigQuery database and GA cards are declared)."""
    return run_program("production", secret_values={"metabaseBigquerySaKey": BQ_KEY})


@pytest.fixture(scope="module")
def tenants(production) -> list[dict]:
    import yaml

    from components.config import StackConfig  # noqa: F401  (repo on sys.path via conftest)
    from mfb_infra.program import REPO

    doc = yaml.safe_load((REPO / "Pulumi.production.yaml").read_text())["config"]
    return doc["mfb-analytics:tenants"]


def titled(t: dict) -> str:
    return t.get("displayName") or t["slug"].replace("_", " ").title()


def by_name(run: ProgramRun, kind: str) -> dict[str, object]:
    return {unwrap(r.inputs.get("name")): r for r in run.of_type(MB + kind)}


def test_every_tenant_has_its_database_collection_and_dashboard(production, tenants):
    dbs, colls, dashes = (by_name(production, k) for k in ("Database", "Collection", "Dashboard"))
    for t in tenants:
        assert f"MFB PostgreSQL {titled(t)}" in dbs
        assert titled(t) in colls
        assert f"{titled(t)} Dashboard" in dashes


def test_tenant_database_logs_in_as_the_tenant_never_the_admin(production, tenants):
    dbs = by_name(production, "Database")
    role_of = {titled(t): f"wl_{t['slug']}_{t['whiteLabelId']}_ro" for t in tenants}
    for title, role in role_of.items():
        reg = dbs[f"MFB PostgreSQL {title}"]
        details = unwrap(reg.inputs["details"])
        password = unwrap(reg.inputs["secrets"])["password"]
        assert details["user"] == role
        assert "databaseAdmin" not in password and password.startswith(PLACEHOLDER_PREFIX)
        assert "additional-options" not in details  # RLS is bound to the role, no GUC


def test_global_database_logs_in_as_the_admin(production):
    reg = by_name(production, "Database")["MFB PostgreSQL Analytics"]
    assert unwrap(reg.inputs["details"])["user"] == f"{PLACEHOLDER_PREFIX}databaseAdminUser"
    assert unwrap(reg.inputs["secrets"])["password"].endswith("databaseAdminPassword")


def test_database_passwords_and_metabase_login_are_secret_inputs(production):
    for reg in production.of_type(MB + "Database"):
        assert is_secret(reg.inputs["secrets"]), unwrap(reg.inputs["name"])
    for reg in (r for r in production.registrations if r.type.startswith(MB)):
        assert is_secret(reg.inputs["connection"]), reg.name


def test_bigquery_database_gets_the_key_as_a_secret(production):
    reg = by_name(production, "Database")["MFB BigQuery Analytics"]
    assert is_secret(reg.inputs["secrets"])
    assert unwrap(reg.inputs["secrets"])["service-account-json"] == BQ_KEY


def test_collections_are_created_one_after_another(production):
    colls = production.of_type(MB + "Collection")
    for prev, coll in itertools.pairwise(colls):
        assert prev.urn in coll.dependencies, f"{coll.name} does not wait for {prev.name}"


def test_every_metabase_resource_is_a_child_of_the_component(production):
    (component,) = production.of_type(COMPONENT)
    for reg in production.registrations:
        if reg.type.startswith(MB):
            assert reg.parent == component.urn, reg.name


def test_tenant_groups_are_granted_only_their_own_database(production, tenants):
    groups = {unwrap(r.inputs["name"]): r for r in production.of_type(MB + "PermissionsGroup")}
    dbs = by_name(production, "Database")
    (data,) = production.of_type(MB + "DataPermissions")
    entries = unwrap(data.inputs["entries"])
    fake = {r.name: r for r in production.of_type(MB + "Database")}
    db_id_to_name = {
        production.by_urn(r.urn).outputs.get("database_id") or _id(r): unwrap(r.inputs["name"])
        for r in fake.values()
    }
    group_id_to_name = {_id(r): n for n, r in groups.items()}
    for t in tenants:
        for suffix in ("Viewers", "Editors"):
            gid = next(g for g, n in group_id_to_name.items() if n == f"{titled(t)} {suffix}")
            granted = {
                db_id_to_name[e["database_id"]]
                for e in entries
                if e["group_id"] == gid and e["permissions"]["create-queries"] != "no"
            }
            assert granted == {f"MFB PostgreSQL {titled(t)}"}
            native = [
                e for e in entries
                if e["group_id"] == gid
                and e["permissions"]["create-queries"] == "query-builder-and-native"
            ]  # fmt: skip
            assert native == []
    assert set(dbs)  # the lookup above covered declared databases


def _id(reg) -> int:
    """The id the mocks gave this resource (see mfb_infra.program._fake_outputs)."""
    import hashlib

    return int(hashlib.sha256(reg.name.encode()).hexdigest()[:7], 16) + 1


def test_all_users_get_nothing_on_managed_collections_and_databases(production):
    (coll_perms,) = production.of_type(MB + "CollectionPermissions")
    (data,) = production.of_type(MB + "DataPermissions")
    coll_entries = [e for e in unwrap(coll_perms.inputs["entries"]) if e["group_id"] == 1]
    data_entries = [e for e in unwrap(data.inputs["entries"]) if e["group_id"] == 1]
    assert len(coll_entries) == len(production.of_type(MB + "Collection")) + 1
    assert {e["access"] for e in coll_entries} == {"none"}
    assert "root" in {e["collection_id"] for e in coll_entries}
    assert len(data_entries) == len(production.of_type(MB + "Database")) + 1
    assert "*" in {e["database_id"] for e in data_entries}  # and every unmanaged database
    assert {e["permissions"]["create-queries"] for e in data_entries} == {"no"}
    assert {e["permissions"]["download"]["schemas"] for e in data_entries} == {"none"}


def test_removing_a_tenant_removes_all_its_content(tenants):
    kept = [t for t in tenants if t["slug"] != "wa"]
    run = run_program(
        "production", {"tenants": kept}, secret_values={"metabaseBigquerySaKey": BQ_KEY}
    )
    metabase = [r for r in run.registrations if r.type.startswith(MB)]
    assert metabase
    assert not [r.name for r in metabase if "-wa-" in r.name]
    assert not [r.name for r in metabase if "Washington" in str(unwrap(r.inputs.get("name")))]


def test_adding_a_tenant_entry_adds_its_content(tenants):
    run = run_program(
        "production",
        {"tenants": [*tenants, {"slug": "ok", "whiteLabelId": 99}]},
        secret_values={"metabaseBigquerySaKey": BQ_KEY},
    )
    names = {unwrap(r.inputs.get("name")) for r in run.registrations if r.type.startswith(MB)}
    assert {"MFB PostgreSQL Ok", "Ok", "Ok Dashboard", "Ok Viewers", "Ok Editors"} <= names


def test_dashboard_urls_are_exported_per_tenant_and_global(production, tenants):
    from components.metabase_content.definitions import load_definitions

    urls = production.stack_outputs["metabaseDashboardUrls"]
    slugs = {t["slug"] for t in tenants}
    overlays = {o.key for o in load_definitions().overlays.overlays if o.tenant in slugs}
    assert overlays == {"cudenver", "cpal"}
    assert set(urls) == {"global"} | slugs | overlays
    assert all("/dashboard/" in u and not u.endswith("None") for u in urls.values())


def test_without_a_bigquery_key_no_bigquery_content_is_declared():
    run = run_program("production")
    names = {unwrap(r.inputs.get("name")) for r in run.of_type(MB + "Database")}
    assert "MFB BigQuery Analytics" not in names and names
