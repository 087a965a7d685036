"""`mfb-infra`: the commands people run around `pulumi up`."""

from __future__ import annotations

import importlib
import sys

# command -> (module with main(argv) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "snapshot": ("mfb_infra.snapshot", "desired state of a stack under mocks (no credentials)"),
    "local": ("mfb_infra.local", "up|down: the embedded analytics database (Postgres, dbt, roles)"),
    "sql": ("mfb_infra.sql", "the tenant-access SQL a stack stands for (for DBAs, idempotent)"),
    "sample-data": ("mfb_infra.sample_data", "load Django-shaped sample rows into a Postgres"),
    "metabase": (
        "mfb_infra.metabase_sync",
        "sync: schema sync of the chosen Metabase databases; export: a dashboard as YAML + SQL",
    ),
    "parity": ("mfb_infra.parity", "staging and production differ only where Pulumi.yaml says"),
    "gate": ("mfb_infra.gate", "refuse a production deploy of a commit staging does not run"),
    "preflight": ("mfb_infra.preflight", "does the live database hold what the content needs?"),
    "runbook": ("mfb_infra.runbook", "operations runbook (Markdown) from a stack's outputs"),
    "preview": ("mfb_infra.preview", "the declared dashboards drawn as a static site (--diff REF)"),
}
# commands whose first argument is a sub-command handled by the module's main(rest)
SUBCOMMANDS: dict[str, tuple[str, ...]] = {"metabase": ("sync", "export")}
# sub-commands handled by a module of their own (others: the command's module)
SUBCOMMAND_MODULES: dict[tuple[str, str], str] = {
    ("metabase", "export"): "mfb_infra.metabase_export"
}


def _usage() -> str:
    width = max(len(c) for c in COMMANDS)
    rows = "\n".join(f"  {c.ljust(width)}  {h}" for c, (_m, h) in COMMANDS.items())
    return f"usage: mfb-infra <command> [options]\n\ncommands:\n{rows}\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_usage())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        sys.stderr.write(f"mfb-infra: unknown command '{cmd}'\n\n{_usage()}")
        return 2
    if cmd in SUBCOMMANDS:
        if not rest or rest[0] not in SUBCOMMANDS[cmd]:
            sys.stderr.write(f"usage: mfb-infra {cmd} {{{','.join(SUBCOMMANDS[cmd])}}} [options]\n")
            return 2
        sub, rest = rest[0], rest[1:]
        module = importlib.import_module(SUBCOMMAND_MODULES.get((cmd, sub), COMMANDS[cmd][0]))
        return int(module.main(rest) or 0)
    module = importlib.import_module(COMMANDS[cmd][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
