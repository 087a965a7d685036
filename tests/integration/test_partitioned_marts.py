"""The EXPLAIN side channel, closed: tenant marts LIST-partitioned by white_label_id.

On one table holding every white label, a tenant's EXPLAIN ANALYZE counts the other tenants'
rows its scan read ("Rows Removed by Filter"), and its row estimates come from statistics over
every white label. With the marts partitioned (dbt/macros/postgres/partitioned.sql), the policy
literal prunes every other partition: a tenant's plan reads, counts and estimates from its own
partition only. Each defence test has a control on a non-partitioned (or naively partitioned)
copy of the same mart, where the same probe shows the leak.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import psycopg
import pytest

from mfb_infra.pgserver import PgServer
from tests.integration.dbt_fixtures import (
    MART_SCHEMA,
    TENANT_PW,
    TENANT_ROLES,
    DbtDb,
    diff_counts,
    grant_sources,
    grant_tenant_select,
    postgres_mart_names,
    prepare_db,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

SCREENS = 3000
PART_SCHEMA = f"{MART_SCHEMA}_internal"
MART = "mart_screener_data"
TENANT, TENANT_ID = "wl_ma_38_ro", 38  # a small tenant: most rows of every mart are others'
BIG_TENANT_ID = 1  # co, the largest share
_names = itertools.count()

# Card-like query shapes a tenant can run. The policy filters on white_label_id; the last one
# asks for another white label as well.
QUERIES = {
    "no where": "SELECT count(*) FROM analytics.mart_screener_data",
    "own where on a range": (
        "SELECT count(*) FROM analytics.mart_screener_data "
        "WHERE submission_date >= DATE '2026-05-01'"
    ),
    "aggregate": (
        "SELECT county, count(*), avg(monthly_income) FROM analytics.mart_screener_data "
        "GROUP BY county"
    ),
    "join of two marts": (
        "SELECT s.county, count(*) FROM analytics.mart_screener_data s "
        "JOIN analytics.mart_householdmembers h ON h.screener_id = s.id GROUP BY 1"
    ),
    "join + range + distinct": (
        "SELECT count(DISTINCT q.benefit_name) FROM analytics.mart_qualified_benefits q "
        "JOIN analytics.mart_income i ON i.screen_id = q.screen_id "
        "WHERE q.submission_date >= DATE '2026-01-01'"
    ),
    "other tenant's id asked for": (
        f"SELECT count(*) FROM analytics.mart_screener_data WHERE white_label_id = {BIG_TENANT_ID}"
    ),
}
# an attacker turns off index scans so every scan reads whole relations
ATTACKER_SETTINGS = "SET enable_indexscan = off; SET enable_bitmapscan = off; SET jit = off"


def _new_db(pg: PgServer, prefix: str) -> str:
    name = f"{prefix}_{next(_names)}"
    pg.create_database(name)
    return name


@pytest.fixture(scope="module")
def dbdb(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    db = _new_db(pg_server, "dbt_part")
    dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("dbt_part"))
    result = dbdb.run(["build"], check=False)
    if result.returncode != 0:
        pytest.fail("dbt build failed:\n" + result.stdout[-4000:])
    grant_tenant_select(pg_server, db, list(TENANT_ROLES))
    yield dbdb
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _tenant(dbdb: DbtDb, role: str = TENANT):
    return psycopg.connect(dbdb.pg.dsn(dbdb.db, role, TENANT_PW), autocommit=True)


def _partitions(dbdb: DbtDb, mart: str) -> dict[str, tuple[str, str]]:
    """partition name -> (schema, bound) of a mart."""
    return {
        name: (schema, bound)
        for name, schema, bound in dbdb.rows(
            "SELECT c.relname, n.nspname, pg_get_expr(c.relpartbound, c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE i.inhparent = '{MART_SCHEMA}.{mart}'::regclass"
        )
    }


def _rows_per_relation(dbdb: DbtDb, tables: list[str]) -> dict[str, int]:
    return {t: dbdb.rows(f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def _scan_nodes(plan: dict) -> Iterator[dict]:
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            yield node
        stack.extend(node.get("Plans", []))


def _foreign_rows_in_plan(plan: list, own: dict[str, int]) -> list[str]:
    """What an EXPLAIN ANALYZE plan tells about rows that are not the tenant's: a scan of a
    relation other than the tenant's own (partitions), or a scan that read (returned plus
    removed) more rows of a relation than the tenant has there."""
    leaks = []
    for node in _scan_nodes(plan):
        rel = node["Relation Name"]
        read = (
            node.get("Actual Rows", 0)
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        ) / max(1, node.get("Actual Loops", 1))
        if rel not in own:
            leaks.append(f"{node['Node Type']} on {rel} (not the tenant's)")
        elif read > own[rel]:
            leaks.append(
                f"{node['Node Type']} on {rel} read {read:.0f} rows, tenant has {own[rel]}"
            )
    return leaks


def _explain(conn, sql: str, analyze: bool) -> list:
    opts = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    return conn.execute(f"EXPLAIN ({opts}) {sql}").fetchone()[0]


def _own_partitions(dbdb: DbtDb, white_label_id: int) -> dict[str, int]:
    """The tenant's partitions of every mart -> its rows there."""
    own = {}
    for mart in postgres_mart_names():
        for name, (schema, bound) in _partitions(dbdb, mart).items():
            if bound == f"FOR VALUES IN ('{white_label_id}')":
                own[name] = dbdb.rows(f"SELECT count(*) FROM {schema}.{name}")[0][0]
    return own


