"""Metabase content definitions (dashboards/content + dashboards/sql), without Metabase."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

from components.config import StackConfig
from components.metabase_content.definitions import (
    GLOBAL,
    GRID_COLUMNS,
    DefinitionError,
    ParameterDef,
    cross_check,
    load_definitions,
    mapping_target,
    render,
    render_for_config,
)

REPO = Path(__file__).resolve().parents[2]
DBT_MODELS = REPO / "dbt" / "models"
STACKS = ("staging", "production")


def stack_config(stack: str, **changes) -> StackConfig:
    doc = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in doc.items() if not isinstance(v, dict)}
    raw.update(changes)
    return StackConfig.from_mapping(raw, stack)


@pytest.fixture(scope="module")
def defs():
    return load_definitions()


@pytest.fixture(scope="module", params=STACKS)
def plan(request, defs):
    """Each stack, with BigQuery content on (the superset of what can be rendered)."""
    return render_for_config(stack_config(request.param), defs, bigquery=True)


def tenant_scopes(plan):
    return [s for s in plan.scopes if s.kind == "tenant"]


def substitute(sql: str) -> str:
    """Every optional clause kept, every variable given a value (the widest query Metabase runs)."""
    sql = re.sub(r"\[\[(.*?)\]\]", r"\1", sql, flags=re.S)
    return re.sub(r"\{\{\s*\w+\s*\}\}", "'2024-01-01'", sql)


def engine_of(plan, card) -> str:
    return next(d.engine for d in plan.databases if d.ref == card.database)


def dbt_marts(engine: str) -> set[str]:
    return {p.stem for p in (DBT_MODELS / engine / "marts").rglob("*.sql")}


def dbt_yml_columns(engine: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in (DBT_MODELS / engine / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            out.setdefault(model["name"], set()).update(
                c["name"] for c in model.get("columns") or []
            )
    return out


def mart_schema(plan, engine: str) -> dict:
    """sqlglot schema: the content's column contract plus what the dbt yml documents."""
    contract = yaml.safe_load((REPO / "dashboards/content/marts.yaml").read_text())[engine]
    documented = dbt_yml_columns(engine)
    tables = {
        t: {c: "TEXT" for c in set(cols) | documented.get(t, set())} for t, cols in contract.items()
    }
    if engine == "postgres":
        return {plan.schema: tables}
    project, dataset = plan.extra["bq_dataset"].split(".", 1)
    return {project: {dataset: tables}}


# ------------------------------------------------------------------------------ files
def test_definitions_load_and_validate(defs):
    assert defs.cards.cards and defs.dashboards and defs.sql


def test_every_sql_file_is_used_by_a_card(defs):
    used = {c.sql for c in defs.cards.cards.values()}
    assert set(defs.sql) - used == set()


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "dashboards"
    shutil.copytree(REPO / "dashboards" / "content", root / "content")
    shutil.copytree(REPO / "dashboards" / "sql", root / "sql")
    return root


def test_bad_field_error_names_file_and_field(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "cards.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["cards"]["completed_screeners"]["display"] = "sparkline"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError) as err:
        load_definitions(root)
    assert "content/cards.yaml: cards.completed_screeners.display" in str(err.value)


def test_unknown_card_on_a_dashboard_is_reported_with_its_place(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "dashboards" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["tabs"][0]["rows"][0]["items"][0]["card"] = "no_such_card"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError) as err:
        load_definitions(root)
    assert "dashboards/tenant.yaml: tabs.summary.rows.0.items.0.card" in str(err.value)


def test_tenant_database_with_admin_credential_is_rejected(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "databases.yaml"
    doc = yaml.safe_load(path.read_text())
    for db in doc["databases"]:
        if db["scope"] == "tenant":
            db["credential"] = "admin"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError) as err:
        load_definitions(root)
    assert "databases.yaml: databases.1.credential" in str(err.value)


def test_row_wider_than_the_grid_is_rejected(tmp_path, defs):
    root = _copy_tree(tmp_path)
    path = root / "content" / "dashboards" / "global.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["tabs"][0]["rows"][1]["items"].append({"card": "top_counties", "width": 1})
    doc["tabs"][0]["rows"][1]["items"][0]["width"] = 24
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError, match=r"global\.yaml: tabs\.summary\.rows\.1"):
        render_for_config(stack_config("staging"), load_definitions(root), bigquery=False)


