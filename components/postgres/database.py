"""AnalyticsDatabase: tenant access to the Django Postgres that dbt writes `analytics` into.

Renders `components.postgres.access.AccessPlan` into pulumi-postgresql resources (the same plan
`mfb-infra sql` renders to SQL):

- `analytics` and `analytics_internal` schemas owned by the owner (dbt/global) credential, which
  is also the provider's login (retained on delete: they hold dbt's data);
- per tenant, by credential mode:
  - sql:    a `random.RandomPassword` and a `postgresql.Role` wl_<slug>_<id>_ro;
  - heroku: a Heroku Postgres credential of that name (Standard+ tiers cannot CREATE ROLE);
  - shared: nothing; every tenant gets the owner credential (staging only, loud warning);
  then exactly CONNECT and USAGE on analytics, no default privileges (a DefaultPrivileges with
  no privileges revokes leftover ones), and `TenantPolicies`: the tenant's limits and, on the
  relations that already exist, its policy and SELECT where row level security is on (every
  other privilege revoked). No blanket SELECT on the schema: a relation dbt creates later is
  readable by tenants only once its post-hook has enabled RLS and granted it.

Upgrading a stack that still has the old `<tenant>-table-grant` resources (SELECT on all tables
of the schema): `pulumi up` deletes them last, and pulumi-postgresql's Grant delete runs `REVOKE
ALL ON ALL TABLES IN SCHEMA` (cyrilgdn/terraform-provider-postgresql,
postgresql/resource_postgresql_grant.go createRevokeQuery), so tenants read nothing until the
next dbt build re-grants each mart (fail closed). README "Upgrading" has the steps.

The owner's own rights (read `public`, create in its schemas) come from owning the Django tables
and the schemas: a pulumi-postgresql Grant to the owner would first REVOKE its privileges on the
tables it owns (Grant sets privileges exactly), which on Heroku would leave Django read-only.
`mfb-infra sql` renders those rights as plain GRANTs for databases where dbt is a separate role.

Outputs: `endpoint`, `admin`, `tenant_credentials` (slug -> DbCredential; a tenant without a
credential raises, it never falls back to the owner credential except in explicit shared mode).
"""

from __future__ import annotations

import pulumi
import pulumi_postgresql as postgresql
import pulumi_random as random

from components.heroku.credentials import HerokuPostgresCredential
from components.outputs import DbCredential, DbEndpoint
from components.postgres.access import (
    AccessPlan,
    TenantCredentials,
    TenantRole,
    plan_for,
    require_credentials,
)
from components.postgres.policies import TenantPolicies

TYPE = "mfb:postgres:AnalyticsDatabase"
PASSWORD_LENGTH = 40

SHARED_WARNING = (
    "\n"
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    "!! databaseTenantCredentialMode=shared ({stack}): NO TENANT ISOLATION IN THE DATABASE.\n"
    "!! Every tenant ({tenants}) connects with the owner credential,\n"
    "!! which bypasses row level security and sees every white label's rows. Only Metabase\n"
    "!! permissions separate tenants. Allowed for staging only (Essential-tier Postgres has no\n"
    "!! extra credentials); production refuses this mode.\n"
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
)


