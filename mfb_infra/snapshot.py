"""`mfb-infra snapshot`: the desired state of a stack, from the real program under mocks.

No credentials and no Pulumi CLI: usable on fork PRs. Secret values print as `[secret]`; a
placeholder secret found anywhere *outside* a secret wrapper is a leak and fails the command.
Output is deterministic (sorted by resource, keys sorted).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mfb_infra.program import PLACEHOLDER_PREFIX, ProgramRun, is_secret, run_program

SECRET_MASK = "[secret]"
UNKNOWN = "[unknown until apply]"


class SecretLeak(RuntimeError):
    pass


def _mask(value: Any, where: str, leaks: list[str]) -> Any:
    if is_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: _mask(v, f"{where}.{k}", leaks) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_mask(v, f"{where}[{i}]", leaks) for i, v in enumerate(value)]
    if isinstance(value, str):
        if PLACEHOLDER_PREFIX in value:
            leaks.append(where)
            return SECRET_MASK
        if value == "04da6b54-80e4-46f7-96ec-b56ff0331ba9":  # pulumi's unknown sentinel
            return UNKNOWN
    return value


def _label(urn: str | None) -> str | None:
    if not urn:
        return None
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}"


def desired_state(run: ProgramRun) -> dict[str, Any]:
    leaks: list[str] = []
    resources = []
    for r in sorted(run.registrations, key=lambda r: r.urn):
        label = _label(r.urn)
        resources.append(
            {
                "type": r.type,
                "name": r.name,
                "parent": _label(r.parent),
                "kind": "read" if r.read else ("custom" if r.custom else "component"),
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "dependsOn": sorted({_label(d) for d in r.dependencies if d} - {None}),
                "inputs": _mask(r.inputs, f"{label}.inputs", leaks),
            }
        )
    outputs = _mask(run.stack_outputs, "stack outputs", leaks)
    if leaks:
        raise SecretLeak(
            "secret values reached plain-text inputs/outputs (wrap them with "
            "pulumi.Output.secret): " + ", ".join(sorted(leaks))
        )
    return {"stack": run.stack, "resources": resources, "outputs": outputs}


def render_text(state: dict[str, Any]) -> str:
    lines = [f"# desired state of stack '{state['stack']}' ({len(state['resources'])} resources)"]
    for r in state["resources"]:
        flags = [f for f, on in (("protect", r["protect"]), ("retain", r["retainOnDelete"])) if on]
        head = f"{r['type']}  {r['name']}"
        if flags:
            head += f"  [{', '.join(flags)}]"
        lines.append("")
        lines.append(head)
        if r["parent"]:
            lines.append(f"  parent: {r['parent']}")
        if r["kind"] == "read":
            lines.append("  (read, not managed)")
        if r["dependsOn"]:
            lines.append(f"  dependsOn: {', '.join(r['dependsOn'])}")
        for k, v in r["inputs"].items():
            lines.append(f"  {k}: {json.dumps(v, sort_keys=True)}")
    lines.append("")
    lines.append("outputs:")
    for k, v in state["outputs"].items():
        lines.append(f"  {k}: {json.dumps(v, sort_keys=True)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="mfb-infra snapshot",
        description="Print a stack's desired state from the program under Pulumi mocks "
        "(no credentials, no CLI).",
    )
    ap.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    ap.add_argument("--json", action="store_true", help="machine-readable JSON")
    args = ap.parse_args(argv)
    from components.config import ConfigError

    try:
        state = desired_state(run_program(args.stack))
    except (ConfigError, FileNotFoundError, SecretLeak) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(state, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(state))
    return 0