# ------------------------------------------------------------------------------ SQL vs dbt
def test_postgres_cards_read_only_dbt_marts(plan):
    marts = dbt_marts("postgres")
    for card in plan.cards:
        if engine_of(plan, card) != "postgres":
            continue
        tree = sqlglot.parse_one(substitute(card.sql), dialect="postgres")
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if table.name in ctes or not table.name:
                continue
            assert table.db == plan.schema, f"{card.source}: {table.sql()} is not in {plan.schema}"
            assert table.name in marts, f"{card.source}: {table.name} is not a dbt mart"


def test_bigquery_cards_read_only_dbt_marts(plan):
    marts = dbt_marts("bigquery")
    bq_cards = [c for c in plan.cards if engine_of(plan, c) == "bigquery"]
    assert bq_cards, "BigQuery rendering is on: GA cards expected"
    for card in bq_cards:
        tree = sqlglot.parse_one(substitute(card.sql), dialect="bigquery")
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if table.name in ctes or not table.name or isinstance(table.this, exp.Unnest):
                continue
            assert table.name in marts, f"{card.source}: {table.name} is not a dbt BigQuery mart"


@pytest.mark.parametrize("engine", ["postgres", "bigquery"])
def test_column_contract_names_only_dbt_marts(engine):
    contract = yaml.safe_load((REPO / "dashboards/content/marts.yaml").read_text())[engine]
    assert set(contract) - dbt_marts(engine) == set()


def test_every_card_column_exists_in_its_mart(plan):
    schemas = {e: mart_schema(plan, e) for e in ("postgres", "bigquery")}
    for card in plan.cards:
        engine = engine_of(plan, card)
        tree = sqlglot.parse_one(substitute(card.sql), dialect=engine)
        try:
            qualify(tree, schema=schemas[engine], dialect=engine, validate_qualify_columns=True)
        except sqlglot.errors.OptimizeError as exc:
            pytest.fail(f"{card.scope}/{card.key} ({card.source}): {exc}")


def test_filter_clauses_sit_in_blocks_that_read_the_unaliased_filter_table(plan):
    table = "mart_screener_data"
    for card in plan.cards:
        if card.scope == GLOBAL or engine_of(plan, card) != "postgres":
            continue
        tree = sqlglot.parse_one(substitute(card.sql), dialect="postgres")
        for col in tree.find_all(exp.Column):
            if col.table != table or col.args.get("db") is None:
                continue  # only the fully qualified predicates the filters render
            select = col.find_ancestor(exp.Select)
            frm = select.args.get("from_") or select.args.get("from")
            sources = [frm, *list(select.args.get("joins") or [])]
            names = [
                (s.this.name, s.this.alias)
                for s in sources
                if s is not None and isinstance(s.this, exp.Table)
            ]
            assert (table, "") in names, f"{card.source}: filter on {col.sql()} outside {table}"


def test_global_cards_carry_no_optional_clauses_or_variables(plan):
    for card in plan.cards:
        if card.scope == GLOBAL:
            assert "[[" not in card.sql and "{{" not in card.sql, card.source
            assert card.template_tags == {}


def test_no_null_safe_joins_or_cross_joined_totals(plan):
    for card in plan.cards:
        engine = engine_of(plan, card)
        tree = sqlglot.parse_one(substitute(card.sql), dialect=engine)
        assert not list(tree.find_all(exp.NullSafeEQ)), f"{card.source}: IS NOT DISTINCT FROM"
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        for join in tree.find_all(exp.Join):
            target = join.this
            if join.args.get("kind") == "CROSS" and isinstance(target, exp.Table):
                assert target.name not in ctes or engine == "bigquery", (
                    f"{card.source}: CROSS JOIN of an aggregate CTE (use a scalar subquery)"
                )


# ------------------------------------------------------------------------------ layout
def test_dashcards_fit_the_grid_and_do_not_overlap(plan):
    for dash in plan.dashboards:
        for tab_key, _name in dash.tabs:
            cells: dict[tuple[int, int], str] = {}
            for dc in (d for d in dash.dashcards if d.tab == tab_key):
                assert dc.col + dc.size_x <= GRID_COLUMNS, f"{dash.name}/{dc.key} too wide"
                for r in range(dc.row, dc.row + dc.size_y):
                    for c in range(dc.col, dc.col + dc.size_x):
                        assert (r, c) not in cells, (
                            f"{dash.name}: {dc.key} overlaps {cells[(r, c)]}"
                        )
                        cells[(r, c)] = dc.key


def test_every_tab_of_every_dashboard_has_cards(plan):
    for dash in plan.dashboards:
        for tab_key, name in dash.tabs:
            assert any(d.tab == tab_key and d.card for d in dash.dashcards), f"{dash.name}/{name}"