class AnalyticsDatabase(pulumi.ComponentResource):
    endpoint: DbEndpoint
    admin: DbCredential
    tenant_credentials: TenantCredentials[DbCredential]
    plan: AccessPlan

    def __init__(self, name: str, cfg, secrets, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        db = cfg.database
        self.plan = plan = plan_for(cfg, pulumi.get_stack())
        if plan.mode == "shared" and cfg.environment == "production":
            # config validation refuses this too; never rely on a single check for isolation
            raise ValueError("databaseTenantCredentialMode 'shared' is refused for production")

        host = pulumi.Output.secret(secrets.require("databaseHost"))
        admin_user = pulumi.Output.secret(secrets.require("databaseAdminUser"))
        admin_password = pulumi.Output.secret(secrets.require("databaseAdminPassword"))
        self.endpoint = DbEndpoint(host=host, port=db.port, dbname=db.name, sslmode=db.ssl_mode)
        self.admin = DbCredential(username=admin_user, password=admin_password)

        child = pulumi.ResourceOptions(parent=self)
        self.provider = postgresql.Provider(
            f"{name}-provider",
            host=host,
            port=db.port,
            database=db.name,
            username=admin_user,
            password=admin_password,
            sslmode=db.ssl_mode,
            superuser=False,
            connect_timeout=30,
            opts=child,
        )
        pg = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.schemas = {
            s: postgresql.Schema(
                f"{name}-schema-{s}",
                name=s,
                database=db.name,
                owner=admin_user,
                if_not_exists=True,
                drop_cascade=False,
                opts=pulumi.ResourceOptions.merge(
                    pg,
                    pulumi.ResourceOptions(
                        retain_on_delete=True, protect=cfg.environment == "production"
                    ),
                ),
            )
            for s in plan.owner_schemas
        }

        creds: dict[str, DbCredential] = {}
        if plan.mode == "shared":
            pulumi.log.warn(
                SHARED_WARNING.format(
                    stack=plan.stack, tenants=", ".join(t.slug for t in plan.tenants)
                ),
                resource=self,
            )
            creds = {t.slug: self.admin for t in plan.tenants}
        else:
            for t in plan.tenant_roles:
                creds[t.slug] = self._tenant(name, t, cfg, pg)

        self.tenant_credentials = TenantCredentials(
            require_credentials([t.slug for t in plan.tenants], creds),
            shared=plan.mode == "shared",
        )
        self.register_outputs(
            {
                "credentialMode": plan.mode,
                "schema": plan.schema,
                "tenantRoles": {t.slug: t.role for t in plan.tenant_roles},
                "tenantUsernames": {s: c.username for s, c in self.tenant_credentials.items()},
            }
        )

    # ---- one tenant ------------------------------------------------------------------------
    def _tenant(self, name: str, t: TenantRole, cfg, pg: pulumi.ResourceOptions) -> DbCredential:
        db = cfg.database
        plan = self.plan
        prefix = f"{name}-{t.slug}"
        if plan.mode == "sql":
            pw = random.RandomPassword(
                f"{prefix}-password",
                length=PASSWORD_LENGTH,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            password = pulumi.Output.secret(pw.result)
            login = postgresql.Role(
                f"{prefix}-role",
                name=t.role,
                login=True,
                password=password,
                superuser=False,
                create_database=False,
                create_role=False,
                replication=False,
                bypass_row_level_security=False,
                inherit=True,
                # the same values TenantPolicies applies; set here too so the Role's own
                # refresh (it reads rolconnlimit/rolconfig) does not undo them. Its password is
                # never read back with superuser=False (cyrilgdn/terraform-provider-postgresql,
                # postgresql/resource_postgresql_role.go readRolePassword): a password the
                # tenant set itself is not noticed by refresh (README: replace the password)
                connection_limit=plan.limits.connection_limit,
                statement_timeout=plan.limits.statement_timeout_ms,
                idle_in_transaction_session_timeout=plan.limits.idle_in_transaction_timeout_ms,
                opts=pg,
            )
            username: pulumi.Output[str] = login.name
        else:  # heroku
            login = HerokuPostgresCredential(
                f"{prefix}-credential",
                app=db.heroku_data_app,
                name=t.role,
                opts=pulumi.ResourceOptions(parent=self),
            )
            username = login.username
            password = pulumi.Output.secret(login.password)

        after_login = pulumi.ResourceOptions.merge(
            pg, pulumi.ResourceOptions(depends_on=[login, *self.schemas.values()])
        )
        for g in plan.tenant_grants(t):
            postgresql.Grant(
                f"{prefix}-{g.object_type}-grant",
                database=db.name,
                role=username,
                schema=g.schema,
                object_type=g.object_type,
                privileges=list(g.privileges),
                with_grant_option=False,
                opts=after_login,
            )
        # privileges=[] revokes them all, and reads back as existing while none are left
        # (postgresql/resource_postgresql_default_privileges.go readRoleDefaultPrivileges)
        for d in plan.tenant_default_privileges(t):
            postgresql.DefaultPrivileges(
                f"{prefix}-default-{d.object_type}",
                database=db.name,
                role=username,
                owner=self.admin.username,
                schema=d.schema,
                object_type=d.object_type,
                privileges=list(d.privileges),
                with_grant_option=False,
                opts=after_login,
            )
        TenantPolicies(
            f"{prefix}-policies",
            role=username,
            white_label_id=t.white_label_id,
            schema=plan.schema,
            column=plan.white_label_column,
            host=self.endpoint.host,
            port=db.port,
            dbname=db.name,
            sslmode=db.ssl_mode,
            user=self.admin.username,
            password=self.admin.password,
            limits=plan.limits,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[login, *self.schemas.values()]),
        )
        return DbCredential(username=username, password=password)
