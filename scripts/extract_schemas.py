"""Extract the subset of the providers' published Pulumi schemas this project uses.

    python scripts/extract_schemas.py --mirror /work/.mirror   # rewrite schemas/*.json

For each provider in `SOURCES` it reads `schema.json` from a bare git clone of the provider's
repository (as the `fetch` tool or `git clone --bare` leaves it) at the recorded ref, and keeps
only what validating our registrations needs: the provider's own config inputs, every resource
type the program registers (in any of `mfb_infra.schema_check.VARIANTS`), each with its
`inputProperties` and `requiredInputs`, and every object/enum type those reference (transitively).
Descriptions and per-language metadata are dropped; `secret`, `deprecationMessage`,
`willReplaceOnChanges` and enum values are kept.

The refs are recorded in schemas/README.md and in each file's `$source`; tests fail when the
program registers a type the files do not cover (rerun this script then).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# package -> (GitHub repository, path of schema.json, ref to read, the pinned SDK version, note)
SOURCES: dict[str, dict[str, str]] = {
    "heroku": {
        "repo": "pulumiverse/pulumi-heroku",
        "path": "provider/cmd/pulumi-resource-heroku/schema.json",
        "ref": "v1.0.4",
        "sdk": "pulumiverse-heroku==1.0.4",
    },
    "github": {
        "repo": "pulumi/pulumi-github",
        "path": "provider/cmd/pulumi-resource-github/schema.json",
        "ref": "v6.15.0",
        "sdk": "pulumi-github==6.15.0",
    },
    "gcp": {
        "repo": "pulumi/pulumi-gcp",
        "path": "provider/cmd/pulumi-resource-gcp/schema.json",
        # The schema.json blob (~100 MB) is absent from every stored version of the repository
        # (the mirror keeps its largest files out), and v10.2.0 is not tagged in it. The same
        # contract is read from the pinned SDK instead: pulumi's codegen generates
        # pulumi_gcp 10.2.0's input types (names, required-ness, types) from that schema.
        "ref": "sdk",
        "sdk": "pulumi-gcp==10.2.0",
        "module": "pulumi_gcp",
    },
    "postgresql": {
        "repo": "pulumi/pulumi-postgresql",
        "path": "provider/cmd/pulumi-resource-postgresql/schema.json",
        # v3.18.2 is not tagged in the stored mirror (tags stop at v3.18.0); its newest commit
        # (after v3.18.0) is the nearest. The SDK cross-check test finds no difference.
        "ref": "346d9a08488b13f0400bfae956cccb984ccfa65b",
        "sdk": "pulumi-postgresql==3.18.2",
    },
    "random": {
        "repo": "pulumi/pulumi-random",
        "path": "provider/cmd/pulumi-resource-random/schema.json",
        # v4.21.4 is not tagged in the stored mirror (tags stop at v4.21.1); nearest: its newest
        # commit (after v4.21.1). The SDK cross-check test finds no difference.
        "ref": "f64d8726a4f5edf2c675e03a53cdf740fb542f47",
        "sdk": "pulumi-random==4.21.4",
    },
}

KEEP_PROPERTY_KEYS = (
    "type",
    "items",
    "additionalProperties",
    "$ref",
    "oneOf",
    "secret",
    "deprecationMessage",
    "willReplaceOnChanges",
    "const",
)


def _strip(prop: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in KEEP_PROPERTY_KEYS:
        if key not in prop:
            continue
        val = prop[key]
        if key in ("items", "additionalProperties") and isinstance(val, dict):
            val = _strip(val)
        elif key == "oneOf":
            val = [_strip(v) for v in val]
        out[key] = val
    return out


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/types/"):
            found.add(ref[len("#/types/") :])
        for v in node.values():
            found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


def _inputs(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "inputProperties": {
            k: _strip(v) for k, v in sorted((spec.get("inputProperties") or {}).items())
        },
        "requiredInputs": sorted(spec.get("requiredInputs") or []),
    }


def subset(schema: dict[str, Any], tokens: set[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    missing = []
    for token in sorted(tokens):
        spec = schema["resources"].get(token)
        if spec is None:
            missing.append(token)
            continue
        resources[token] = _inputs(spec)
    if missing:
        raise SystemExit(f"resource types not in the schema: {missing}")
    provider = _inputs(schema.get("provider") or {})
    types: dict[str, Any] = {}
    todo = _refs(resources) | _refs(provider)
    while todo:
        name = todo.pop()
        if name in types:
            continue
        spec = schema["types"][name]
        kept: dict[str, Any] = {"type": spec.get("type", "object")}
        if "enum" in spec:
            kept["enum"] = [e["value"] for e in spec["enum"]]
        else:
            kept["properties"] = {
                k: _strip(v) for k, v in sorted((spec.get("properties") or {}).items())
            }
            kept["required"] = sorted(spec.get("required") or [])
        types[name] = kept
        todo |= _refs(kept) - set(types)
    return {
        "name": schema["name"],
        "provider": provider,
        "resources": resources,
        "types": dict(sorted(types.items())),
    }


# --------------------------------------------------------------------------------------------
# The same subset read from a pinned Python SDK (generated by pulumi's codegen from schema.json)
# --------------------------------------------------------------------------------------------
def _sdk_type(hint: Any, package: str, types: dict[str, Any]) -> dict[str, Any]:
    import collections.abc
    import enum
    import typing

    import pulumi

    origin = typing.get_origin(hint)
    if origin is typing.Union:
        alts = []
        for a in typing.get_args(hint):
            o = typing.get_origin(a)
            if a is type(None) or o is collections.abc.Awaitable or o is pulumi.Output:
                continue
            if a is pulumi.Output:
                continue
            alts.append(_sdk_type(a, package, types))
        uniq = [json.loads(x) for x in dict.fromkeys(json.dumps(a, sort_keys=True) for a in alts)]
        return uniq[0] if len(uniq) == 1 else {"oneOf": uniq}
    if origin in (collections.abc.Sequence, list):
        return {"type": "array", "items": _sdk_type(typing.get_args(hint)[0], package, types)}
    if origin in (collections.abc.Mapping, dict):
        return {
            "type": "object",
            "additionalProperties": _sdk_type(typing.get_args(hint)[1], package, types),
        }
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is typing.Any:
        return {"$ref": "pulumi.json#/Any"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        name = f"{package}:{hint.__module__.split('.')[1]}/{hint.__name__}:{hint.__name__}"
        types[name] = {"type": "string", "enum": [m.value for m in hint]}
        return {"$ref": f"#/types/{name}"}
    if isinstance(hint, type) and hasattr(hint, "_pulumi_input_type"):
        short = hint.__name__.removesuffix("Args")
        name = f"{package}:{hint.__module__.split('.')[1]}/{short}:{short}"
        if name not in types:
            types[name] = {}  # placeholder against recursion
            types[name] = _sdk_object(hint, package, types)
        return {"$ref": f"#/types/{name}"}
    raise SystemExit(f"cannot translate SDK type hint {hint!r}")


def _sdk_object(cls: type, package: str, types: dict[str, Any]) -> dict[str, Any]:
    from pulumi import _types

    hints = _types._raw_return_hints(cls)
    return {
        "type": "object",
        "properties": {k: _sdk_type(h, package, types) for k, h in sorted(hints.items())},
        "required": sorted(_types._required_property_names(cls)),
    }


def sdk_subset(package: str, module: str, tokens: set[str]) -> dict[str, Any]:
    import importlib

    root = importlib.import_module(module)
    types: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    for token in sorted(tokens):
        mod_name, cls_name = token.split(":")[1].split("/")[0], token.rsplit(":", 1)[1]
        mod = importlib.import_module(f"{module}.{mod_name}") if mod_name != "index" else root
        obj = _sdk_object(getattr(mod, f"{cls_name}Args"), package, types)
        resources[token] = {"inputProperties": obj["properties"], "requiredInputs": obj["required"]}
    prov = _sdk_object(root.ProviderArgs, package, types)
    return {
        "name": package,
        "provider": {"inputProperties": prov["properties"], "requiredInputs": prov["required"]},
        "resources": resources,
        "types": dict(sorted(types.items())),
    }


def registered_tokens() -> dict[str, set[str]]:
    """package -> resource types the program registers in any variant (under mocks)."""
    from mfb_infra.schema_check import VARIANTS, run_variant

    by_package: dict[str, set[str]] = {}
    for variant in VARIANTS:
        for reg in run_variant(variant).registrations:
            package = reg.type.split(":", 1)[0]
            if package in SOURCES and not reg.read:
                by_package.setdefault(package, set()).add(reg.type)
    return by_package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=REPO / "schemas")
    args = parser.parse_args(argv)
    tokens = registered_tokens()
    args.out.mkdir(exist_ok=True)
    for package, src in SOURCES.items():
        if src["ref"] == "sdk":
            from importlib.metadata import version

            doc = sdk_subset(package, src["module"], tokens.get(package, set()))
            pinned = src["sdk"].split("==")[1]
            if version(src["sdk"].split("==")[0]) != pinned:
                raise SystemExit(f"{src['sdk']} is not the installed version")
            doc = {
                "$source": {
                    "sdk": src["sdk"],
                    "schemaPath": src["path"],
                    "repository": f"https://github.com/{src['repo']}",
                    "note": "read from the pinned SDK's generated input types",
                },
                **doc,
            }
            path = args.out / f"{package}.json"
            path.write_text(json.dumps(doc, indent=1) + "\n")
            print(
                f"{path.relative_to(REPO)}: {len(doc['resources'])} resources, "
                f"{len(doc['types'])} types from {src['sdk']} (SDK)"
            )
            continue
        git_dir = args.mirror / src["repo"].replace("/", "+") / "repo"
        commit = subprocess.run(
            ["git", "--git-dir", str(git_dir), "rev-parse", f"{src['ref']}^{{commit}}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        raw = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{commit}:{src['path']}"],
            check=True,
            capture_output=True,
        ).stdout
        doc = subset(json.loads(raw), tokens.get(package, set()))
        doc = {
            "$source": {
                "repository": f"https://github.com/{src['repo']}",
                "path": src["path"],
                "ref": src["ref"],
                "commit": commit,
                "pinnedSdk": src["sdk"],
            },
            **doc,
        }
        path = args.out / f"{package}.json"
        path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        print(
            f"{path.relative_to(REPO)}: {len(doc['resources'])} resources, "
            f"{len(doc['types'])} types from {src['repo']}@{commit[:12]} ({src['ref']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