def test_tenant_dashboard_card_count_is_bounded(plan):
    for dash in plan.dashboards:
        if dash.scope != GLOBAL:
            distinct = {d.card for d in dash.dashcards if d.card}
            # the inventory's largest tenant dashboard (nc): ~30 Postgres cards + 44 GA4 cards
            assert 10 <= len(distinct) <= 80, f"{dash.name}: {len(distinct)} cards"


# ------------------------------------------------------------------------------ tenants
def test_every_tenant_gets_exactly_its_own_database_collection_groups_dashboard(plan):
    for scope in tenant_scopes(plan):
        mine = plan.of_scope(scope.key)
        (db,) = mine["databases"]
        (coll,) = mine["collections"]
        (dash,) = mine["dashboards"]
        assert db.name == f"MFB PostgreSQL {scope.title}"
        assert coll.name == scope.title
        assert dash.name == f"{scope.title} Dashboard" and dash.collection == coll.ref
        assert sorted(g.name for g in mine["groups"]) == [
            f"{scope.title} Editors",
            f"{scope.title} Viewers",
        ]
        for group in mine["groups"]:
            assert group.collections == (coll.ref,)
            assert group.databases == (db.ref,)
            assert group.create_queries != "query-builder-and-native"


def test_tenant_databases_use_the_tenant_credential_never_admin(plan):
    for db in plan.databases:
        if db.scope != GLOBAL:
            assert db.credential == "tenant", db.name


def test_tenant_cards_live_in_own_collection_and_query_own_postgres(plan):
    reads = {s.key: s.reads or s.key for s in plan.scopes}  # an overlay reads its tenant's DB
    for card in plan.cards:
        if card.scope == GLOBAL:
            continue
        assert card.collection == (card.scope, "main")
        if engine_of(plan, card) == "postgres":
            assert card.database == (reads[card.scope], "postgres")


def test_global_viewers_read_every_collection_and_query_every_database(plan):
    (gv,) = [g for g in plan.groups if g.scope == GLOBAL]
    assert set(gv.collections) == {c.ref for c in plan.collections}
    assert set(gv.databases) == {d.ref for d in plan.databases}
    assert gv.create_queries == "query-builder-and-native"


def test_collections_are_ordered_global_then_tenants_in_stack_order(plan):
    assert [c.scope for c in plan.collections] == [s.key for s in plan.scopes]


def test_dashboard_mappings_target_existing_tags_and_cover_every_tag(plan):
    for dash in plan.dashboards:
        params = {p.id for p in dash.parameters}
        for dc in dash.dashcards:
            if dc.card is None:
                continue
            tags = set(plan.card(dc.card).template_tags)
            mapped = {tag for _pid, tag in dc.mappings}
            assert {pid for pid, _tag in dc.mappings} <= params
            assert mapped == tags, f"{dash.name}/{dc.key}: tags {tags} mapped {mapped}"


def test_dropdown_values_come_from_a_card_of_the_same_tenant(plan):
    for dash in plan.dashboards:
        for p in dash.parameters:
            if p.values_card is not None:
                assert p.values_card[0] == dash.scope


def test_adding_one_tenant_entry_adds_all_its_content(defs):
    base = stack_config("production")
    tenants = [t.model_dump(by_alias=True) for t in base.tenants]
    added = stack_config("production", tenants=[*tenants, {"slug": "ok", "whiteLabelId": 99}])
    plan = render_for_config(added, defs, bigquery=True)
    mine = plan.of_scope("ok")
    assert [d.name for d in mine["databases"]] == ["MFB PostgreSQL Ok"]
    assert [c.name for c in mine["collections"]] == ["Ok"]
    assert [d.name for d in mine["dashboards"]] == ["Ok Dashboard"]
    assert len(mine["groups"]) == 2 and mine["cards"]


def test_removing_a_tenant_removes_all_its_content(defs):
    base = stack_config("production")
    tenants = [t.model_dump(by_alias=True) for t in base.tenants if t.slug != "wa"]
    plan = render_for_config(stack_config("production", tenants=tenants), defs, bigquery=True)
    assert all(s.key != "wa" for s in plan.scopes)
    for kind in ("databases", "collections", "groups", "cards", "dashboards"):
        assert all(o.scope != "wa" for o in getattr(plan, kind))
        assert all("Washington" not in getattr(o, "name", "") for o in getattr(plan, kind))


def test_tenant_without_ga_state_codes_gets_no_bigquery_cards(plan):
    for scope in tenant_scopes(plan):
        bq = [c for c in plan.of_scope(scope.key)["cards"] if engine_of(plan, c) == "bigquery"]
        assert bool(bq) == bool(scope.state_codes), scope.key


