"""Drive dynamic providers as the Pulumi engine would (check → diff → create/update/read/delete).

Props cross a protobuf ``Struct`` between calls, as over gRPC (so ints arrive as floats), and the
provider is dill-pickled and unpickled before ``configure`` is called, as in the provider process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dill
from google.protobuf import struct_pb2
from pulumi.dynamic import CheckFailure, ConfigureRequest
from pulumi.dynamic.config import Config


def wire(props: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through protobuf Struct and back the way the dynamic provider host reads
    Check/Diff inputs (`rpc.deserialize_properties(..., keep_unknowns=True)`): numbers arrive
    as floats, and a preview's unknown values as `pulumi.output.Unknown` objects."""
    from pulumi.runtime import rpc

    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props, default=_unknown_sentinel)))
    return rpc.deserialize_properties(s, True)


def _unknown_sentinel(value: Any) -> str:
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return rpc_unknown()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def rpc_unknown() -> str:
    from pulumi.runtime import rpc

    return rpc.UNKNOWN


class CheckFailed(AssertionError):
    def __init__(self, failures: list[CheckFailure]):
        self.failures = failures
        super().__init__("; ".join(f"{f.property}: {f.reason}" for f in failures))


@dataclass
class Record:
    provider: Any
    id: str
    inputs: dict[str, Any]
    outs: dict[str, Any]


@dataclass
class Engine:
    connection: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Record] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    def load(self, provider: Any) -> Any:
        """Pickle/unpickle like Resource construction + the provider process, then configure."""
        loaded = dill.loads(dill.dumps(provider, recurse=True))
        loaded.configure(ConfigureRequest(Config(self.config, "mfb-analytics")))
        return loaded

    def check(self, name: str, provider: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        prior = self.state.get(name)
        news = wire({"connection": self.connection, **inputs})
        result = provider.check(prior.inputs if prior else {}, news)
        if result.failures:
            raise CheckFailed(result.failures)
        return wire(result.inputs)

    def preview(self, name: str, provider: Any, inputs: dict[str, Any]) -> Any:
        provider = self.load(provider)
        news = self.check(name, provider, inputs)
        prior = self.state[name]
        return provider.diff(prior.id, prior.outs, news)

    def up(self, name: str, provider: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        provider = self.load(provider)
        news = self.check(name, provider, inputs)
        prior = self.state.get(name)
        if prior is None:
            created = provider.create(news)
            self.state[name] = Record(provider, created.id, news, wire(created.outs))
            self.log.append(("create", name))
            return self.state[name].outs
        diff = provider.diff(prior.id, prior.outs, news)
        if not diff.changes:
            self.log.append(("same", name))
            return prior.outs
        if diff.replaces:
            created = provider.create(news)
            provider.delete(prior.id, prior.outs)
            self.state[name] = Record(provider, created.id, news, wire(created.outs))
            self.log.append(("replace", name))
            return self.state[name].outs
        updated = provider.update(prior.id, prior.outs, news)
        self.state[name] = Record(provider, prior.id, news, wire(updated.outs))
        self.log.append(("update", name))
        return self.state[name].outs

    def refresh(self, name: str) -> dict[str, Any] | None:
        prior = self.state[name]
        provider = self.load(prior.provider)
        result = provider.read(prior.id, prior.outs)
        if not result.id:
            del self.state[name]
            return None
        self.state[name] = Record(prior.provider, result.id, prior.inputs, wire(result.outs))
        return self.state[name].outs

    def destroy(self, name: str) -> None:
        prior = self.state.pop(name)
        self.load(prior.provider).delete(prior.id, prior.outs)

    def id_of(self, name: str) -> int:
        return int(self.state[name].id)