# --- the build -------------------------------------------------------------------------------
def test_every_mart_is_list_partitioned_by_white_label_id(dbdb):
    keys = dict(
        dbdb.rows(
            "SELECT c.relname, p.partstrat::text || ':' || a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            f"WHERE c.relnamespace = '{MART_SCHEMA}'::regnamespace"
        )
    )
    assert {m: keys.get(m) for m in postgres_mart_names()} == {
        m: "l:white_label_id" for m in postgres_mart_names()
    }


@pytest.mark.parametrize("mart", postgres_mart_names())
def test_one_partition_per_white_label_in_the_internal_schema(dbdb, mart):
    ids = {wl for (wl,) in dbdb.rows(f"SELECT DISTINCT white_label_id FROM analytics.{mart}")}
    assert _partitions(dbdb, mart) == {
        f"{mart}_wl{wl}": (PART_SCHEMA, f"FOR VALUES IN ('{wl}')") for wl in ids
    }


def test_no_default_partition(dbdb):
    defaults = dbdb.rows("SELECT partdefid FROM pg_partitioned_table WHERE partdefid <> 0")
    assert defaults == []


def test_rls_and_policies_sit_on_the_parent_and_every_partition_denies_direct_reads(dbdb):
    for mart in postgres_mart_names():
        (rls, policies) = dbdb.rows(
            "SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) "
            f"FROM pg_class c WHERE c.oid = 'analytics.{mart}'::regclass"
        )[0]
        assert rls and policies >= len(TENANT_ROLES), mart
        for name, (schema, _bound) in _partitions(dbdb, mart).items():
            assert dbdb.rows(
                "SELECT relrowsecurity, "
                "(SELECT count(*) = 0 FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner), "
                "(SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) "
                f"FROM pg_class c WHERE c.oid = '{schema}.{name}'::regclass"
            ) == [(True, True, 0)], name


def test_tenant_select_on_a_partition_is_refused(dbdb):
    parts = _partitions(dbdb, "mart_screener_data")
    with _tenant(dbdb) as conn:
        for name, (schema, _bound) in parts.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {schema}.{name}")
    # control: the partitions exist and hold rows (the owner reads them)
    assert sum(_rows_per_relation(dbdb, [f"{s}.{n}" for n, (s, _) in parts.items()]).values())


def test_a_partition_granted_by_mistake_still_shows_a_tenant_nothing(dbdb):
    other = f"mart_screener_data_wl{BIG_TENANT_ID}"
    dbdb.rows(
        f"GRANT USAGE ON SCHEMA {PART_SCHEMA} TO {TENANT}; "
        f"GRANT SELECT ON {PART_SCHEMA}.{other} TO {TENANT}"
    )
    try:
        with _tenant(dbdb) as conn:
            seen = conn.execute(f"SELECT count(*) FROM {PART_SCHEMA}.{other}").fetchone()[0]
    finally:
        dbdb.rows(
            f"REVOKE SELECT ON {PART_SCHEMA}.{other} FROM {TENANT}; "
            f"REVOKE USAGE ON SCHEMA {PART_SCHEMA} FROM {TENANT}"
        )
    assert seen == 0
    assert dbdb.rows(f"SELECT count(*) > 0 FROM {PART_SCHEMA}.{other}") == [(True,)]


