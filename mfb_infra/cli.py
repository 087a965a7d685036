"""`mfb-infra`: the commands people run around `pulumi up`."""

from __future__ import annotations

import importlib
import sys

# command -> (module with main(argv) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "snapshot": ("mfb_infra.snapshot", "desired state of a stack under mocks (no credentials)"),
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
    module = importlib.import_module(COMMANDS[cmd][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