# cards reading only marts that hold CESN sessions alone (placed on the energy screener only)
CESN_ONLY_CARDS = {"ga_cesn_funnel"}


def test_bigquery_cards_filter_to_the_scope_state_codes(plan):
    for card in plan.cards:
        if engine_of(plan, card) != "bigquery":
            continue
        assert not re.search(r"__[A-Z][A-Z_]*__", card.sql), card.key  # every sentinel rendered
        if card.key in CESN_ONLY_CARDS:
            continue
        scope = next(s for s in plan.scopes if s.key == card.scope)
        codes = ", ".join(f"'{c}'" for c in scope.state_codes)
        assert f"IN ({codes})" in card.sql, (card.scope, card.key)


def test_global_ga_cards_leave_cesn_out_and_keep_stateless_rows_where_stated(plan):
    glob = next(s for s in plan.scopes if s.key == GLOBAL)
    assert glob.state_codes and "cesn" not in glob.state_codes
    by_key = {c.key: c.sql for c in plan.cards if c.scope == GLOBAL}
    # G6 null-inclusive + not CESN (funnel), G6 null-inclusive (language), G6 only (shares)
    assert "screener_state IS NULL" in by_key["ga_macro_funnel"]
    assert "NOT coalesce(is_cesn, FALSE)" in by_key["ga_macro_funnel"]
    assert "screener_state IS NULL" in by_key["ga_language_distribution"]
    assert "is_cesn" not in by_key["ga_language_distribution"]
    assert "IS NULL" not in by_key["ga_shares_by_channel"]


def test_tenant_ga_cards_filter_to_the_tenant_alone(plan):
    for card in plan.cards:
        if card.scope != "co" or engine_of(plan, card) != "bigquery":
            continue
        assert "IS NULL" not in card.sql and "is_cesn" not in card.sql, card.key


def test_without_bigquery_there_is_no_bigquery_database_or_card(defs):
    plan = render_for_config(stack_config("production"), defs, bigquery=False)
    assert all(d.engine == "postgres" for d in plan.databases)
    assert all(c.database[1] == "postgres" for c in plan.cards)


def test_reserved_global_slug_is_rejected(defs):
    cfg = stack_config("staging")
    fake = type(cfg.tenants[0])(slug="global", white_label_id=77)
    with pytest.raises(DefinitionError, match="reserved"):
        render(defs, [fake], bigquery=False)


# ---------------------------------------------------------------- database_for (issue 11)
def _without(defs, keep):
    """`defs` with only the database definitions `keep` accepts."""
    import dataclasses

    dbs = defs.databases.model_copy(
        update={"databases": [d for d in defs.databases.databases if keep(d)]}
    )
    return dataclasses.replace(defs, databases=dbs)


def _unshared(defs):
    """`defs` with the BigQuery database no longer open to tenant cards."""
    import dataclasses

    dbs = [
        d.model_copy(update={"tenant_cards": False}) if d.engine == "bigquery" else d
        for d in defs.databases.databases
    ]
    return dataclasses.replace(defs, databases=defs.databases.model_copy(update={"databases": dbs}))


def test_bigquery_required_tables_carry_the_stack_dataset(plan):
    dataset = plan.extra["bq_dataset"].split(".", 1)[1]
    (bq,) = [d for d in plan.databases if d.engine == "bigquery"]
    assert bq.required_tables and all(t.startswith(f"{dataset}.") for t in bq.required_tables)


def test_tenant_ga_cards_use_the_global_bigquery_database_that_allows_them(plan):
    """Control for the no-fallback tests: the shipped definitions resolve every tenant card."""
    (bq,) = [d for d in plan.databases if d.engine == "bigquery"]
    tenant_bq = [c for c in plan.cards if c.scope != GLOBAL and engine_of(plan, c) == "bigquery"]
    assert bq.tenant_cards and tenant_bq and {c.database for c in tenant_bq} == {bq.ref}


def test_tenant_card_without_its_own_postgres_does_not_fall_back_to_the_global_one(defs):
    cfg = stack_config("production")
    no_tenant_pg = _without(defs, lambda d: not (d.scope == "tenant" and d.engine == "postgres"))
    with pytest.raises(DefinitionError, match="no postgres database for scope"):
        render_for_config(cfg, no_tenant_pg, bigquery=False)


def test_tenant_card_on_a_global_database_needs_tenant_cards(defs):
    cfg = stack_config("production")
    with pytest.raises(DefinitionError, match="tenant_cards"):
        render_for_config(cfg, _unshared(defs), bigquery=True)


