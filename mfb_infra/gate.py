"""`mfb-infra gate`: production `up` runs only for a commit that staging already runs.

The staging stack exports `deployedCommit` — the commit its last `pulumi up` ran from, set by the
deploy workflow (components/outputs.py `deploy_commit`). Before `pulumi up --stack production`
the workflow fetches staging's outputs (`pulumi stack output --json --stack .../staging`) and
runs this command, which refuses (exit 1) unless

- the outputs are the staging stack's, and staging's `deployedCommit` is exactly `--commit`;
- staging runs the Metabase version production's stack file asks for;
- `mfb-infra parity` holds (the stacks differ only where Pulumi.yaml declares it).

Exit status: 0 allowed, 1 refused (the reason printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from components.outputs import OUT_DEPLOYED_COMMIT
from mfb_infra.program import PROJECT, REPO, stack_file_config

GATED = {"production": "staging"}  # stack -> the stack it is promoted from
FULL_SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")


class GateUsageError(ValueError):
    pass


def read_outputs(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise GateUsageError(f"{path}: no such file (from `pulumi stack output --json`)") from None
    except json.JSONDecodeError as e:
        raise GateUsageError(
            f"{path}: not JSON ({e.msg}); pass `pulumi stack output --json`"
        ) from None
    if not isinstance(doc, dict):
        raise GateUsageError(f"{path}: expected a JSON object of stack outputs")
    return doc


def check_promotion(
    stack: str,
    source_outputs: Mapping[str, Any],
    commit: str,
    *,
    root: Path = REPO,
    parity: Callable[[], Any] | None = None,
) -> list[str]:
    """Reasons to refuse promoting `commit` to `stack` (empty: allowed)."""
    if stack not in GATED:
        raise GateUsageError(f"only {', '.join(GATED)} is gated (got {stack!r})")
    if not FULL_SHA_RE.fullmatch(commit or ""):
        raise GateUsageError(
            f"--commit {commit!r} is not a full 40-character SHA (${{{{ github.sha }}}})"
        )
    source = GATED[stack]
    commit = commit.lower()
    refusals: list[str] = []
    env = source_outputs.get("environment")
    if env != source:
        refusals.append(
            f"the outputs given are not the {source} stack's (environment={env!r}); pass "
            f"`pulumi stack output --json --stack <org>/{PROJECT}/{source}`"
        )
    running = str(source_outputs.get(OUT_DEPLOYED_COMMIT) or "").lower()
    if not running:
        refusals.append(
            f"{source} records no deployed commit (its last `pulumi up` ran outside the deploy "
            f"workflow, or before it recorded commits): deploy {commit} to {source} through the "
            f"'Pulumi up' workflow first, then run this deploy again"
        )
    elif running != commit:
        refusals.append(
            f"{source} runs {running}, not {commit}: {stack} may only get a commit {source} "
            f"already runs. Deploy {commit} to {source} first (merging to main does it), wait for "
            f"it to succeed, then run this deploy again — or deploy {running} instead"
        )
    want = str(stack_file_config(stack, root).get(f"{PROJECT}:metabaseVersion", ""))
    have = str(source_outputs.get("metabaseVersion") or "")
    if want and have and want != have:
        refusals.append(
            f"{source} runs Metabase {have} but Pulumi.{stack}.yaml asks for {want}: upgrade "
            f"{source} first"
        )
    if parity is not None:
        report = parity()
        if not report.ok:
            refusals.append("parity fails:\n" + report.format().rstrip())
    return refusals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="mfb-infra gate",
        description="Refuse a production deploy of a commit staging does not run (and check "
        "parity). Run before `pulumi up --stack production`.",
    )
    ap.add_argument("--stack", required=True, help="the stack about to be deployed (production)")
    ap.add_argument(
        "--staging-outputs",
        required=True,
        type=Path,
        help="file with `pulumi stack output --json --stack <org>/mfb-analytics/staging`",
    )
    ap.add_argument("--commit", required=True, help="full SHA being deployed (${{ github.sha }})")
    args = ap.parse_args(argv)
    from components.config import ConfigError
    from mfb_infra import parity
    from mfb_infra.snapshot import SecretLeak

    try:
        outputs = read_outputs(args.staging_outputs)
        refusals = check_promotion(args.stack, outputs, args.commit, parity=parity.check)
    except (GateUsageError, parity.ParityError, ConfigError, FileNotFoundError, SecretLeak) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if refusals:
        print(f"REFUSED: not deploying {args.stack} at {args.commit.lower()}", file=sys.stderr)
        for r in refusals:
            print(f"  - {r}", file=sys.stderr)
        return 1
    print(f"gate OK: staging runs {args.commit.lower()}; parity holds; deploying {args.stack}")
    return 0
