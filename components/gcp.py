"""GCP for the analytics stack: GitHub OIDC workload identity, the dbt and Metabase service
accounts, and the BigQuery analytics dataset.

Ownership in the shared project (`mfb-data` holds both stacks):
- every stack owns its **own** workload identity pool (`gcpWifPoolId`: production
  `github-actions`, staging `github-actions-staging`) with one GitHub OIDC provider whose
  attribute condition pins the repository *and* the stack's GitHub environment, so a staging job
  can never impersonate a production account and the deploy environments none at all;
- service accounts carry the environment in their id (`mfb-dbt-production`), and each stack
  manages its own analytics dataset (`gcpAnalyticsDataset`);
- APIs are enabled by both stacks with `disable_on_destroy=False`, so destroying one stack never
  turns an API off under the other.

IAM is least privilege: `roles/bigquery.jobUser` is the only project-level grant (BigQuery has no
narrower way to run query jobs); data roles are granted on datasets only — dbt: dataEditor on the
analytics dataset and dataViewer on the GA4 export it reads; Metabase: dataViewer on the analytics
dataset. The dbt account is impersonable only through this stack's pool.

The Metabase key: the organization policy `iam.disableServiceAccountKeyCreation` blocks key
creation, so the program creates it only when `gcpCreateMetabaseKey` is true (policy lifted for
the project); otherwise the key minted by a person is read from the secret
`metabaseBigquerySaKey`. Either way `metabase_key` is a secret Output of the key's JSON.
"""

from __future__ import annotations

import base64
import re

import pulumi
import pulumi_gcp as gcp

from components.config import StackConfig, StackSecrets

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
REQUIRED_APIS: tuple[str, ...] = (
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",  # token exchange for impersonation (WIF needs it)
    "sts.googleapis.com",
    "bigquery.googleapis.com",
)
ATTRIBUTE_MAPPING: dict[str, str] = {
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.environment": "assertion.environment",
    "attribute.ref": "assertion.ref",
}
PROJECT_JOB_ROLE = "roles/bigquery.jobUser"
DBT_DATASET_ROLE = "roles/bigquery.dataEditor"
READ_DATASET_ROLE = "roles/bigquery.dataViewer"
WIF_USER_ROLE = "roles/iam.workloadIdentityUser"
SERVICE_ACCOUNT_ID_RE = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")


def attribute_condition(repository: str, environment: str) -> str:
    """CEL condition of the GitHub provider: this repository, this GitHub environment only."""
    for label, value in (("repository", repository), ("environment", environment)):
        if "'" in value or "\\" in value:
            raise ValueError(f"{label} '{value}' cannot be quoted in a CEL string literal")
    return f"assertion.repository == '{repository}' && assertion.environment == '{environment}'"


def service_account_id(role: str, environment: str) -> str:
    """`mfb-<role>-<environment>`, checked against GCP's account-id rule (6-30 chars)."""
    account_id = f"mfb-{role}-{environment}"
    if not SERVICE_ACCOUNT_ID_RE.fullmatch(account_id):
        raise ValueError(
            f"service account id '{account_id}' breaks GCP's rule "
            "(6-30 lowercase letters, digits, hyphens; starts with a letter): shorten the role"
        )
    return account_id


def principal_set(pool_name: str, repository: str) -> str:
    """Every identity the pool admits from `repository` (the provider already pins the env)."""
    return f"principalSet://iam.googleapis.com/{pool_name}/attribute.repository/{repository}"


def decode_key(private_key: str) -> str:
    """`serviceaccount.Key.private_key` is base64 of the JSON key file Metabase wants."""
    return base64.b64decode(private_key).decode("utf-8")


