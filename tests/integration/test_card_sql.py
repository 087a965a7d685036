"""Every Metabase card's SQL on real marts: sample data + dbt on a throwaway PostgreSQL.

Tenant cards run as the tenant's own role (rows limited by the RLS policies dbt applies), global
cards as the owner. Variables are substituted the way Metabase does: an optional `[[ ]]` clause
is kept only when every variable in it has a value; a field filter (`tag_type: dimension`)
becomes the whole predicate on its column (`"schema"."table"."column" IN (...)`, or a date
range). A tenant card must return exactly what the owner gets for the same card with an explicit
`white_label_id = <id>` predicate.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal

import psycopg
import pytest
import yaml

from components.config import Tenant
from components.metabase_content.definitions import (
    DASHBOARDS_DIR,
    GLOBAL,
    OPTIONAL_CLAUSE_RE,
    VARIABLE_RE,
    ParameterDef,
    bind_columns,
    load_definitions,
    render,
    render_sql,
)
from mfb_infra.pgserver import PgServer
from mfb_infra.sample_data import TENANTS
from tests.integration.dbt_fixtures import (
    MART_SCHEMA,
    OWNER,
    OWNER_PW,
    TENANT_PW,
    DbtDb,
    grant_tenant_select,
    prepare_db,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

SCREENS = 3000
_names = itertools.count()
SCOPE_PARAM = "wl_scope"  # test-only parameter: the owner's explicit white_label_id predicate


@pytest.fixture(scope="module")
def built(pg_server: PgServer, tmp_path_factory) -> Iterator[DbtDb]:
    """Sample data + `dbt run` once for the module; tenant roles exist before dbt (policies)."""
    db = f"cards_{next(_names)}"
    pg_server.create_database(db)
    try:
        dbdb = prepare_db(pg_server, db, SCREENS, tmp_path_factory.mktemp("dbt-cards"))
        dbdb.run(["run"])
        grant_tenant_select(pg_server, db, [t.role_name for t in tenants()])
        yield dbdb
    finally:
        pg_server.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def tenants() -> list[Tenant]:
    return [Tenant(slug=s, white_label_id=wl, display_name=title) for s, wl, title, _ in TENANTS]


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


@pytest.fixture(scope="module")
def plan(defs):
    return render(defs, tenants(), schema=MART_SCHEMA, bigquery=False)


# ------------------------------------------------------------------------------ helpers
def literal(value: object) -> str:
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


@functools.cache
def _field_filters() -> dict[str, ParameterDef]:
    defs = load_definitions()
    return {p.id: p for p in defs.parameters.parameters if p.tag_type == "dimension"}


def field_filter_sql(p: ParameterDef, value: object) -> str:
    """The predicate Metabase substitutes for a field filter on `analytics.<filter_table>`:
    `string/=` → `col = 'a'` / `col IN ('a', 'b')`; `date/all-options` → `A~B` (specific
    dates, inclusive) or `pastNdays` (the N days before today)."""
    table = load_definitions().parameters.filter_table
    col = f'"{MART_SCHEMA}"."{table}"."{p.column}"'
    if p.type == "string/=":
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) == 1:
            return f"{col} = {literal(items[0])}"
        return f"{col} IN ({', '.join(literal(v) for v in items)})"
    if p.type == "date/all-options":
        text = str(value)
        past = re.fullmatch(r"past(\d+)days", text)
        if past:
            n = int(past.group(1))
            return f"({col} >= CURRENT_DATE - {n} AND {col} < CURRENT_DATE)"
        start, end = (dt.date.fromisoformat(x) for x in text.split("~"))
        return f"({col} >= {literal(start)} AND {col} < {literal(end + dt.timedelta(days=1))})"
    raise AssertionError(f"no field-filter rendering for {p.type}")


def metabase_substitute(sql: str, values: Mapping[str, object]) -> str:
    """Keep `[[ ]]` clauses whose variables all have values, drop the rest; fill variables
    (field filters with their whole predicate)."""
    fields = _field_filters()

    def clause(m: re.Match[str]) -> str:
        names = VARIABLE_RE.findall(m.group(1))
        return m.group(1) if all(n in values for n in names) else ""

    sql = OPTIONAL_CLAUSE_RE.sub(clause, sql)
    missing = sorted(set(VARIABLE_RE.findall(sql)) - set(values))
    assert not missing, f"required variables without a value: {missing}"
    return VARIABLE_RE.sub(
        lambda m: (
            field_filter_sql(fields[m.group(1)], values[m.group(1)])
            if m.group(1) in fields
            else literal(values[m.group(1)])
        ),
        sql,
    )


def query(dbdb: DbtDb, sql: str, user: str, password: str) -> list[tuple]:
    with psycopg.connect(dbdb.pg.dsn(dbdb.db, user, password), autocommit=True) as conn:
        conn.execute("SET statement_timeout = '30s'")
        return [tuple(_norm(v) for v in row) for row in conn.execute(sql).fetchall()]


def _norm(v: object) -> object:
    return float(v) if isinstance(v, Decimal) else v


def owner_scoped_sql(defs, card, white_label_id: int) -> str:
    """The card's tenant SQL with an explicit white_label_id predicate on the filter table."""
    params = dict(defs.parameter_by_id)
    params[SCOPE_PARAM] = ParameterDef(
        id=SCOPE_PARAM, name="scope", type="number/=", tag_type="number", slot="partner",
        column="white_label_id", operator="=",
    )  # fmt: skip
    source = defs.cards.cards[card.key]
    available = {*card.template_tags, SCOPE_PARAM}  # the filters the tenant's card has
    return render_sql(
        bind_columns(defs.sql[source.sql], source.bind), engine="postgres", schema=MART_SCHEMA,
        params=params, available=available, filter_table=defs.parameters.filter_table,
        window_days=source.window_days,
    )  # fmt: skip