def test_the_next_incremental_run_revokes_a_grant_on_a_partition(dbdb):
    """An incremental run keeps its partitions (a full build makes new ones): a grant someone
    put on one is revoked by the next run."""
    part = f"{PART_SCHEMA}.mart_income_wl{BIG_TENANT_ID}"
    dbdb.rows(f"GRANT SELECT ON {part} TO PUBLIC, {TENANT}")
    (oid,) = dbdb.rows(f"SELECT '{part}'::regclass::oid")[0]
    dbdb.run(["run", "--select", "mart_income"])
    assert dbdb.rows(
        "SELECT c.oid, (SELECT count(*) FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)"
        f" FROM pg_class c WHERE c.oid = {oid}"
    ) == [(oid, 0)]


# --- EXPLAIN ANALYZE: only the tenant's partition ------------------------------------------
@pytest.mark.parametrize("attacker", [False, True], ids=["default plan", "seq scans forced"])
@pytest.mark.parametrize("query", sorted(QUERIES))
def test_tenant_explain_analyze_shows_only_its_own_partition(dbdb, query, attacker):
    own = _own_partitions(dbdb, TENANT_ID)
    with _tenant(dbdb) as conn:
        if attacker:
            conn.execute(ATTACKER_SETTINGS)
        plan = _explain(conn, QUERIES[query], analyze=True)
    assert _foreign_rows_in_plan(plan, own) == []
    text = json.dumps(plan)
    foreign = [
        name
        for mart in postgres_mart_names()
        for name in _partitions(dbdb, mart)
        if name not in own and f'"{name}"' in text
    ]
    assert foreign == []


def test_a_prepared_statements_generic_plan_reads_only_the_tenants_partition(dbdb):
    """Metabase's JDBC driver prepares statements server-side: the generic plan (parameters
    unknown at planning) is pruned by the policy's literal just the same."""
    own = _own_partitions(dbdb, TENANT_ID)
    with _tenant(dbdb) as conn:
        conn.execute(ATTACKER_SETTINGS + "; SET plan_cache_mode = force_generic_plan")
        conn.execute(
            "PREPARE card(date) AS SELECT county, count(*) FROM analytics.mart_screener_data "
            "WHERE submission_date >= $1 GROUP BY county"
        )
        plan = _explain(conn, "EXECUTE card('2026-01-01')", analyze=True)
    assert _foreign_rows_in_plan(plan, own) == []
    assert {n["Relation Name"] for n in _scan_nodes(plan)} == {f"mart_screener_data_wl{TENANT_ID}"}


@pytest.fixture(scope="module")
def flat_copy(dbdb) -> Iterator[str]:
    """Control: the same mart as one table (the previous design: RLS + the same literal policy
    + a white_label_id index)."""
    t = "analytics.control_flat_screener_data"
    dbdb.rows(
        f"CREATE TABLE {t} AS TABLE analytics.mart_screener_data; "
        f"CREATE INDEX ON {t} (white_label_id); ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; "
        f"CREATE POLICY {TENANT} ON {t} FOR SELECT TO {TENANT} "
        f"USING (white_label_id = {TENANT_ID}); GRANT SELECT ON {t} TO {TENANT}; ANALYZE {t}"
    )
    yield t
    dbdb.rows(f"DROP TABLE {t}")


def test_control_one_table_tells_the_tenant_about_other_tenants_rows(dbdb, flat_copy):
    own_sql = f"SELECT count(*) FROM {flat_copy} WHERE white_label_id = {TENANT_ID}"
    (own_rows,) = dbdb.rows(own_sql)[0]
    sql = QUERIES["own where on a range"].replace("analytics.mart_screener_data", flat_copy)
    with _tenant(dbdb) as conn:
        conn.execute(ATTACKER_SETTINGS)
        plan = _explain(conn, sql, analyze=True)
    leaks = _foreign_rows_in_plan(plan, {flat_copy.split(".")[1]: own_rows})
    assert leaks, json.dumps(plan, indent=1)
    (total,) = dbdb.rows(f"SELECT count(*) FROM {flat_copy}")[0]
    (node,) = list(_scan_nodes(plan))
    assert node["Actual Rows"] + node["Rows Removed by Filter"] == total  # every tenant's rows


