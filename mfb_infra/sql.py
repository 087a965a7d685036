"""`mfb-infra sql --stack X [--out FILE] [--owner ROLE]`: the SQL the access plan stands for.

Prints the idempotent SQL (schemas, owner rights, tenant roles with their limits, CONNECT and
USAGE grants, leftover default privileges revoked, per relation the tenant policy and SELECT
where row level security is on, database hardening, stale tenant roles removed) for DBAs and
self-hosted databases. It is rendered from the same model the Pulumi component uses. Apply it as
the owner; a superuser also sets temp_file_limit and stops large-object creation (as the owner
those two are WARNINGs). Tenant passwords are psql variables (`-v <role>_password=...`), never
written into the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from components.config import PROJECT, ConfigError, StackConfig
from components.postgres.access import AccessPlan, plan_for, render_sql


def load_stack_config(stack: str, root: Path | None = None) -> StackConfig:
    """The stack file's config (with Pulumi.yaml defaults) of the checkout at `root` (default:
    this one), validated; no secrets needed."""
    from mfb_infra.program import REPO, cli_config

    values, _secret_keys = cli_config(stack, root=root or REPO)
    prefix = f"{PROJECT}:"
    raw = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    return StackConfig.from_mapping(raw, stack)


def stack_plan(stack: str) -> AccessPlan:
    return plan_for(load_stack_config(stack), stack)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="mfb-infra sql", description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    p.add_argument(
        "--owner",
        help="owner (dbt/global) role name; default: CURRENT_USER, i.e. "
        "apply the file while logged in as the owner",
    )
    p.add_argument(
        "--keep-stale-roles",
        action="store_true",
        help="do not revoke/drop convention-named tenant roles missing from the stack",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        cfg = load_stack_config(args.stack)
    except (ConfigError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    plan = plan_for(cfg, args.stack)
    sql = render_sql(
        plan,
        owner=args.owner,
        data_app=cfg.database.heroku_data_app,
        drop_stale_roles=not args.keep_stale_roles,
    )
    if args.out:
        args.out.write_text(sql)
        print(
            f"wrote {args.out} ({len(sql.splitlines())} lines, stack {args.stack}, "
            f"mode {plan.mode}, {len(plan.tenant_roles)} tenant role(s))",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(sql)
    if plan.mode == "shared":
        print(
            f"warning: stack {args.stack} uses shared credentials: no tenant roles, every "
            "tenant sees every row through the owner credential",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
