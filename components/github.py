"""GitHub: the stack's environments and every secret and variable the workflows read.

Each stack owns two environments in `githubRepository`:

- the **data environment**, named after the stack (`staging`, `production`): the secrets and
  variables the dbt nightly and the Metabase sync read. Production accepts jobs from `main`
  only. It has no required reviewers: GitHub applies required reviewers to every job that names
  the environment (even with `deployment: false`), and the nightly must run unattended.
- the **deploy environment** (`staging-deploy`, `production-deploy`): the gate `pulumi up` runs
  behind. Both accept `main` only; production's requires the configured reviewers, forbids
  self-review (GitHub accepts that only together with reviewers) and admin bypass.

Every value is derived from another component's outputs or from secret stack config, so nothing
is typed twice, and names are derived from config (a tenant's `<SLUG>_DB_USER/PASS` come from its
slug): adding a tenant adds its secrets, removing it deletes them. Secrets are always passed as
secret Outputs.

The staging stack also owns `staging-preview`, where pull requests preview staging (any branch).
The tokens of `staging-preview` and the deploy environments are set once by a person
(`BOOTSTRAP_SECRETS` in `BOOTSTRAP_SECRET_ENVIRONMENTS`, see docs/bootstrap.md) and repository
variables in `BOOTSTRAP_VARIABLES`; the program never manages their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_github as github

from components.config import StackConfig, StackSecrets
from components.gcp import WorkloadIdentity
from components.outputs import DbCredential, DbEndpoint

DEPLOY_SUFFIX = "-deploy"
RELEASE_BRANCH = "main"

# Credentials a person sets once (docs/bootstrap.md), as ENVIRONMENT secrets: the same names in
# each environment below, each value scoped to that environment's stack. None is repository-level
# (every workflow of every branch could read those), so a pull request's code, which runs in
# `staging-preview`, can never see a token that reaches production.
BOOTSTRAP_SECRETS: dict[str, str] = {
    "PULUMI_ACCESS_TOKEN": "Pulumi Cloud token (state, stack secrets) of this stack only",
    "HEROKU_API_KEY": "Heroku API key of an account with access to this stack's app only",
    "PULUMI_GITHUB_TOKEN": "GitHub token for this repository's environments/secrets/variables",
    "TF_API_TOKEN": "Terraform Cloud team token of this stack's workspace (legacy Terraform)",
}
# environment -> (stack it may reach, what it may do)
BOOTSTRAP_SECRET_ENVIRONMENTS: dict[str, tuple[str, str]] = {
    "staging-preview": ("staging", "read: pulumi preview of pull requests"),
    "staging-deploy": ("staging", "write: pulumi up from main"),
    "production-deploy": ("production", "write: pulumi preview/up from main, after review"),
}
# Repository-level variables (not secret), set once by a person.
BOOTSTRAP_VARIABLES: dict[str, str] = {
    "PULUMI_ORG": "Pulumi organization owning the mfb-analytics stacks",
    "GCP_PULUMI_WIF_PROVIDER": "workload identity provider of the bootstrap `pulumi-ci` pool",
    "GCP_PULUMI_PREVIEW_SA": "read-only service account used by `pulumi preview`",
    "GCP_PULUMI_DEPLOY_SA": "service account used by `pulumi up` (deploy environments only)",
}
PREVIEW_ENVIRONMENT = "staging-preview"  # made by the staging stack; PRs preview staging only
REVIEWERS_FIX = (
    "set githubProductionReviewerUserIds and/or githubProductionReviewerTeamIds (numeric ids, "
    "at most 6 in all; `gh api users/<login> --jq .id`, `gh api orgs/<org>/teams/<slug> "
    "--jq .id`), e.g. `pulumi config set --path 'githubProductionReviewerUserIds[0]' <id>`"
)
# Provided by GitHub itself in every run.
BUILTIN_SECRETS = frozenset({"GITHUB_TOKEN"})


def data_environment_name(cfg: StackConfig) -> str:
    return cfg.environment


def deploy_environment_name(cfg: StackConfig) -> str:
    return f"{cfg.environment}{DEPLOY_SUFFIX}"


def tenant_secret_names(slug_prefix: str) -> tuple[str, str]:
    return f"{slug_prefix}_DB_USER", f"{slug_prefix}_DB_PASS"


@dataclass(frozen=True)
class EnvironmentValues:
    """What goes into the data environment: name -> value (secrets are secret Outputs)."""

    secrets: dict[str, pulumi.Output[str]]
    variables: dict[str, pulumi.Input[str]]


def environment_values(
    cfg: StackConfig,
    secrets: StackSecrets,
    *,
    database: DbEndpoint,
    admin: DbCredential,
    tenant_credentials: Mapping[str, DbCredential],
    metabase_url: pulumi.Input[str],
    identity: WorkloadIdentity | None,
) -> EnvironmentValues:
    """Derive every environment secret and variable (pure wiring: no resources)."""
    unknown = sorted(set(tenant_credentials) - {t.slug for t in cfg.tenants})
    if unknown:
        raise ValueError(
            f"tenant credentials for {unknown} have no tenant in config `tenants`: "
            "the database component and the config disagree"
        )
    missing = [t.slug for t in cfg.tenants if t.slug not in tenant_credentials]
    if missing:
        raise ValueError(
            f"no database credential for tenants {missing}: AnalyticsDatabase must return one "
            "per configured tenant"
        )

    s: dict[str, pulumi.Output[str]] = {
        "DATABASE_HOST": pulumi.Output.secret(database.host),
        "GLOBAL_DB_USER": pulumi.Output.secret(admin.username),
        "GLOBAL_DB_PASS": pulumi.Output.secret(admin.password),
        "METABASE_ADMIN_PASSWORD": pulumi.Output.secret(secrets.require("metabaseAdminPassword")),
    }
    for tenant in cfg.tenants:
        cred = tenant_credentials[tenant.slug]
        user_name, pass_name = tenant_secret_names(tenant.env_prefix)
        s[user_name] = pulumi.Output.secret(cred.username)
        s[pass_name] = pulumi.Output.secret(cred.password)

    v: dict[str, pulumi.Input[str]] = {
        "METABASE_URL": pulumi.Output.from_input(metabase_url).apply(lambda u: u.rstrip("/")),
        "METABASE_ADMIN_EMAIL": cfg.metabase.admin_email,
        "DATABASE_NAME": database.dbname,
        "DATABASE_PORT": str(database.port),
        "DATABASE_SSLMODE": database.sslmode,
        "DATABASE_SCHEMA": cfg.database.schema_name,
        "BIGQUERY_ENABLED": "true" if identity is not None else "false",
    }
    if identity is not None:
        v.update(
            {
                "GCP_PROJECT_ID": cfg.gcp.project,
                "GCP_ANALYTICS_TABLE": cfg.gcp.ga4_dataset,  # upstream name; holds the dataset
                "GCP_BQ_DATASET": identity.dataset_id,
                "GCP_BQ_LOCATION": cfg.gcp.bigquery_location,
                "WIF_PROVIDER": identity.provider_name,
                "WIF_SERVICE_ACCOUNT": identity.dbt_service_account_email,
            }
        )
        # The legacy Terraform workflows push the Metabase key into Metabase; only they read it.
        if cfg.tfe.enabled and identity.metabase_key is not None:
            s["BIGQUERY_SA_KEY"] = pulumi.Output.secret(identity.metabase_key)
    return EnvironmentValues(secrets=s, variables=v)


def _slug(name: str) -> str:
    return name.lower().replace("_", "-")


class CiEnvironment(pulumi.ComponentResource):
    """The stack's GitHub environments and the data environment's secrets and variables."""

    data_environment: pulumi.Output[str]
    deploy_environment: pulumi.Output[str]
    secret_names: list[str]
    variable_names: list[str]

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        secrets: StackSecrets,
        *,
        database: DbEndpoint,
        admin: DbCredential,
        tenant_credentials: Mapping[str, DbCredential],
        metabase_url: pulumi.Input[str],
        identity: WorkloadIdentity | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mfb:github:CiEnvironment", name, None, opts)
        values = environment_values(
            cfg,
            secrets,
            database=database,
            admin=admin,
            tenant_credentials=tenant_credentials,
            metabase_url=metabase_url,
            identity=identity,
        )
        provider = github.Provider(
            f"{name}-github", owner=cfg.github.owner, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        repo = cfg.github.name
        production = cfg.environment == "production"

        data_env = github.RepositoryEnvironment(
            f"{name}-data",
            repository=repo,
            environment=data_environment_name(cfg),
            deployment_branch_policy=_main_only() if production else None,
            opts=child,
        )
        if production:
            self._main_policy(f"{name}-data-main", repo, data_env, child)

        reviewers = _reviewers(cfg) if production else None
        if production and not reviewers:
            pulumi.log.warn(
                f"'{deploy_environment_name(cfg)}' has no required reviewers, so any push to "
                f"{RELEASE_BRANCH} can deploy production: {REVIEWERS_FIX} (the policy pack in "
                "policy/ refuses a production preview/up until then)",
                resource=self,
            )
        deploy_env = github.RepositoryEnvironment(
            f"{name}-deploy",
            repository=repo,
            environment=deploy_environment_name(cfg),
            reviewers=reviewers,
            # GitHub refuses prevent_self_review without reviewers ("Required reviewers must
            # have at least one reviewer to set prevent_self_review"), so both come together.
            prevent_self_review=True if reviewers else None,
            can_admins_bypass=False if production else None,
            deployment_branch_policy=_main_only(),
            opts=child,
        )
        self._main_policy(f"{name}-deploy-main", repo, deploy_env, child)

        if not production:
            # pull requests preview staging here with staging-scoped tokens; no branch rule,
            # because a pull request's branch is any branch
            github.RepositoryEnvironment(
                f"{name}-preview",
                repository=repo,
                environment=PREVIEW_ENVIRONMENT,
                opts=child,
            )

        for secret_name, value in values.secrets.items():
            github.ActionsEnvironmentSecret(
                f"{name}-secret-{_slug(secret_name)}",
                repository=repo,
                environment=data_env.environment,
                secret_name=secret_name,
                value=value,
                opts=child,
            )
        for variable_name, value in values.variables.items():
            github.ActionsEnvironmentVariable(
                f"{name}-var-{_slug(variable_name)}",
                repository=repo,
                environment=data_env.environment,
                variable_name=variable_name,
                value=value,
                opts=child,
            )

        self.data_environment = data_env.environment
        self.deploy_environment = deploy_env.environment
        self.secret_names = sorted(values.secrets)
        self.variable_names = sorted(values.variables)
        self.register_outputs(
            {
                "dataEnvironment": self.data_environment,
                "deployEnvironment": self.deploy_environment,
                "secretNames": self.secret_names,
                "variableNames": self.variable_names,
            }
        )

    @staticmethod
    def _main_policy(
        name: str,
        repo: str,
        env: github.RepositoryEnvironment,
        opts: pulumi.ResourceOptions,
    ) -> github.RepositoryEnvironmentDeploymentPolicy:
        return github.RepositoryEnvironmentDeploymentPolicy(
            name,
            repository=repo,
            environment=env.environment,
            branch_pattern=RELEASE_BRANCH,
            opts=opts,
        )


def _main_only() -> github.RepositoryEnvironmentDeploymentBranchPolicyArgs:
    # custom policies (the `main` pattern is a RepositoryEnvironmentDeploymentPolicy)
    return github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
        protected_branches=False, custom_branch_policies=True
    )


def _reviewers(cfg: StackConfig) -> list[github.RepositoryEnvironmentReviewerArgs] | None:
    users = list(cfg.github.production_reviewer_user_ids)
    teams = list(cfg.github.production_reviewer_team_ids)
    if not users and not teams:
        return None
    return [github.RepositoryEnvironmentReviewerArgs(users=users or None, teams=teams or None)]