def test_tenant_cards_flag_is_refused_on_a_postgres_database(defs):
    (pg,) = [d for d in defs.databases.databases if d.scope == GLOBAL and d.engine == "postgres"]
    with pytest.raises(ValueError, match="row-level security"):
        type(pg).model_validate({**pg.model_dump(), "tenant_cards": True})


def test_two_cards_named_alike_in_one_collection_are_refused(defs):
    """Lost creates are found by name within the collection: names must be unique there."""
    import dataclasses

    cards = dict(defs.cards.cards)
    first, second = list(cards)[:2]
    cards[second] = cards[second].model_copy(update={"name": cards[first].name})
    clashing = dataclasses.replace(defs, cards=defs.cards.model_copy(update={"cards": cards}))
    with pytest.raises(DefinitionError, match="distinct names"):
        render_for_config(stack_config("production"), clashing, bigquery=True)


# ------------------------------------------------------------------------------ inventory layout
def tenant_dash(plan, slug):
    return next(d for d in plan.dashboards if d.scope == slug)


def placed(dash, tab):
    """card key -> (row, col, size_x, size_y) on one tab."""
    return {
        dc.card[1]: (dc.row, dc.col, dc.size_x, dc.size_y)
        for dc in dash.dashcards
        if dc.tab == tab and dc.card
    }


def test_seven_card_summary_row_where_total_individuals_is_a_feature(plan):
    cells = placed(tenant_dash(plan, "co"), "summary")
    assert cells["total_individuals"] == (0, 18, 6, 4)
    assert cells["median_annual_tax_credits"] == (0, 15, 3, 4)
    assert cells["daily_screeners"] == (4, 0, 24, 6)


def test_nc_summary_has_the_totals_row_below_six_scalars(plan):
    cells = placed(tenant_dash(plan, "nc"), "summary")
    assert cells["median_annual_tax_credits"] == (0, 20, 4, 4)
    assert cells["total_individuals"] == (4, 0, 4, 4)
    assert cells["total_benefits"] == (4, 12, 8, 4)
    assert cells["daily_screeners"][0] == 8
    note = next(d for d in tenant_dash(plan, "nc").dashcards if d.tab == "summary" and d.text)
    assert (note.row, note.col, note.size_x) == (4, 20, 4)


def test_cesn_summary_keeps_four_scalars_and_no_partner_table(plan):
    cells = placed(tenant_dash(plan, "cesn"), "summary")
    scalars = {k: v for k, v in cells.items() if v[0] == 0}
    assert sorted(v[1:] for v in scalars.values()) == [(c, 6, 4) for c in (0, 6, 12, 18)]
    assert "top_partners" not in cells and cells["top_counties"] == (10, 0, 24, 8)


def test_benefits_tab_item_height_leaves_the_stated_gap(plan):
    cells = placed(tenant_dash(plan, "co"), "benefits_needs")
    assert cells["qualified_benefits"] == (4, 0, 24, 10)
    assert cells["current_benefits"] == (15, 0, 12, 10)


def test_tab_name_follows_the_tenants_features(plan):
    names = {s: dict(tenant_dash(plan, s).tabs) for s in ("co", "cesn")}
    assert names["co"]["benefits_needs"] == "•      Benefits & Needs"
    assert names["cesn"]["benefits_needs"] == "•      Benefits"


def test_homeowners_vs_renters_tab_only_where_the_feature_is_on(plan):
    with_tab = {d.scope for d in plan.dashboards if "homeowners_renters" in dict(d.tabs)}
    assert with_tab == {"cesn"}
    cells = placed(tenant_dash(plan, "cesn"), "homeowners_renters")
    assert len(cells) == 19
    assert cells["renters_qualified_for_benefits"] == (0, 18, 6, 4)
    assert cells["renters_daily_screeners"] == (6, 12, 12, 6)
    assert cells["homeowners_needs_hvac"] == (58, 0, 12, 6)


def test_demographics_row_only_where_the_feature_is_on(plan):
    have = {
        d.scope
        for d in plan.dashboards
        if any(dc.card and dc.card[1] == "pct_disabled" for dc in d.dashcards)
    }
    assert have == {"ma"}
    assert placed(tenant_dash(plan, "ma"), "households")["pct_disabled"] == (36, 6, 6, 4)


