"""Drive one dynamic resource at a time through Pulumi's real provider host (see host.py).

``Engine.up(name, provider, inputs)`` is one resource's part of a ``pulumi up``: the provider is
serialized as ``pulumi.dynamic.Resource`` registers it (the ``__provider`` string), and
``Check``/``Diff``/``Create``/``Update``/``Delete``/``Read`` go over gRPC to a
``python -m pulumi.dynamic`` process started from the repository root and configured once with
``config``. One host process serves every ``Engine`` with the same config for the whole session,
so provider instances are shared across resources and tests as in a real deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from host import (
    CheckFailed,
    HostDiff,
    HostEngine,
    ProviderHost,
    StateEntry,
    make_urn,
    serialize_provider,
    shared_host,
)

__all__ = ["HOST_ENV", "CheckFailed", "Engine", "Record", "host_for"]

#: retry knobs of the host process (the in-process ``fast_retries`` fixture's values)
HOST_ENV = {"MFB_METABASE_RETRY": "attempts=6,backoff=0.005,max_backoff=0.02,timeout=10"}


def host_for(config: dict[str, Any] | None = None) -> ProviderHost:
    return shared_host(config or {}, HOST_ENV)


@dataclass
class Record:
    provider: Any
    id: str
    inputs: dict[str, Any]
    outs: dict[str, Any]


def _type_token(provider: Any) -> str:
    kind = type(provider).__name__.removesuffix("Provider")
    return f"pulumi-python:dynamic/metabase:{kind}"


@dataclass
class Engine:
    """Per-resource engine steps through the shared host; ``state`` maps name -> Record."""

    connection: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Record] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    @property
    def host(self) -> ProviderHost:
        return host_for(self.config)

    def load(self, provider: Any) -> Any:
        """In-process stand-in for the host's ``get_provider`` (deserialize, then configure), for
        tests that inspect a configured instance; every resource operation goes to the host."""
        import base64

        import dill
        from pulumi.dynamic import ConfigureRequest
        from pulumi.dynamic.config import Config

        loaded = dill.loads(base64.b64decode(serialize_provider(provider)))
        loaded.configure(ConfigureRequest(Config(self.config, "mfb-analytics")))
        return loaded

    def _engine(self, name: str, provider: Any) -> tuple[HostEngine, str]:
        """A one-resource HostEngine whose state is this resource's Record."""
        urn = make_urn(_type_token(provider), name)
        engine = HostEngine(self.host)
        prior = self.state.get(name)
        if prior is not None:
            engine.state[urn] = StateEntry(urn, prior.id, prior.inputs, prior.outs)
        return engine, urn

    def _inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"connection": self.connection, **inputs}

    def check(self, name: str, provider: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        engine, urn = self._engine(name, provider)
        return engine.check(urn, serialize_provider(provider), self._inputs(inputs))

    def preview(self, name: str, provider: Any, inputs: dict[str, Any]) -> HostDiff:
        """Check + Diff against the stored outputs, as ``pulumi preview`` does."""
        engine, urn = self._engine(name, provider)
        news = engine.check(urn, serialize_provider(provider), self._inputs(inputs))
        prior = self.state[name]
        return self.host.diff(urn, prior.id, prior.outs, news)

    def up(self, name: str, provider: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        engine, urn = self._engine(name, provider)
        op, replaced = engine.step(urn, serialize_provider(provider), self._inputs(inputs))
        if replaced is not None:
            self.host.delete(urn, replaced.id, replaced.outputs)
        entry = engine.state[urn]
        self.state[name] = Record(provider, entry.id, entry.inputs, entry.outputs)
        self.log.append((op, name))
        return entry.outputs

    def refresh(self, name: str) -> dict[str, Any] | None:
        prior = self.state[name]
        engine, urn = self._engine(name, prior.provider)
        engine.refresh().raise_first()
        entry = engine.state.get(urn)
        if entry is None:
            del self.state[name]
            return None
        self.state[name] = Record(prior.provider, entry.id, entry.inputs, entry.outputs)
        return entry.outputs

    def destroy(self, name: str) -> None:
        prior = self.state.pop(name)
        urn = make_urn(_type_token(prior.provider), name)
        self.host.delete(urn, prior.id, prior.outs)

    def id_of(self, name: str) -> int:
        return int(self.state[name].id)
