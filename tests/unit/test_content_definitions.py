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
    load_definitions,
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
    assert "dashboards/tenant.yaml: tabs.all_time.rows.0.items.0.card" in str(err.value)


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
            assert 10 <= len(distinct) <= 32, f"{dash.name}: {len(distinct)} cards"


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
    for card in plan.cards:
        if card.scope == GLOBAL:
            continue
        assert card.collection == (card.scope, "main")
        if engine_of(plan, card) == "postgres":
            assert card.database == (card.scope, "postgres")


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


def test_bigquery_cards_filter_to_the_scope_state_codes(plan):
    for card in plan.cards:
        if engine_of(plan, card) != "bigquery":
            continue
        scope = next(s for s in plan.scopes if s.key == card.scope)
        codes = ", ".join(f"'{c}'" for c in scope.state_codes)
        assert f"IN ({codes})" in card.sql and "__" not in card.sql.replace("`", "")


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