def tenant_cards(plan, slug: str):
    return [c for c in plan.cards if c.scope == slug]


def filter_values(dbdb: DbtDb, white_label_id: int) -> dict[str, object]:
    """A partner and a county that this tenant really has, and a date range inside its data."""
    rows = dbdb.rows(
        "SELECT partner, county, min(submission_date), max(submission_date) "
        f"FROM {MART_SCHEMA}.mart_screener_data WHERE white_label_id = {white_label_id} "
        "GROUP BY partner, county ORDER BY count(*) DESC LIMIT 1"
    )
    partner, county, first, last = rows[0]
    values: dict[str, object] = {
        "partner": [partner, "(no such partner)"],  # multi-select: IN (...)
        "county": [county],
        "date_range": f"{first + (last - first) / 4}~{last}",
    }
    utm = dbdb.rows(
        f"SELECT utm_source FROM {MART_SCHEMA}.mart_screener_data "
        f"WHERE white_label_id = {white_label_id} AND partner = {literal(partner)} "
        f"AND county = {literal(county)} AND coalesce(utm_source, '') <> '' "
        "GROUP BY utm_source ORDER BY count(*) DESC LIMIT 1"
    )
    if utm:  # only tenants with UTM filters have the variable; the others ignore the value
        values["utm_source"] = [utm[0][0]]
    return values


SCOPED_TENANTS = [t for t in TENANTS if t[3] >= 0.05]  # tenants with enough sample rows


# ------------------------------------------------------------------------------ tests
def test_column_contract_exists_in_the_built_marts(built: DbtDb):
    contract = yaml.safe_load((DASHBOARDS_DIR / "content" / "marts.yaml").read_text())["postgres"]
    rows = built.rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        f"WHERE table_schema = '{MART_SCHEMA}'"
    )
    real: dict[str, set[str]] = {}
    for table, column in rows:
        real.setdefault(table, set()).add(column)
    missing = {t: sorted(set(cols) - real.get(t, set())) for t, cols in contract.items()}
    assert {t: c for t, c in missing.items() if c} == {}


def test_every_global_card_runs_as_the_owner(built: DbtDb, plan):
    ran = 0
    for card in plan.cards:
        if card.scope == GLOBAL:
            query(built, metabase_substitute(card.sql, {}), OWNER, OWNER_PW)
            ran += 1
    assert ran >= 20


