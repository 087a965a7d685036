"""`mfb-infra parity`: staging and production may differ only where `Pulumi.yaml` says so.

Two comparisons, both without credentials:

1. **Stack files.** Every config key of the two `Pulumi.<stack>.yaml` files (defaults from
   `Pulumi.yaml` applied). A key set in one file only, or set to different values, is a
   difference; it is allowed only when the key is listed under `parity.config` in `Pulumi.yaml`.
   Tenants are compared one by one (a tenant in one stack only is named by its slug). Secret
   (`secure:`) values are compared by presence only: ciphertext differs per stack by design.
2. **Desired states.** The real program under mocks (`mfb-infra snapshot`) for each stack.
   Resources pair up by type and name (the environment's own name, `staging` / `production` as
   a word, counts as one placeholder: `mfb-metabase-<env>`). A differing input is explained
   when it follows from an allowed config key (see `_Explainer`). What is left — a resource,
   resource type or dashboard in one stack only, an input that differs, a stack output in one
   stack only — is allowed only when a `parity.resources` / `parity.outputs` rule declares it.

The declarations live in one place a reviewer reads: the top-level `parity:` section of
`Pulumi.yaml`. The Pulumi CLI accepts it there: the project schema allows extra top-level keys
(pulumi/pulumi sdk/go/common/workspace/project.json: `"additionalProperties": true` at the top
level, unlike `config:` whose entries must be config declarations) and the project loader keeps
them (`Project.AdditionalKeys map[string]any yaml:",inline"` in sdk/go/common/workspace/project.go).
A test validates Pulumi.yaml against that schema.

Exit status: 0 parity holds, 1 undeclared differences (each printed), 2 usage/config error.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mfb_infra.program import PROJECT, REPO, project_declarations

STACKS = ("staging", "production")


class ParityError(ValueError):
    """The parity section itself is malformed (a usage error, exit 2)."""


# --------------------------------------------------------------------------------------------
# The declarations (Pulumi.yaml `parity:`)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResourceRule:
    """A declared desired-state difference.

    `only_in` set: resources matching type/name exist in that stack only.
    `inputs` set: those inputs (top-level input names, or `dependsOn`) may differ.
    """

    type: str
    reason: str
    name: str = "*"
    only_in: str | None = None
    inputs: tuple[str, ...] = ()

    def matches(self, typ: str, name: str) -> bool:
        return fnmatch.fnmatchcase(typ, self.type) and fnmatch.fnmatchcase(name, self.name)

    def describe(self) -> str:
        what = self.type if self.name == "*" else f"{self.type} {self.name}"
        if self.only_in:
            return f"{what}: only in {self.only_in}"
        return f"{what}: {', '.join(self.inputs)} may differ"


@dataclass(frozen=True)
class ParityRules:
    stacks: tuple[str, str]
    config: dict[str, str]  # short key -> reason
    resources: tuple[ResourceRule, ...]
    outputs: dict[str, str]  # output name -> reason (may exist in one stack only / differ)


def load_rules(root: Path = REPO) -> ParityRules:
    doc = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    section = doc.get("parity")
    if not isinstance(section, dict):
        raise ParityError("Pulumi.yaml has no `parity:` section (the declared differences)")
    problems: list[str] = []
    stacks = tuple(section.get("stacks") or STACKS)
    if len(stacks) != 2:
        problems.append("parity.stacks: name exactly two stacks (staging, production)")
    from components.config import KEYS, SECRET_KEYS

    config: dict[str, str] = {}
    for key, reason in (section.get("config") or {}).items():
        short = key.split(":", 1)[1] if key.startswith(f"{PROJECT}:") else key
        if short not in KEYS and short not in SECRET_KEYS:
            problems.append(f"parity.config.{key}: not a config key of this project")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"parity.config.{key}: give the reason the stacks may differ")
        config[short] = str(reason)
    rules: list[ResourceRule] = []
    for i, raw in enumerate(section.get("resources") or []):
        where = f"parity.resources[{i}]"
        if not isinstance(raw, dict) or not raw.get("type") or not raw.get("reason"):
            problems.append(f"{where}: needs `type` and `reason`")
            continue
        only_in = raw.get("only_in")
        inputs = tuple(raw.get("inputs") or ())
        if bool(only_in) == bool(inputs):
            problems.append(f"{where}: give exactly one of `only_in` (a stack) or `inputs` (names)")
        if only_in and only_in not in stacks:
            problems.append(f"{where}.only_in: {only_in!r} is not one of {', '.join(stacks)}")
        rules.append(
            ResourceRule(
                type=str(raw["type"]),
                reason=str(raw["reason"]),
                name=str(raw.get("name") or "*"),
                only_in=only_in,
                inputs=inputs,
            )
        )
    outputs = {str(k): str(v) for k, v in (section.get("outputs") or {}).items()}
    if problems:
        raise ParityError("Pulumi.yaml parity section:\n  - " + "\n  - ".join(problems))
    return ParityRules(stacks=stacks, config=config, resources=tuple(rules), outputs=outputs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    kind: str  # config | tenant | resource | input | output
    subject: str  # the key / tenant / resource label
    message: str


@dataclass
class ParityReport:
    stacks: tuple[str, str]
    differences: list[Finding] = field(default_factory=list)  # undeclared: fail
    allowed: list[tuple[str, str]] = field(default_factory=list)  # (what, reason)
    unused_rules: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def format(self) -> str:
        a, b = self.stacks
        lines: list[str] = []
        if self.differences:
            lines.append(
                f"parity FAILED: {len(self.differences)} undeclared difference(s) between {a} "
                f"and {b}:"
            )
            lines += [f"  - [{f.kind}] {f.subject}: {f.message}" for f in self.differences]
            lines.append(
                "Fix: make the stacks agree, or — if the difference is on purpose — declare it "
                "with a reason in the `parity:` section of Pulumi.yaml (reviewed like code)."
            )
        else:
            lines.append(f"parity OK: {a} and {b} differ only where Pulumi.yaml declares it")
        if self.allowed:
            lines.append(f"declared differences in effect ({len(self.allowed)}):")
            lines += [f"  - {what} — {why}" for what, why in self.allowed]
        for r in self.unused_rules:
            lines.append(f"note: parity rule matches no difference (remove it?): {r}")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# 1. Stack files
# --------------------------------------------------------------------------------------------
def _stack_doc(stack: str, root: Path) -> dict[str, Any]:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}")
    return dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})


def _short(key: str) -> str:
    return key.split(":", 1)[1] if key.startswith(f"{PROJECT}:") else key


def _is_secure(v: Any) -> bool:
    return isinstance(v, dict) and "secure" in v


def _show(v: Any) -> str:
    return json.dumps(v, sort_keys=True) if not isinstance(v, str) else repr(v)


def compare_config(
    files: Mapping[str, Mapping[str, Any]],
    rules: ParityRules,
    defaults: Mapping[str, Any],
    report: ParityReport,
) -> None:
    """`files`: stack -> the stack file's `config:` mapping (full keys)."""
    a, b = rules.stacks
    fa, fb = files[a], files[b]
    for key in sorted(set(fa) | set(fb)):
        short = _short(key)
        in_a, in_b = key in fa, key in fb
        va, vb = fa.get(key), fb.get(key)
        if _is_secure(va) or _is_secure(vb):
            if in_a and in_b:
                continue
            only = a if in_a else b
            msg = f"secret set in {only} only (`pulumi config set --secret {short}` on the other)"
        elif in_a and in_b and va == vb:
            continue
        elif in_a and in_b:
            if short == "tenants" and short not in rules.config:
                _compare_tenants(va, vb, rules, report)
                continue
            msg = f"differs: {a} {_show(va)}, {b} {_show(vb)}"
        else:
            only, other, value = (a, b, va) if in_a else (b, a, vb)
            dflt = defaults.get(short, "(no default)")
            msg = f"set in {only} only ({_show(value)}); {other} uses the default {_show(dflt)}"
        if short in rules.config:
            report.allowed.append((f"config {key}", rules.config[short]))
        else:
            report.differences.append(Finding("config", key, msg))


