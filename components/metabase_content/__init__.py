"""MetabaseContent: the Metabase objects of one stack, declared through the dynamic provider.

Order of creation (each step depends on the one before):
MetabaseSetup -> Databases (wait for their tables) -> Collections (one after another: Metabase
races on the collection-graph revision) -> Cards -> Dashboards -> groups and permission graphs.

What exists comes from `dashboards/content` rendered for the stack's tenants
(`definitions.render_for_config`): adding a tenant to the stack file adds its database
connection (with that tenant's own credential — never the admin one), collection, groups and
dashboard; removing it removes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pulumi

from components.metabase import (
    Card,
    CardArgs,
    Collection,
    CollectionArgs,
    CollectionPermissions,
    CollectionPermissionsArgs,
    Dashboard,
    DashboardArgs,
    Database,
    DatabaseArgs,
    DataPermissions,
    DataPermissionsArgs,
    MetabaseConnection,
    MetabaseSetup,
    MetabaseSetupArgs,
    PermissionsGroup,
    PermissionsGroupArgs,
    bigquery_details,
    postgres_details,
)
from components.metabase.permissions import OTHER_DATABASES
from components.outputs import DbCredential, DbEndpoint

from .definitions import (
    GLOBAL,
    ContentPlan,
    DatabaseSpec,
    Definitions,
    GroupSpec,
    Ref,
    mapping_target,
    parameter_payload,
    render_for_config,
    text_visualization,
)

ALL_USERS_GROUP_ID = 1
SSL_MODES = ("require", "verify-ca", "verify-full")


class MetabaseContent(pulumi.ComponentResource):
    """Databases, collections, cards, dashboards, groups and permissions in Metabase."""

    dashboard_urls: dict[str, pulumi.Output[str]]
    group_ids: dict[str, pulumi.Output[int]]
    plan: ContentPlan

    def __init__(
        self,
        name: str,
        cfg: Any,
        secrets: Any,
        *,
        metabase_url: pulumi.Input[str],
        endpoint: DbEndpoint,
        admin: DbCredential,
        tenant_credentials: dict[str, DbCredential],
        bigquery_key: pulumi.Input[str] | None = None,
        definitions: Definitions | None = None,
        app_ready: pulumi.Resource | None = None,
        access_ready: pulumi.Resource | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`app_ready`: what must exist before Metabase answers (the MetabaseApp component: its
        build/promotion and formation); `access_ready`: what must exist before a database
        connection can see its tables (the AnalyticsDatabase component: roles, grants,
        policies). Children do not inherit a component's depends_on, so they are passed here."""
        super().__init__("mfb:metabase:MetabaseContent", name, None, opts)
        self._name = name
        self._cfg = cfg
        known = set(tenant_credentials)
        missing = [t.slug for t in cfg.tenants if t.slug not in known]
        if missing:
            raise ValueError(
                f"MetabaseContent: no database credential for tenant(s) {', '.join(missing)}; "
                "pass AnalyticsDatabase.tenant_credentials (a tenant connection never falls "
                "back to the admin credential)"
            )
        shared = bool(getattr(tenant_credentials, "shared", False))
        for slug, cred in tenant_credentials.items():
            is_admin = cred is admin or cred.username is admin.username
            if is_admin and not (shared and cfg.environment != "production"):
                raise ValueError(
                    f"MetabaseContent: tenant {slug!r} was given the admin credential; a tenant "
                    "connection must use the tenant's own role (RLS is bound to it). Only the "
                    "explicit staging-only databaseTenantCredentialMode=shared may do this"
                )
        key = bigquery_key if bigquery_key is not None else secrets.get("metabaseBigquerySaKey")
        bigquery = bool(cfg.gcp.bigquery_enabled and key is not None)
        if cfg.gcp.bigquery_enabled and key is None:
            pulumi.log.warn(
                "gcpBigqueryEnabled is true but there is no Metabase BigQuery key: set "
                "`pulumi config set --secret metabaseBigquerySaKey < key.json` (or "
                "gcpCreateMetabaseKey=true); the BigQuery database and GA cards are left out",
                resource=self,
            )
        self.plan = render_for_config(cfg, definitions, bigquery=bigquery)
        self._adopt = adopt_map(cfg, self.plan)
        self._conn = MetabaseConnection(
            url=metabase_url,
            email=cfg.metabase.admin_email,
            password=pulumi.Output.secret(secrets.require("metabaseAdminPassword")),
        )

        setup = MetabaseSetup(
            f"{name}-setup",
            MetabaseSetupArgs(connection=self._conn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[r for r in [app_ready] if r]),
        )
        self._access_ready = [r for r in [access_ready] if r]
        self.databases = {
            spec.ref: self._database(spec, setup, endpoint, admin, tenant_credentials, key)
            for spec in self.plan.databases
        }
        self.collections: dict[tuple[str, str], Collection] = {}
        previous: pulumi.Resource = setup
        for spec in self.plan.collections:  # strictly one after another
            coll = Collection(
                f"{name}-collection-{spec.scope}-{spec.key}",
                CollectionArgs(
                    name=spec.name,
                    description=spec.description,
                    connection=self._conn,
                    adopt_id=self._adopt["collections"].get(f"{spec.scope}/{spec.key}"),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            self.collections[spec.ref] = coll
            previous = coll
        self.cards = {spec.ref: self._card(spec) for spec in self.plan.cards}
        self.dashboards = {spec.ref: self._dashboard(spec) for spec in self.plan.dashboards}
        self.groups = {
            spec.ref: PermissionsGroup(
                f"{name}-group-{spec.scope}-{spec.key}",
                PermissionsGroupArgs(name=spec.name, connection=self._conn),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[setup]),
            )
            for spec in self.plan.groups
        }
        self._permissions()

        metabase_base = pulumi.Output.from_input(metabase_url).apply(lambda u: u.rstrip("/"))
        self.dashboard_urls = {
            spec.scope: pulumi.Output.all(metabase_base, dash.dashboard_id).apply(
                lambda v: f"{v[0]}/dashboard/{v[1]}"
            )
            for spec, dash in zip(self.plan.dashboards, self.dashboards.values(), strict=True)
        }
        self.group_ids = {
            f"{scope}:{key}": group.group_id for (scope, key), group in self.groups.items()
        }
        self.register_outputs(
            {
                "mainDashboardUrl": self.dashboard_urls.get(GLOBAL),
                "tenantDashboardUrls": {
                    k: v for k, v in self.dashboard_urls.items() if k != GLOBAL
                },
                "groupIds": self.group_ids,
                "databaseIds": {
                    f"{s}:{k}": db.database_id for (s, k), db in self.databases.items()
                },
            }
        )

    # ------------------------------------------------------------------ databases
    def _database(
        self,
        spec: DatabaseSpec,
        setup: pulumi.Resource,
        endpoint: DbEndpoint,
        admin: DbCredential,
        tenant_credentials: dict[str, DbCredential],
        bigquery_key: Any,
    ) -> Database:
        cfg = self._cfg
        if spec.engine == "postgres":
            if spec.credential == "admin":
                cred = admin
            elif spec.credential == "tenant":
                cred = tenant_credentials[spec.scope]
            else:
                raise ValueError(f"database {spec.name!r}: unknown credential {spec.credential!r}")
            ssl = endpoint.sslmode in SSL_MODES
            details = pulumi.Output.all(endpoint.host, cred.username).apply(
                lambda v: postgres_details(
                    host=v[0],
                    port=endpoint.port,
                    dbname=endpoint.dbname,
                    user=v[1],
                    ssl=ssl,
                    ssl_mode=endpoint.sslmode if ssl else None,
                    schemas=(cfg.database.schema_name,),
                )
            )
            secret_values = {"password": pulumi.Output.secret(cred.password)}
        else:
            details = bigquery_details(
                project_id=cfg.gcp.project, datasets=(cfg.gcp.analytics_dataset,)
            )
            secret_values = {"service-account-json": pulumi.Output.secret(bigquery_key)}
        return Database(
            f"{self._name}-db-{spec.scope}-{spec.key}",
            DatabaseArgs(
                name=spec.name,
                engine="bigquery-cloud-sdk" if spec.engine == "bigquery" else "postgres",
                details=details,
                secrets=secret_values,
                required_tables=list(spec.required_tables),
                connection=self._conn,
                sync_timeout_seconds=cfg.metabase.sync_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[setup, *self._access_ready]),
        )

    # ------------------------------------------------------------------ cards
    def _card(self, spec: Any) -> Card:
        return Card(
            f"{self._name}-card-{spec.scope}-{spec.key}",
            CardArgs(
                name=spec.name,
                description=spec.description,
                database_id=self.databases[spec.database].database_id,
                collection_id=self.collections[spec.collection].collection_id,
                sql=spec.sql,
                template_tags=spec.template_tags,
                display=spec.display,
                visualization_settings=spec.visualization_settings,
                connection=self._conn,
                adopt_id=self._adopt["cards"].get(f"{spec.scope}/{spec.key}"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    # ------------------------------------------------------------------ dashboards
    def _dashboard(self, spec: Any) -> Dashboard:
        dashcards = []
        for dc in spec.dashcards:
            entry: dict[str, Any] = {
                "key": dc.key,
                "tab": dc.tab,
                "row": dc.row,
                "col": dc.col,
                "size_x": dc.size_x,
                "size_y": dc.size_y,
            }
            if dc.card is None:
                entry["card_id"] = None
                entry["visualization_settings"] = text_visualization(dc.text or "")
            else:
                card_id = self.cards[dc.card].card_id
                tags = self.plan.card(dc.card).template_tags
                entry["card_id"] = card_id
                entry["parameter_mappings"] = [
                    {
                        "parameter_id": pid,
                        "card_id": card_id,
                        "target": mapping_target(tags[tag]),
                    }
                    for pid, tag in dc.mappings
                ]
            dashcards.append(entry)
        parameters = [
            parameter_payload(p, self.cards[p.values_card].card_id if p.values_card else None)
            for p in spec.parameters
        ]
        return Dashboard(
            f"{self._name}-dashboard-{spec.scope}-{spec.key}",
            DashboardArgs(
                name=spec.name,
                description=spec.description,
                collection_id=self.collections[spec.collection].collection_id,
                collection_position=spec.collection_position,
                parameters=parameters,
                tabs=[{"key": k, "name": n} for k, n in spec.tabs],
                dashcards=dashcards,
                connection=self._conn,
                adopt_id=self._adopt["dashboards"].get(f"{spec.scope}/{spec.key}"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    # ------------------------------------------------------------------ permissions
    def _permissions(self) -> None:
        coll_entries, data_entries = permission_entries(
            self.plan,
            group_ids={ref: g.group_id for ref, g in self.groups.items()},
            collection_ids={ref: c.collection_id for ref, c in self.collections.items()},
            database_ids={ref: d.database_id for ref, d in self.databases.items()},
        )
        depends = [*self.groups.values(), *self.collections.values(), *self.databases.values()]
        CollectionPermissions(
            f"{self._name}-collection-permissions",
            CollectionPermissionsArgs(entries=coll_entries, connection=self._conn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        DataPermissions(
            f"{self._name}-data-permissions",
            DataPermissionsArgs(entries=data_entries, connection=self._conn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )


#: "nothing" on a database, as far as open-source Metabase can say it: no queries, no
#: downloads. view-data "blocked" needs a premium token (data_permissions/graph.clj answers 402
#: on OSS), so view-data stays "unrestricted", which on its own only lets a group run saved
#: questions it can reach through a collection — and such a group is given none (All Users: no
#: collection, not even the root; tenant groups: their own collection, whose cards use their own
#: database or a `tenant_cards` one).
NO_DATA_ACCESS: dict[str, Any] = {
    "view-data": "unrestricted",
    "create-queries": "no",
    "download": {"schemas": "none"},
}


def permission_entries(
    plan: ContentPlan,
    *,
    group_ids: Mapping[Ref, Any],
    collection_ids: Mapping[Ref, Any],
    database_ids: Mapping[Ref, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(collection entries, data entries) for the graph resources (ids may be Outputs).

    Every managed group and All Users get an explicit value for every managed collection, the
    root collection, every managed database and every other database: a grant where the plan
    gives one, else none.
    All Users (every user is in it) gets nothing anywhere: a fresh Metabase lets it curate the
    root collection, every new top-level collection copies that, and a new database gives it
    native SQL.
    """
    coll_entries: list[dict[str, Any]] = []
    data_entries: list[dict[str, Any]] = []
    principals: list[tuple[Any, GroupSpec | None]] = [
        (group_ids[g.ref], g) for g in plan.groups
    ] + [(ALL_USERS_GROUP_ID, None)]
    for gid, spec in principals:
        for coll in plan.collections:
            access = "none"
            if spec is not None and coll.ref in spec.collections:
                access = spec.collection_access
            elif spec is None:
                access = plan.all_users.collection_access
            coll_entries.append(
                {"group_id": gid, "collection_id": collection_ids[coll.ref], "access": access}
            )
        coll_entries.append({"group_id": gid, "collection_id": "root", "access": "none"})
        for db in plan.databases:
            if spec is not None and db.ref in spec.databases:
                perms: dict[str, Any] = {
                    "view-data": "unrestricted",
                    "create-queries": spec.create_queries,
                    "download": {"schemas": "full"},
                }
            else:
                perms = dict(NO_DATA_ACCESS)
            data_entries.append(
                {"group_id": gid, "database_id": database_ids[db.ref], "permissions": perms}
            )
        # and nothing on any database the program does not manage (the Sample Database, one
        # added by hand): Metabase gives a new group All Users' access to each database
        data_entries.append(
            {"group_id": gid, "database_id": OTHER_DATABASES, "permissions": dict(NO_DATA_ACCESS)}
        )
    return coll_entries, data_entries


def adopt_map(cfg: Any, plan: ContentPlan) -> dict[str, dict[str, int]]:
    """`metabaseAdopt` checked against what the stack declares: every `<scope>/<key>` must name
    a declared object of that kind (a typo would otherwise silently create a duplicate)."""
    adopt = getattr(getattr(cfg, "metabase", None), "adopt", None)
    declared = {
        "cards": {f"{c.scope}/{c.key}" for c in plan.cards},
        "dashboards": {f"{d.scope}/{d.key}" for d in plan.dashboards},
        "collections": {f"{c.scope}/{c.key}" for c in plan.collections},
    }
    out: dict[str, dict[str, int]] = {kind: {} for kind in declared}
    problems = []
    for kind, refs in declared.items():
        given = dict(getattr(adopt, kind, None) or {})
        for ref in sorted(set(given) - refs):
            scope = ref.split("/", 1)[0]
            near = sorted(r for r in refs if r.startswith(f"{scope}/"))[:5]
            problems.append(
                (
                    f"metabaseAdopt.{kind}",
                    f"{ref!r} is not a {kind[:-1]} this stack declares"
                    + (f" (in scope {scope!r}: {', '.join(near)}, ...)" if near else "")
                    + "; keys are '<scope>/<key>' as `mfb-infra snapshot` names the resources",
                )
            )
        out[kind] = given
    if problems:
        from components.config import ConfigError

        raise ConfigError(problems, getattr(cfg, "environment", None))
    return out


def fake_id(name: str) -> int:
    """A stable small id for mocks (used by mfb_infra.program)."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