def test_item_taller_than_its_row_must_not_overlap_the_next_row(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "dashboards" / "global.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["tabs"][0]["rows"][0]["items"][0]["height"] = 6  # r0 scalar reaching into Daily Screeners
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(
        DefinitionError, match=r"tabs\.summary\.rows\.1: daily_screeners_7d overlaps"
    ):
        render_for_config(stack_config("staging"), load_definitions(root), bigquery=False)


def test_item_taller_than_its_row_fits_beside_an_item_placed_by_col(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "dashboards" / "global.yaml"
    doc = yaml.safe_load(path.read_text())
    rows = doc["tabs"][0]["rows"]
    rows[0]["items"] = [{"card": "completed_screeners", "width": 6, "height": 10}]
    rows[1]["items"] = [{"card": "daily_screeners_7d", "width": 18, "col": 6}]
    path.write_text(yaml.safe_dump(doc))
    plan = render_for_config(stack_config("staging"), load_definitions(root), bigquery=False)
    dash = next(d for d in plan.dashboards if d.scope == GLOBAL)
    cells = placed(dash, "summary")
    assert cells["completed_screeners"] == (0, 0, 6, 10)
    assert cells["daily_screeners_7d"] == (4, 6, 18, 6)


def test_unbound_sql_placeholder_is_reported_with_the_card(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "cards.yaml"
    doc = yaml.safe_load(path.read_text())
    del doc["cards"]["renters_past_due"]["bind"]["FLAG"]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError, match=r"cards\.renters_past_due\.bind: .*__FLAG__"):
        load_definitions(root)


def test_bind_accepts_only_plain_column_names(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "cards.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["cards"]["renters_past_due"]["bind"]["FLAG"] = "true OR 1=1"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError, match=r"renters_past_due\.bind: .*plain lower-case column"):
        load_definitions(root)


def test_negated_feature_must_name_a_known_feature(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "dashboards" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["tabs"][0]["rows"][1]["requires"] = ["!total_individualz"]
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError, match=r"tabs\.summary\.rows\.1\.requires: unknown feature"):
        load_definitions(root)


# ------------------------------------------------------------------------------ referrer overlays
def overlay_scopes(plan):
    return {s.key: s for s in plan.scopes if s.kind == "overlay"}


def test_overlays_read_their_tenants_database_with_the_tenants_role(plan):
    overlays = overlay_scopes(plan)
    assert {k: s.reads for k, s in overlays.items()} == {"cudenver": "co", "cpal": "tx"}
    tenants = {s.key: s for s in tenant_scopes(plan)}
    for key, scope in overlays.items():
        assert scope.role_name == tenants[scope.reads].role_name
        cards = plan.of_scope(key)["cards"]
        assert cards and {c.database for c in cards} == {(scope.reads, "postgres")}
        assert plan.of_scope(key)["databases"] == []


def test_overlay_dashboards_have_no_filters_and_their_cards_no_variables(plan):
    dashes = {d.scope: d for d in plan.dashboards if d.scope in overlay_scopes(plan)}
    assert {k: d.name for k, d in dashes.items()} == {
        "cudenver": "CU Denver Screener Impact", "cpal": "CPAL Screener Impact",
    }  # fmt: skip
    for key, dash in dashes.items():
        assert dash.parameters == () and [n for _k, n in dash.tabs] == ["Overview"]
        for card in plan.of_scope(key)["cards"]:
            assert "{{" not in card.sql and card.template_tags == {}, card.key


def test_overlay_viewers_read_only_their_collection_and_query_nothing(plan):
    for key in overlay_scopes(plan):
        (group,) = plan.of_scope(key)["groups"]
        (coll,) = plan.of_scope(key)["collections"]
        assert group.collections == (coll.ref,) and group.databases == ()
        assert group.create_queries == "no" and group.collection_access == "read"
    (gv,) = [g for g in plan.groups if g.scope == GLOBAL]
    assert {(k, "main") for k in overlay_scopes(plan)} <= set(gv.collections)


def test_overlay_whose_tenant_is_not_deployed_is_left_out(defs):
    base = stack_config("staging")
    tenants = [t.model_dump(by_alias=True) for t in base.tenants if t.slug != "tx"]
    plan = render_for_config(stack_config("staging", tenants=tenants), defs, bigquery=False)
    assert set(overlay_scopes(plan)) == {"cudenver"}
    assert not [c for c in plan.collections if c.scope == "cpal"]


def test_overlay_group_with_database_access_is_rejected(tmp_path):
    root = _copy_tree(tmp_path)
    path = root / "content" / "access.yaml"
    doc = yaml.safe_load(path.read_text())
    for g in doc["groups"]:
        if g["scope"] == "overlay":
            g["databases"] = "own"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(DefinitionError, match=r"access\.yaml: groups\.\d+\.databases: an overlay"):
        load_definitions(root)


# ------------------------------------------------------------------------------ UTM filters (nc)
UTM = ("utm_campaign", "utm_medium", "utm_source")


def test_utm_filters_exist_only_where_the_feature_is_on(plan):
    with_utm = {
        d.scope for d in plan.dashboards if {p.id for p in d.parameters} >= set(UTM)
    }  # fmt: skip
    assert with_utm == {"nc"}
    nc = tenant_dash(plan, "nc")
    values = {p.id: p.values_card for p in nc.parameters if p.id in UTM}
    assert values == {u: ("nc", f"{u}_values") for u in UTM}
    for card in plan.cards:
        if card.scope not in ("nc", GLOBAL):
            assert "utm_" not in "".join(card.template_tags), f"{card.scope}/{card.key}"


# ------------------------------------------------------------------------------ field filters
FIELD_FILTERS = {"date_range": "submission_date", "partner": "partner", "county": "county"}
FIELD_FILTERS.update({u: u for u in UTM})


def test_field_filters_are_declared_by_column_name_on_the_filter_table(plan):
    seen = 0
    for card in plan.cards:
        for name, column in FIELD_FILTERS.items():
            tag = card.template_tags.get(name)
            if tag is None:
                continue
            seen += 1
            assert tag["type"] == "dimension", f"{card.scope}/{card.key}"
            assert tag["field"] == [plan.schema, "mart_screener_data", column]
            assert "dimension" not in tag  # no field id in the content: resolved at apply time
    assert seen > 100


def test_field_filter_slots_render_the_bare_tag_for_metabase_to_expand(plan):
    for card in plan.cards:
        for name in set(card.template_tags) & set(FIELD_FILTERS):
            uses = re.findall(r"\[\[(.*?)\]\]", card.sql, re.S)
            with_tag = [u for u in uses if "{{" + name + "}}" in u]
            assert with_tag and all(u.strip() == f"AND {{{{{name}}}}}" for u in with_tag), (
                f"{card.scope}/{card.key}: {with_tag}"
            )


def test_date_range_is_a_relative_date_filter_and_ga_dates_stay_plain(plan):
    nc = {p.id: p.type for p in tenant_dash(plan, "nc").parameters}
    assert nc["date_range"] == "date/all-options"
    assert nc["date_from"] == nc["date_to"] == "date/single"
    for card in plan.cards:
        engine = engine_of(plan, card)
        tags = set(card.template_tags)
        if engine == "bigquery":
            assert not tags & set(FIELD_FILTERS), f"{card.scope}/{card.key}"
        else:
            assert not tags & {"date_from", "date_to"}, f"{card.scope}/{card.key}"


def test_dashcards_map_field_filters_as_dimensions_and_variables_as_variables(plan):
    kinds: dict[str, set[str]] = {}
    for dash in plan.dashboards:
        for dc in dash.dashcards:
            if dc.card is None:
                continue
            tags = plan.card(dc.card).template_tags
            for pid, tag in dc.mappings:
                kinds.setdefault(pid, set()).add(mapping_target(tags[tag])[0])
    assert {p: kinds[p] for p in FIELD_FILTERS} == {p: {"dimension"} for p in FIELD_FILTERS}
    if "date_from" in kinds:  # GA cards (BigQuery on)
        assert kinds["date_from"] == {"variable"}


def test_field_filter_parameter_with_an_operator_is_rejected():
    base = {"id": "p", "name": "P", "type": "string/=", "slot": "partner", "column": "partner"}
    assert ParameterDef(**base, tag_type="dimension").operator is None
    with pytest.raises(ValueError, match="takes no operator"):
        ParameterDef(**base, tag_type="dimension", operator="=")
    with pytest.raises(ValueError, match="needs an operator"):
        ParameterDef(**base, tag_type="text")


def test_utm_filters_skip_the_households_median_scalars(plan):
    tags = {c.key: set(c.template_tags) for c in plan.cards if c.scope == "nc"}
    for key in ("household_size_median", "annual_income_median", "monthly_income_median",
                "monthly_expenses_median", "household_assets_median"):  # fmt: skip
        assert tags[key] == {"date_range", "partner", "county"}, key
    assert tags["completed_screeners"] >= set(UTM)
    assert tags["income_streams"] >= set(UTM)


# ------------------------------------------------------------------------------ inventory titles
# Card titles exactly as the live system names them (upstream-content.md §2.1-2.3).
INVENTORY_CORE = [
    "Completed Screeners",
    "Completed Screens",
    "Qualified for Benefits *",
    "Median Annual Benefits",
    "Median Monthly Benefits",
    "Qualified for Tax Credits *",
    "Median Annual Tax Credits",
    "Total Individuals",
    "Total Benefits",
    "Non-Tax Benefits",
    "Tax Benefits",
    "Daily Screeners",
    "Which Partners Did The Screeners Come From?",
    "Which Counties Did The Screeners Come From?",
    "Partner Values (Filter Helper)",
    "County Values (Filter Helper)",
    "UTM Campaign Values (Filter Helper)",
    "UTM Medium Values (Filter Helper)",
    "UTM Source Values (Filter Helper)",
    "Household Size (Median)",
    "Household Assets (Median)",
    "Annual Income (Median)",
    "Monthly Income (Median)",
    "Monthly Expenses (Median)",
    "% Young Adults",
    "% Disabled",
    "What are the ages of the heads of household?",
    "What are the ages of all household members?",
    "What is the breakdown of household sizes?",
    "What languages are spoken in these households?",
    "What is the breakdown of household income?",
    "What is the breakdown of household assets?",
    "What income streams do households have?",
    "What are the most common expenses?",
    "Already Had Benefits",
    "What percentage of users said they already had certain benefits?",
    "What percentage of completed screeners qualified for benefits?",
    "What percentage of users sought each immediate need?",
]
INVENTORY_HOMEOWNERS_RENTERS = [
    f"{g} – {t}"
    for g in ("Homeowners", "Renters")
    for t in (
        "Completed Screeners",
        "Qualified for Benefits *",
        "Daily Screeners",
        "Electricity Provider",
        "Gas/Heating Provider",
        "Utility Currently Disconnected?",
        "Past Due Energy Bills?",
        "Vehicle 12+ Years Old or Failed Emissions?",
    )
] + [
    f"Homeowners – {x} Needs Repair or Replacement?"
    for x in ("Stove/Range", "Water Heater", "HVAC")
]
INVENTORY_CU_DENVER = [
    "Completed Screeners",
    "Total Annual Benefits Surfaced",
    "Median Annual Benefits / Household",
    "Median Monthly Benefits / Household",
    "Avg # Programs Matched",
    "Students: Completed Screeners",
    "Students: Total Annual Benefits Surfaced",
    "Students: Median Annual Benefits / Household",
    "Students: Avg # Programs Matched",
    "Completed Screeners by Month",
    "What benefits did people qualify for?",
    "What immediate needs did people flag?",
]
INVENTORY_CPAL = [
    "Respondents (Completed Screeners)",
    "Total Annual Benefits $ Identified",
    "Total Potential Tax Credits $",
    "Total Annual Value Identified (Benefits + Tax Credits)",
    "Highest Annual Value / Household",
    "Lowest Annual Value / Household (of those matched)",
    "Median Annual Value / Household (of those matched)",
    "Annual Value per Household — Distribution",
    "Completed Screeners by Month",
    "What benefits did people qualify for?",
]


@pytest.mark.parametrize(
    "scopes,titles",
    [
        ("tenants+global", INVENTORY_CORE),
        ("cesn", INVENTORY_HOMEOWNERS_RENTERS),
        ("cudenver", INVENTORY_CU_DENVER),
        ("cpal", INVENTORY_CPAL),
    ],
    ids=["core", "homeowners-renters", "cu-denver", "cpal"],
)
def test_every_inventory_postgres_title_is_declared(defs, scopes, titles):
    plan = render_for_config(stack_config("production"), defs, bigquery=False)
    keys = (
        {s.key for s in plan.scopes if s.kind in ("tenant", "global")}
        if scopes == "tenants+global"
        else {scopes}
    )
    declared = {c.name for c in plan.cards if c.scope in keys}
    assert [t for t in titles if t not in declared] == []


def test_completed_screens_is_saved_in_every_collection_but_placed_on_no_dashboard(defs):
    """§2.1 #19: one in Global and one per tenant collection, never on a dashboard."""
    plan = render_for_config(stack_config("production"), defs, bigquery=False)
    saved = {c.scope for c in plan.cards if c.name == "Completed Screens"}
    assert saved == {s.key for s in plan.scopes if s.kind in ("tenant", "global")}
    placed = {dc.card for d in plan.dashboards for dc in d.dashcards if dc.card}
    assert not {c.ref for c in plan.cards if c.name == "Completed Screens"} & placed


def test_an_unplaced_card_must_exist_in_cards_yaml(defs):
    import dataclasses

    dash = defs.dashboards["global.yaml"]
    bad = dataclasses.replace(
        defs,
        dashboards={
            **defs.dashboards,
            "global.yaml": dash.model_copy(update={"unplaced": ["nope"]}),
        },
    )
    assert any("unplaced: no card 'nope'" in p for p in cross_check(bad))