def _compare_tenants(ta: Any, tb: Any, rules: ParityRules, report: ParityReport) -> None:
    a, b = rules.stacks
    key = f"{PROJECT}:tenants"

    def by_slug(v: Any) -> dict[str, Any]:
        return {t.get("slug"): t for t in (v or []) if isinstance(t, dict)}

    sa, sb = by_slug(ta), by_slug(tb)
    found = False
    for slug in sorted(set(sa) | set(sb), key=str):
        if slug not in sb:
            msg = f"tenant in {a} only: {_show(sa[slug])}"
        elif slug not in sa:
            msg = f"tenant in {b} only: {_show(sb[slug])}"
        elif sa[slug] != sb[slug]:
            msg = f"differs: {a} {_show(sa[slug])}, {b} {_show(sb[slug])}"
        else:
            continue
        found = True
        report.differences.append(Finding("tenant", f"{key}[{slug}]", msg))
    if not found and list(sa) != list(sb):
        report.differences.append(
            Finding("tenant", key, f"same tenants in another order: {a} {list(sa)}, {b} {list(sb)}")
        )


# --------------------------------------------------------------------------------------------
# 2. Desired states
# --------------------------------------------------------------------------------------------
def _effective(files: Mapping[str, Any], defaults: Mapping[str, Any], short: str) -> Any:
    full = f"{PROJECT}:{short}"
    return files[full] if full in files else defaults.get(short)