def test_global_completed_screeners_counts_every_white_label(built: DbtDb, plan):
    card = plan.card((GLOBAL, "completed_screeners"))
    (row,) = query(built, metabase_substitute(card.sql, {}), OWNER, OWNER_PW)
    ((total,),) = built.rows(f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data")
    assert row == (total,) and total > 0


@pytest.mark.parametrize("slug,white_label_id", [(t[0], t[1]) for t in TENANTS])
def test_every_tenant_card_runs_as_the_tenant_role_without_filters(
    built, plan, slug, white_label_id
):
    role = Tenant(slug=slug, white_label_id=white_label_id).role_name
    cards = tenant_cards(plan, slug)
    assert cards
    for card in cards:
        query(built, metabase_substitute(card.sql, {}), role, TENANT_PW)


@pytest.mark.parametrize("with_filters", [False, True], ids=["no-filters", "all-filters"])
@pytest.mark.parametrize("slug,white_label_id", [(t[0], t[1]) for t in SCOPED_TENANTS])
def test_tenant_card_results_equal_owner_results_with_explicit_where(
    built, defs, plan, slug, white_label_id, with_filters
):
    role = Tenant(slug=slug, white_label_id=white_label_id).role_name
    values = filter_values(built, white_label_id) if with_filters else {}
    compared = 0
    for card in tenant_cards(plan, slug):
        if "{{" not in defs.sql[defs.cards.cards[card.key].sql]:
            continue  # filter helpers: no slots to scope by (run by the test above)
        as_tenant = query(built, metabase_substitute(card.sql, values), role, TENANT_PW)
        scoped = metabase_substitute(
            owner_scoped_sql(defs, card, white_label_id), {**values, SCOPE_PARAM: white_label_id}
        )
        as_owner = query(built, scoped, OWNER, OWNER_PW)
        assert as_tenant == as_owner, f"{slug}/{card.key}: tenant role and owner+WHERE differ"
        compared += 1
    assert compared >= 20


def test_overlay_cards_as_the_tenant_role_equal_the_owner_with_explicit_where(built, defs, plan):
    """Referrer overlays run on their tenant's connection: RLS + the SQL's baked-in scope."""
    overlays = [s for s in plan.scopes if s.kind == "overlay"]
    assert {s.reads for s in overlays} == {"co", "tx"}
    for scope in overlays:
        cards = [c for c in plan.cards if c.scope == scope.key]
        assert len(cards) >= 10
        for card in cards:
            as_tenant = query(built, metabase_substitute(card.sql, {}), scope.role_name, TENANT_PW)
            scoped = metabase_substitute(
                owner_scoped_sql(defs, card, scope.white_label_id),
                {SCOPE_PARAM: scope.white_label_id},
            )
            assert as_tenant == query(built, scoped, OWNER, OWNER_PW), f"{scope.key}/{card.key}"


@pytest.mark.parametrize("slug,white_label_id", [(t[0], t[1]) for t in SCOPED_TENANTS])
def test_tenant_sees_its_own_screeners_only(built, plan, slug, white_label_id):
    role = Tenant(slug=slug, white_label_id=white_label_id).role_name
    card = plan.card((slug, "completed_screeners"))
    (row,) = query(built, metabase_substitute(card.sql, {}), role, TENANT_PW)
    ((own,),) = built.rows(
        f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data "
        f"WHERE white_label_id = {white_label_id}"
    )
    ((total,),) = built.rows(f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data")
    assert row == (own,) and 0 < own < total


def test_utm_source_filter_narrows_nc_cards_but_not_the_households_medians(built, plan):
    role = Tenant(slug="nc", white_label_id=5).role_name
    (source, n), *_ = built.rows(
        f"SELECT utm_source, count(*) FROM {MART_SCHEMA}.mart_screener_data "
        "WHERE white_label_id = 5 AND coalesce(utm_source, '') <> '' "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )

    def run(key: str, values: dict) -> list[tuple]:
        return query(
            built, metabase_substitute(plan.card(("nc", key)).sql, values), role, TENANT_PW
        )

    assert run("completed_screeners", {"utm_source": [source]}) == [(n,)]
    assert run("completed_screeners", {})[0][0] > n
    median = run("household_size_median", {})
    assert run("household_size_median", {"utm_source": [source]}) == median


def test_partner_filter_values_are_the_tenants_own(built, plan):
    slug, white_label_id = SCOPED_TENANTS[0][0], SCOPED_TENANTS[0][1]
    role = Tenant(slug=slug, white_label_id=white_label_id).role_name
    card = plan.card((slug, "partner_values"))
    listed = {r[0] for r in query(built, metabase_substitute(card.sql, {}), role, TENANT_PW)}
    others = {
        r[0]
        for r in built.rows(
            f"SELECT DISTINCT partner FROM {MART_SCHEMA}.mart_referrer_codes "
            f"WHERE white_label_id <> {white_label_id} AND partner NOT IN ("
            f"SELECT partner FROM {MART_SCHEMA}.mart_referrer_codes "
            f"WHERE white_label_id = {white_label_id})"
        )
    }
    assert listed and not (listed & others)


def test_window_cards_keep_only_screeners_inside_the_window(built, defs):
    """A window wide enough to hold every screener equals the unwindowed card; one day, none."""
    raw = defs.sql["completed_screeners.sql"]

    def count(window_days: int | None) -> int:
        sql = render_sql(
            raw, engine="postgres", schema=MART_SCHEMA, params=defs.parameter_by_id,
            available=set(), filter_table=defs.parameters.filter_table, window_days=window_days,
        )  # fmt: skip
        return query(built, sql, OWNER, OWNER_PW)[0][0]

    ((oldest,),) = built.rows(
        f"SELECT CURRENT_DATE - min(submission_date) FROM {MART_SCHEMA}.mart_screener_data"
    )
    ((future,),) = built.rows(
        f"SELECT count(*) FROM {MART_SCHEMA}.mart_screener_data "
        "WHERE submission_date > CURRENT_DATE - 1"
    )
    assert count(oldest + 1) == count(None) > 0
    assert count(1) == future