class WorkloadIdentity(pulumi.ComponentResource):
    """Pool + GitHub provider, dbt and Metabase service accounts, analytics dataset, IAM."""

    provider_name: pulumi.Output[str]
    pool_name: pulumi.Output[str]
    dbt_service_account_email: pulumi.Output[str]
    metabase_service_account_email: pulumi.Output[str]
    metabase_key: pulumi.Output[str] | None
    dataset_id: pulumi.Output[str]
    condition: str

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mfb:gcp:WorkloadIdentity", name, None, opts)
        g = cfg.gcp
        env = cfg.environment
        project = g.project
        child = pulumi.ResourceOptions(parent=self)

        apis = [
            gcp.projects.Service(
                f"{name}-api-{api.split('.', 1)[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=child,
            )
            for api in REQUIRED_APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=apis)

        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=project,
            workload_identity_pool_id=g.wif_pool_id,
            display_name=f"GitHub Actions ({env})"[:32],
            description=f"GitHub Actions of {cfg.github.repository}, environment {env}",
            opts=after_apis,
        )
        self.condition = attribute_condition(cfg.github.repository, env)
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-github",
            project=project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=g.wif_provider_id,
            display_name="GitHub OIDC",
            attribute_mapping=ATTRIBUTE_MAPPING,
            attribute_condition=self.condition,
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_OIDC_ISSUER),
            opts=child,
        )

        dataset = gcp.bigquery.Dataset(
            f"{name}-analytics",
            project=project,
            dataset_id=g.analytics_dataset,
            location=g.bigquery_location,
            description=f"dbt marts built from GA4 ({env}); rebuilt nightly",
            delete_contents_on_destroy=False,
            # production's marts are data: never deleted by a replace or destroy
            opts=pulumi.ResourceOptions.merge(
                after_apis, pulumi.ResourceOptions(protect=env == "production")
            ),
        )

        dbt_sa = gcp.serviceaccount.Account(
            f"{name}-dbt",
            project=project,
            account_id=service_account_id("dbt", env),
            display_name=f"dbt nightly ({env})",
            description="Builds the BigQuery marts from GitHub Actions via workload identity",
            opts=after_apis,
        )
        metabase_sa = gcp.serviceaccount.Account(
            f"{name}-metabase",
            project=project,
            account_id=service_account_id("metabase", env),
            display_name=f"Metabase BigQuery ({env})",
            description="Metabase reads the analytics marts",
            opts=after_apis,
        )

        # ---- IAM: one project-level role (job user); data roles on datasets only ---------------
        for who, sa in (("dbt", dbt_sa), ("metabase", metabase_sa)):
            gcp.projects.IAMMember(
                f"{name}-{who}-job-user",
                project=project,
                role=PROJECT_JOB_ROLE,
                member=sa.member,
                opts=child,
            )
        gcp.bigquery.DatasetIamMember(
            f"{name}-dbt-analytics-editor",
            project=project,
            dataset_id=dataset.dataset_id,
            role=DBT_DATASET_ROLE,
            member=dbt_sa.member,
            opts=child,
        )
        gcp.bigquery.DatasetIamMember(
            f"{name}-dbt-ga4-viewer",
            project=project,
            dataset_id=g.ga4_dataset,  # the GA4 export: created by the GA4 link, not managed here
            role=READ_DATASET_ROLE,
            member=dbt_sa.member,
            opts=child,
        )
        gcp.bigquery.DatasetIamMember(
            f"{name}-metabase-analytics-viewer",
            project=project,
            dataset_id=dataset.dataset_id,
            role=READ_DATASET_ROLE,
            member=metabase_sa.member,
            opts=child,
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-dbt-wif-user",
            service_account_id=dbt_sa.name,
            role=WIF_USER_ROLE,
            member=pool.name.apply(lambda n: principal_set(n, cfg.github.repository)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[provider]),
        )

        self.metabase_key = self._metabase_key(name, cfg, secrets, metabase_sa)

        self.provider_name = provider.name
        self.pool_name = pool.name
        self.dbt_service_account_email = dbt_sa.email
        self.metabase_service_account_email = metabase_sa.email
        self.dataset_id = dataset.dataset_id
        outputs: dict[str, object] = {
            "providerName": self.provider_name,
            "poolName": self.pool_name,
            "attributeCondition": self.condition,
            "dbtServiceAccountEmail": self.dbt_service_account_email,
            "metabaseServiceAccountEmail": self.metabase_service_account_email,
            "datasetId": self.dataset_id,
        }
        if self.metabase_key is not None:
            outputs["metabaseKey"] = self.metabase_key
        self.register_outputs(outputs)

    def _metabase_key(
        self,
        name: str,
        cfg: StackConfig,
        secrets: StackSecrets,
        metabase_sa: gcp.serviceaccount.Account,
    ) -> pulumi.Output[str] | None:
        supplied = secrets.get("metabaseBigquerySaKey")
        if cfg.gcp.create_metabase_key:
            if supplied is not None:
                pulumi.log.warn(
                    "gcpCreateMetabaseKey is true, so the program creates the Metabase key and "
                    "ignores metabaseBigquerySaKey: remove that secret "
                    "(`pulumi config rm metabaseBigquerySaKey`)",
                    resource=self,
                )
            key = gcp.serviceaccount.Key(
                f"{name}-metabase-key",
                service_account_id=metabase_sa.name,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["privateKey"]),
            )
            return pulumi.Output.secret(key.private_key.apply(decode_key))
        if supplied is None:
            pulumi.log.warn(
                "no Metabase BigQuery key: the organization blocks key creation, so mint one "
                "(`mfb-infra runbook`, Rotate credentials) and `pulumi config set --secret "
                "metabaseBigquerySaKey < key.json`, or set gcpCreateMetabaseKey=true where the "
                "policy is lifted",
                resource=self,
            )
            return None
        return pulumi.Output.secret(supplied)