class _Explainer:
    """Whether a difference between the two desired states follows from declared config.

    A pair of values (staging's, production's) is explained when it equals the pair of values of
    an allowed config key, or when — replacing, as whole words, an allowed key's value on each
    side by one placeholder (only where each side holds its own value), then each side's
    environment name — the two strings become equal: `mfb-metabase-staging-0.herokuapp.com` /
    `mfb-metabase-production-0.herokuapp.com` (herokuAppName), `analytics_staging` / `analytics`
    (gcpAnalyticsDataset). Only pairs that differ are looked at, so a value both stacks share is
    never rewritten.
    """

    def __init__(self, stacks, files, defaults, rules: ParityRules):
        self.stacks = stacks
        self.scalars: set[tuple[str, str]] = set()
        self.subs: list[tuple[re.Pattern[str], re.Pattern[str], str]] = []
        pairs: list[tuple[str, str]] = []
        for short in sorted(rules.config):
            va, vb = (_effective(files[s], defaults, short) for s in stacks)
            if va == vb or _is_secure(va) or _is_secure(vb):
                continue
            self.scalars.add((_canon(va), _canon(vb)))
            if isinstance(va, str) and isinstance(vb, str) and va and vb:
                pairs.append((va, vb))
        pairs.sort(key=lambda p: -max(len(p[0]), len(p[1])))  # longest first
        for i, (va, vb) in enumerate(pairs):
            # a placeholder no config value can contain or match (NUL, private use)
            self.subs.append((_word(va), _word(vb), f"\x00{chr(0xE000 + i)}\x00"))
        self.env = {s: _word(s) for s in stacks}

    def label(self, stack: str, label: str) -> str:
        return self.env[stack].sub("\x00env\x00", label)

    def explains(self, va: Any, vb: Any) -> bool:
        a, b = self.stacks
        if (_canon(va), _canon(vb)) in self.scalars:
            return True
        if isinstance(va, str) and isinstance(vb, str):
            for pa, pb, ph in self.subs:
                if pa.search(va) and pb.search(vb):
                    va, vb = pa.sub(ph, va), pb.sub(ph, vb)
            return self.label(a, va) == self.label(b, vb)
        if isinstance(va, list) and isinstance(vb, list) and len(va) == len(vb):
            return all(x == y or self.explains(x, y) for x, y in zip(va, vb, strict=True))
        return False


def _word(value: str) -> re.Pattern[str]:
    """`value` as a whole word: not inside a longer run of letters and digits."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _resources(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{r['type']}::{r['name']}": r for r in state["resources"]}


def _pair_resources(
    ra: Mapping[str, Any], rb: Mapping[str, Any], ex: _Explainer
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(pairs, staging-only, production-only) of resource labels: same label first, then the
    same label once each side's environment name is a placeholder (`mfb-metabase-<env>`)."""
    a, b = ex.stacks
    common = sorted(set(ra) & set(rb))
    rest_a = {ex.label(a, k): k for k in sorted(set(ra) - set(rb))}
    rest_b = {ex.label(b, k): k for k in sorted(set(rb) - set(ra))}
    pairs = [(k, k) for k in common]
    pairs += [(rest_a[n], rest_b[n]) for n in sorted(set(rest_a) & set(rest_b))]
    only_a = [rest_a[n] for n in sorted(set(rest_a) - set(rest_b))]
    only_b = [rest_b[n] for n in sorted(set(rest_b) - set(rest_a))]
    return pairs, only_a, only_b