# --- statistics a tenant can read ------------------------------------------------------------
def test_tenant_sees_no_statistics_of_any_mart_or_partition(dbdb):
    dbdb.rows("ANALYZE")
    probe = (
        "SELECT count(*) FROM pg_stats "
        f"WHERE schemaname IN ('{MART_SCHEMA}', '{PART_SCHEMA}') AND tablename LIKE 'mart\\_%'"
    )
    with _tenant(dbdb) as conn:
        assert conn.execute(probe).fetchone()[0] == 0
    # control: the statistics exist (the superuser sees them), and a table the tenant may read
    # without row level security shows the tenant its statistics
    assert dbdb.rows(probe)[0][0] > 0
    t = "analytics.control_plain_stats"
    dbdb.rows(
        f"CREATE TABLE {t} AS SELECT g AS v FROM generate_series(1, 100) g; "
        f"GRANT SELECT ON {t} TO {TENANT}; ANALYZE {t}"
    )
    try:
        with _tenant(dbdb) as conn:
            seen = conn.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'control_plain_stats'"
            ).fetchone()[0]
        assert seen == 1
    finally:
        dbdb.rows(f"DROP TABLE {t}")


def test_no_inherited_statistics_on_a_parent_even_after_a_database_wide_analyze(dbdb):
    dbdb.rows("ANALYZE")
    inherited = dbdb.rows(
        f"SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = '{MART_SCHEMA}' "
        "AND inherited AND tablename LIKE 'mart\\_%'"
    )
    assert inherited == []
    per_partition = {
        t
        for (t,) in dbdb.rows(
            f"SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = '{PART_SCHEMA}' "
            "AND NOT inherited AND tablename LIKE 'mart\\_screener\\_data\\_wl%'"
        )
    }
    assert per_partition == set(_partitions(dbdb, "mart_screener_data"))


# --- estimates: from the tenant's partition only --------------------------------------------
ESTIMATE_PROBES = {
    "value only another tenant has": ("SELECT count(*) FROM {t} WHERE county = 'Zzyzx Springs'"),
    "group estimate": "SELECT county, count(*) FROM {t} GROUP BY county",
    "distinct partners": "SELECT partner, count(*) FROM {t} GROUP BY partner",
    "range": "SELECT count(*) FROM {t} WHERE household_size >= 9",
}


def _estimates(dbdb: DbtDb, table: str) -> dict[str, list]:
    with _tenant(dbdb) as conn:
        return {k: _explain(conn, q.format(t=table), False) for k, q in ESTIMATE_PROBES.items()}


def _change_other_tenants_data(dbdb: DbtDb, table: str) -> None:
    """The owner adds rows to another white label (a county and household sizes this tenant does
    not have), then a database-wide ANALYZE runs as a DBA would (vacuumdb -Z)."""
    dbdb.rows(
        f"INSERT INTO {table} SELECT (s).* FROM (SELECT s FROM {table} s "
        f"WHERE white_label_id = {BIG_TENANT_ID} LIMIT 400) x"
    )
    dbdb.rows(
        f"UPDATE {table} SET county = 'Zzyzx Springs', household_size = 12, "
        f"partner = 'Partner ' || (id % 50) WHERE white_label_id = {BIG_TENANT_ID}"
    )
    dbdb.rows("ANALYZE")


@pytest.fixture(scope="module")
def naive_partitioned_copy(dbdb) -> Iterator[str]:
    """Control: the mart partitioned the same way, but with the parent's default statistics
    target, so ANALYZE also keeps inherited statistics over every white label on the parent."""
    t = f"{MART_SCHEMA}.control_naive_screener_data"
    ids = [wl for (wl,) in dbdb.rows(f"SELECT DISTINCT white_label_id FROM {MART_SCHEMA}.{MART}")]
    parts = "; ".join(
        f"CREATE TABLE {PART_SCHEMA}.control_naive_wl{wl} PARTITION OF {t} FOR VALUES IN ({wl})"
        for wl in ids
    )
    dbdb.rows(
        f"CREATE TABLE {t} (LIKE analytics.mart_screener_data) PARTITION BY LIST (white_label_id); "
        f"{parts}; INSERT INTO {t} SELECT * FROM analytics.mart_screener_data; "
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; "
        f"CREATE POLICY {TENANT} ON {t} FOR SELECT TO {TENANT} "
        f"USING (white_label_id = {TENANT_ID}); GRANT SELECT ON {t} TO {TENANT}; ANALYZE {t}"
    )
    yield t
    dbdb.rows(f"DROP TABLE {t}")


