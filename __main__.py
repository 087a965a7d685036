"""mfb-analytics: one program, two stacks. Wiring only — each piece lives in components/."""

import pulumi

from components import config as stack_config
from components.gcp import WorkloadIdentity
from components.github import CiEnvironment
from components.heroku.app import MetabaseApp
from components.metabase_content import MetabaseContent
from components.outputs import runbook_outputs
from components.postgres.database import AnalyticsDatabase
from components.tfe import TerraformWorkspace

cfg, secrets = stack_config.load()  # fails here, before any resource, on a bad config
# first: it reads the staging stack (production) and fails before anything is registered
metabase_app = MetabaseApp("metabase", cfg, secrets, image_strategy=cfg.heroku.production_image)

analytics_db = AnalyticsDatabase("analytics-db", cfg, secrets)

# GCP identity for the workflows (BigQuery only), then GitHub environments fed by every output
identity = WorkloadIdentity("gcp", cfg, secrets) if cfg.gcp.bigquery_enabled else None
ci = CiEnvironment(
    "ci",
    cfg,
    secrets,
    database=analytics_db.endpoint,
    admin=analytics_db.admin,
    tenant_credentials=analytics_db.tenant_credentials,
    metabase_url=metabase_app.url,
    identity=identity,
)
legacy_tf = TerraformWorkspace("tfe", cfg) if cfg.tfe.enabled else None

# Metabase content: databases (tenant connections use the tenant's own role), collections,
# cards, dashboards, groups and permissions, rendered from dashboards/content for cfg.tenants
content = MetabaseContent(
    "metabase-content",
    cfg,
    secrets,
    metabase_url=metabase_app.url,
    endpoint=analytics_db.endpoint,
    admin=analytics_db.admin,
    tenant_credentials=analytics_db.tenant_credentials,
    bigquery_key=identity.metabase_key if identity is not None else None,
    app_ready=metabase_app,  # Metabase answers only once its image runs
    access_ready=analytics_db,  # a tenant connection sees its tables only after the grants
)

pulumi.export("environment", cfg.environment)
pulumi.export("tenantRoles", {t.slug: t.role_name for t in cfg.tenants})
pulumi.export(
    "tenantDbUsernames", {s: c.username for s, c in analytics_db.tenant_credentials.items()}
)
pulumi.export("tenantCredentialMode", cfg.database.tenant_credential_mode)
pulumi.export("metabaseVersion", cfg.metabase.version)
pulumi.export("metabaseDashboardUrls", content.dashboard_urls)
pulumi.export("metabaseGroupIds", content.group_ids)
pulumi.export("githubEnvironments", [ci.data_environment, ci.deploy_environment])
if identity is not None:
    pulumi.export("wifProvider", identity.provider_name)
    pulumi.export("dbtServiceAccount", identity.dbt_service_account_email)
    pulumi.export("metabaseServiceAccount", identity.metabase_service_account_email)
if legacy_tf is not None:
    pulumi.export("tfeWorkspaceId", legacy_tf.workspace_id)
for _key, _value in metabase_app.stack_outputs().items():  # app, URLs, pipeline, release
    pulumi.export(_key, _value)
for _key, _value in runbook_outputs(cfg, ci).items():  # deployed commit (gate), secret names
    pulumi.export(_key, _value)