def compare_states(
    states: Mapping[str, Mapping[str, Any]],
    files: Mapping[str, Mapping[str, Any]],
    rules: ParityRules,
    report: ParityReport,
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """`states`: stack -> `snapshot.desired_state(...)` (secrets already masked)."""
    a, b = rules.stacks
    ex = _Explainer(rules.stacks, files, defaults or {}, rules)
    res = {s: _resources(states[s]) for s in rules.stacks}
    used: set[ResourceRule] = set()

    def rule_for(typ: str, name: str, *, only_in: str | None = None, inp: str | None = None):
        for rule in rules.resources:
            if not rule.matches(typ, name):
                continue
            if only_in and rule.only_in == only_in:
                return rule
            if inp and any(inp == i or inp.startswith((f"{i}.", f"{i}[")) for i in rule.inputs):
                return rule
        return None

    pairs, only_a, only_b = _pair_resources(res[a], res[b], ex)
    one_sided: set[str] = set()
    for stack, other, labels in ((a, b, only_a), (b, a, only_b)):
        types_other = {r["type"] for r in res[other].values()}
        for label in labels:
            r = res[stack][label]
            rule = rule_for(r["type"], r["name"], only_in=stack)
            one_sided.add(label)
            if rule:
                used.add(rule)
                continue
            what = "resource type" if r["type"] not in types_other else _kind_of(r["type"])
            report.differences.append(
                Finding("resource", label, f"{what} in {stack} only (not in {other})")
            )
    for la, lb in pairs:
        ra, rb = res[a][la], res[b][lb]
        fa, fb = _flatten(ra["inputs"]), _flatten(rb["inputs"])
        for opt in ("parent", "protect", "retainOnDelete"):
            fa[opt], fb[opt] = ra[opt], rb[opt]
        fa["dependsOn"] = sorted(ex.label(a, d) for d in set(ra["dependsOn"]) - one_sided)
        fb["dependsOn"] = sorted(ex.label(b, d) for d in set(rb["dependsOn"]) - one_sided)
        for path in sorted(set(fa) | set(fb)):
            va, vb = fa.get(path, "(absent)"), fb.get(path, "(absent)")
            if va == vb or ex.explains(va, vb):
                continue
            rule = rule_for(ra["type"], ra["name"], inp=path) or rule_for(
                rb["type"], rb["name"], inp=path
            )
            if rule:
                used.add(rule)
                continue
            report.differences.append(
                Finding("input", lb, f"{path} differs: {a} {_show(va)}, {b} {_show(vb)}")
            )
    outs = {s: dict(states[s].get("outputs") or {}) for s in rules.stacks}
    for key in sorted(set(outs[a]) ^ set(outs[b])):
        only = a if key in outs[a] else b
        if key in rules.outputs:
            report.allowed.append((f"output {key}", rules.outputs[key]))
        else:
            report.differences.append(Finding("output", key, f"stack output in {only} only"))
    for rule in rules.resources:
        if rule in used:
            report.allowed.append((f"resources {rule.describe()}", rule.reason))
        else:
            report.unused_rules.append(rule.describe())


def _kind_of(typ: str) -> str:
    short = typ.rsplit(":", 1)[-1]
    return {"Dashboard": "dashboard", "Card": "card", "Collection": "collection"}.get(
        short, "resource"
    )


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------
def check(root: Path = REPO, states: Mapping[str, Mapping[str, Any]] | None = None) -> ParityReport:
    """Both comparisons. `states` (stack -> desired state) defaults to the program under mocks."""
    rules = load_rules(root)
    files = {s: _stack_doc(s, root) for s in rules.stacks}
    defaults = {
        k: d.get("default") for k, d in project_declarations(root).items() if "default" in d
    }
    report = ParityReport(stacks=rules.stacks)
    compare_config(files, rules, defaults, report)
    if states is None:
        states = desired_states(rules.stacks, root)
    compare_states(states, files, rules, report, defaults)
    return report


def desired_states(stacks: Sequence[str], root: Path = REPO) -> dict[str, dict[str, Any]]:
    from mfb_infra.program import run_program
    from mfb_infra.snapshot import desired_state

    return {s: desired_state(run_program(s, root=root)) for s in stacks}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="mfb-infra parity",
        description="Fail when staging and production differ anywhere Pulumi.yaml's `parity:` "
        "section does not declare (stack files and desired states under mocks; no credentials).",
    )
    ap.add_argument("--json", action="store_true", help="machine-readable report")
    args = ap.parse_args(argv)
    from components.config import ConfigError
    from mfb_infra.snapshot import SecretLeak

    try:
        report = check()
    except (ParityError, ConfigError, FileNotFoundError, SecretLeak) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "differences": [f.__dict__ for f in report.differences],
                    "allowed": [{"what": w, "reason": r} for w, r in report.allowed],
                    "unusedRules": report.unused_rules,
                },
                indent=2,
            )
        )
    else:
        sys.stdout.write(report.format())
    return 0 if report.ok else 1