def test_tenant_estimates_do_not_move_when_other_tenants_data_changes(
    dbdb, flat_copy, naive_partitioned_copy
):
    """Runs last in the module (it changes a mart): the tenant's plans, estimates and costs
    included, are the same before and after another white label's rows change."""
    tables = ("analytics.mart_screener_data", flat_copy, naive_partitioned_copy)
    before = {t: _estimates(dbdb, t) for t in tables}
    for t in tables:
        _change_other_tenants_data(dbdb, t)
    after = {t: _estimates(dbdb, t) for t in tables}
    moved = {t: [k for k in ESTIMATE_PROBES if after[t][k] != before[t][k]] for t in tables}
    assert moved["analytics.mart_screener_data"] == []
    # controls: one table moves on every probe; inherited statistics move the group estimates
    assert moved[flat_copy] == list(ESTIMATE_PROBES)
    assert "group estimate" in moved[naive_partitioned_copy]


# --- a white label seen for the first time, incremental vs full refresh ---------------------
NEW_WL = 77


@pytest.fixture(scope="module")
def new_white_label(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    """Build; move 30 screens to a white label no mart has seen, as a re-submission (their
    submission_date moves past every other change); run incrementally; snapshot; full refresh."""
    db = _new_db(pg_server, "dbt_part_new")
    dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("dbt_part_new"))
    dbdb.run(["run"])
    dbdb.rows(
        "INSERT INTO public.screener_whitelabel (id, name, code) "
        f"VALUES ({NEW_WL}, 'New State', 'ns'); "
        f"UPDATE public.screener_screen SET white_label_id = {NEW_WL}, "
        "submission_date = (SELECT max(submission_date) FROM public.screener_screen) "
        "+ interval '1 hour' WHERE id IN (SELECT id FROM public.screener_screen "
        "WHERE completed AND NOT is_test AND is_test_data IS NOT TRUE ORDER BY id LIMIT 30)"
    )
    grant_sources(pg_server, db)
    dbdb.run(["run"])
    dbdb.rows("DROP SCHEMA IF EXISTS incremental CASCADE; CREATE SCHEMA incremental")
    for mart in postgres_mart_names():
        dbdb.rows(f"CREATE TABLE incremental.{mart} AS TABLE {MART_SCHEMA}.{mart}")
    dbdb.run(["run", "--full-refresh"])
    yield dbdb
    pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_incremental_run_gives_a_new_white_label_its_own_partition(new_white_label):
    parts = _partitions(new_white_label, "mart_screener_data")
    assert parts[f"mart_screener_data_wl{NEW_WL}"] == (PART_SCHEMA, f"FOR VALUES IN ('{NEW_WL}')")
    (rows,) = new_white_label.rows(
        f"SELECT count(*) FROM incremental.mart_screener_data WHERE white_label_id = {NEW_WL}"
    )[0]
    assert rows > 0


@pytest.mark.parametrize("mart", postgres_mart_names())
def test_incremental_with_a_new_white_label_equals_full_refresh(new_white_label, mart):
    assert diff_counts(new_white_label, "incremental", MART_SCHEMA, mart) == (0, 0)


def test_full_refresh_leaves_only_the_new_tables_partitions(new_white_label):
    """After the swap the partitions carry the final table's name; the old table and its
    partitions are gone (nothing named __dbt_tmp, __dbt_backup or _old_ remains)."""
    left = new_white_label.rows(
        "SELECT relname FROM pg_class "
        f"WHERE relnamespace IN ('{MART_SCHEMA}'::regnamespace, '{PART_SCHEMA}'::regnamespace) "
        "AND (relname LIKE '%\\_\\_dbt\\_%' OR relname LIKE '%\\_old\\_%')"
    )
    assert left == []
    (orphans,) = new_white_label.rows(
        "SELECT count(*) FROM pg_class c WHERE c.relkind = 'r' "
        f"AND c.relnamespace = '{PART_SCHEMA}'::regnamespace AND c.relname LIKE 'mart\\_%' "
        "AND NOT c.relispartition"
    )[0]
    assert orphans == 0
