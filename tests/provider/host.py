"""Pulumi's own dynamic-provider host, driven over gRPC exactly as the engine drives it.

What the engine does (read in pulumi 3.272: ``pulumi/dynamic/__main__.py``, the engine's
``plugin/provider_plugin.go`` marshalling; see ../shared/reference/pulumi-notes.md):

- it starts ``python -u -m pulumi.dynamic`` with the stack's virtualenv and cwd = the program
  directory (``python -m`` puts the cwd on ``sys.path``: that is how ``components.*`` provider
  classes, pickled by reference, are found), and reads the gRPC port the host prints on stdout;
- ``Configure`` once with the stack config; the host answers ``acceptSecrets: false``, so every
  later request carries secrets as plain values (``ProviderHost`` asserts that answer and sends
  plain values only);
- ``Check(urn, olds=stored inputs, news)``, ``Diff(id, olds=stored outputs, news=checked inputs)``,
  ``Create(properties=checked inputs)``, ``Update(id, olds=stored outputs, news)``,
  ``Delete(id, properties=stored outputs)``, ``Read(id, properties=stored outputs, inputs=stored
  inputs)``; properties are ``google.protobuf.Struct`` (so every number is a float64), a preview's
  not-yet-known values are the unknown sentinel string, and ``__provider`` (the serialized
  provider the program registered) is in every request;
- the host deserializes each distinct ``__provider`` once and serves every resource of that kind
  from that one instance, on a ``ThreadPoolExecutor(max_workers=4)``: calls here are issued
  concurrently, so the providers run as they will under ``pulumi up``.

``HostEngine`` is a small engine on top: state (urn -> id, inputs, outputs), ``up`` (check, diff,
create/update/replace in dependency order with outputs resolved into dependents' inputs, then
deletes of what left the program, dependents first), ``preview`` (check + diff; values from
resources still to be created are unknown) and ``refresh`` (read everything).
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN
PROVIDER_KEY = "__provider"
PROJECT = "mfb-analytics"
#: the host's worker pool (``futures.ThreadPoolExecutor(max_workers=4)`` in __main__.py)
HOST_WORKERS = 4


# ------------------------------------------------------------------------------- errors
@dataclass
class Failure:
    property: str
    reason: str


class CheckFailed(AssertionError):
    """``Check`` answered failures (the engine stops the resource with these messages)."""

    def __init__(self, failures: Sequence[Any]):
        self.failures = list(failures)
        super().__init__("; ".join(f"{f.property}: {f.reason}" for f in self.failures))


class HostError(Exception):
    """A provider method raised inside the host; ``traceback`` is the host's text."""

    traceback: str = ""
    method: str = ""


_REMOTE_TYPES: dict[type, type] = {}
_LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$", re.S)


def remote_error(method: str, urn: str, err: grpc.RpcError) -> Exception:
    """The exception the host's traceback names, re-raisable here.

    The host aborts with ``traceback.format_exc()`` as details; its last line is
    ``module.Class: message``. When that class is importable here (our providers' errors), the
    result is an instance of a subclass of it and of ``HostError``, so callers (and
    ``pytest.raises``) can match on the provider's own exception types.
    """
    details = err.details() or ""
    lines = [ln for ln in details.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else f"{err.code()}"
    base: type = Exception
    message = last
    match = _LAST_LINE.match(last)
    if match and "." in match.group(1):
        mod_name, _, cls_name = match.group(1).rpartition(".")
        message = match.group(2) or ""
        try:
            found = getattr(importlib.import_module(mod_name), cls_name)
            if isinstance(found, type) and issubclass(found, Exception):
                base = found
        except Exception:
            base = Exception
    cls = _REMOTE_TYPES.get(base)
    if cls is None:
        cls = type(f"Remote{base.__name__}", (HostError, base), {"__init__": _remote_init})
        _REMOTE_TYPES[base] = cls
    exc = cls(f"{message} [host {method} {urn}]")
    exc.traceback, exc.method = details, method
    return exc


def _remote_init(self: Exception, message: str) -> None:
    Exception.__init__(self, message)


# ------------------------------------------------------------------------------- wire format
def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Plain values -> ``Struct`` as the engine marshals them (numbers become float64).

    ``pulumi.output.Unknown`` objects (what the host hands providers for unknowns) go back on the
    wire as the sentinel string; anything that is not JSON data is an error here, never coerced.
    """
    s = struct_pb2.Struct()
    s.update(_plain(dict(props)))
    return s


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return UNKNOWN
    raise TypeError(f"{type(value).__name__} {value!r} cannot cross the engine/provider wire")


def from_struct(s: struct_pb2.Struct) -> dict[str, Any]:
    """``Struct`` -> plain values as the engine keeps them (numbers stay floats)."""
    return json_format.MessageToDict(s)


def contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def serialize_provider(provider: Any) -> str:
    """The ``__provider`` string ``pulumi.dynamic.Resource`` registers for ``provider``."""
    from pulumi.dynamic import dynamic
    from pulumi.runtime._serialization import _serialize

    import components  # noqa: F401  (applies the project's pickler fix, as __main__.py does)

    serialized, _secret = _serialize(True, dynamic.serialize_provider, provider)
    return serialized


# ------------------------------------------------------------------------------- the host
@dataclass
class HostDiff:
    """What the engine learns from ``Diff``: the host sends no stables and no detailed diff."""

    changes: bool | None
    replaces: list[str]
    delete_before_replace: bool


class ProviderHost:
    """One ``python -u -m pulumi.dynamic`` process and its gRPC stub, configured once."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        python: str | None = None,
        cwd: Path = REPO,
        start_timeout: float = 60.0,
        call_timeout: float = 300.0,
    ) -> None:
        self.config = dict(config or {})
        self.env = dict(env or {})
        self.python = python or _venv_python()
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.calls: Counter = Counter()
        self._calls_lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()
        self.configure_response: provider_pb2.ConfigureResponse | None = None

    # ---- lifecycle
    def start(self) -> ProviderHost:
        env = {**os.environ, **self.env}
        env.setdefault("PULUMI_PROJECT", PROJECT)
        env.pop("PYTHONPATH", None)  # only the cwd makes `components` importable, as it must
        self.proc = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.dynamic"],
            cwd=str(self.cwd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self.port = self._read_port()
        from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS

        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS
        )
        grpc.channel_ready_future(self.channel).result(timeout=self.start_timeout)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self._configure()
        return self

    def _read_port(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))
        reader.daemon = True
        reader.start()
        reader.join(self.start_timeout)
        line = result[0].strip() if result else b""
        if not line.isdigit():
            self.stop()
            raise RuntimeError(
                f"pulumi.dynamic host printed {line!r} instead of its port; stderr:\n"
                f"{self.stderr()[-3000:]}"
            )
        return int(line)

    def _configure(self) -> None:
        """``Configure`` as the engine sends it: every stack config key, in ``variables`` and as
        ``args`` (the host reads ``args``); the engine offers secrets, the host declines them."""
        args = struct_pb2.Struct()
        args.update({k: v for k, v in self.config.items()})
        req = provider_pb2.ConfigureRequest(
            variables={k: _config_string(v) for k, v in self.config.items()},
            args=args,
            acceptSecrets=True,
            acceptResources=True,
        )
        resp = self.stub.Configure(req, timeout=self.call_timeout)
        if resp.acceptSecrets:
            raise AssertionError("the dynamic host accepted secrets: this harness sends them plain")
        self.configure_response = resp

    def stop(self) -> None:
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    # ---- RPCs (plain dicts in and out)
    def _call(self, method: str, urn: str, request: Any) -> Any:
        with self._calls_lock:
            self.calls[method] += 1
        try:
            return getattr(self.stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNKNOWN and "Traceback" in (err.details() or ""):
                raise remote_error(method, urn, err) from None
            raise RuntimeError(
                f"host {method} {urn}: {err.code()} {err.details()}\n"
                f"host stderr:\n{self.stderr()[-2000:]}"
            ) from None

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Failure]]:
        resp = self._call(
            "Check",
            urn,
            provider_pb2.CheckRequest(
                urn=urn,
                olds=to_struct(olds),
                news=to_struct(news),
                name=_name(urn),
                type=_type(urn),
            ),
        )
        failures = [Failure(f.property, f.reason) for f in resp.failures]
        return from_struct(resp.inputs), failures

    def diff(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> HostDiff:
        resp = self._call(
            "Diff",
            urn,
            provider_pb2.DiffRequest(
                id=id_,
                urn=urn,
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs or {}),
                name=_name(urn),
                type=_type(urn),
            ),
        )
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: True,
            provider_pb2.DiffResponse.DIFF_NONE: False,
        }.get(resp.changes)
        return HostDiff(changes, list(resp.replaces), bool(resp.deleteBeforeReplace))

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self._call(
            "Create",
            urn,
            provider_pb2.CreateRequest(
                urn=urn,
                properties=to_struct(props),
                timeout=self.call_timeout,
                preview=False,
                name=_name(urn),
                type=_type(urn),
            ),
        )
        return resp.id, from_struct(resp.properties)

    def read(
        self, urn: str, id_: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        resp = self._call(
            "Read",
            urn,
            provider_pb2.ReadRequest(
                id=id_,
                urn=urn,
                properties=to_struct(props),
                inputs=to_struct(inputs),
                name=_name(urn),
                type=_type(urn),
            ),
        )
        new_inputs = from_struct(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, from_struct(resp.properties), new_inputs

    def update(
        self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        resp = self._call(
            "Update",
            urn,
            provider_pb2.UpdateRequest(
                id=id_,
                urn=urn,
                olds=to_struct(olds),
                news=to_struct(news),
                timeout=self.call_timeout,
                name=_name(urn),
                type=_type(urn),
            ),
        )
        return from_struct(resp.properties)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        self._call(
            "Delete",
            urn,
            provider_pb2.DeleteRequest(
                id=id_,
                urn=urn,
                properties=to_struct(props),
                timeout=self.call_timeout,
                name=_name(urn),
                type=_type(urn),
            ),
        )


def _venv_python() -> str:
    """The project's virtualenv interpreter (what Pulumi.yaml's ``virtualenv: .venv`` selects)."""
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type(urn: str) -> str:
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 2 else ""


def make_urn(type_: str, name: str, stack: str = "test") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


_POOL: dict[str, ProviderHost] = {}
_POOL_LOCK = threading.Lock()


def shared_host(
    config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> ProviderHost:
    """One running host per distinct (config, env) for the whole test session.

    A host caches each provider instance with the config of the first ``Configure``, exactly as
    in a real ``pulumi up``, so a different stack config needs a different host process.
    """
    key = json.dumps([dict(config or {}), dict(env or {})], sort_keys=True)
    with _POOL_LOCK:
        host = _POOL.get(key)
        if host is None or not host.alive():
            host = ProviderHost(config, env=env).start()
            _POOL[key] = host
        return host


@atexit.register
def stop_shared_hosts() -> None:
    with _POOL_LOCK:
        for host in _POOL.values():
            host.stop()
        _POOL.clear()


# ------------------------------------------------------------------------------- the engine
@dataclass(frozen=True)
class Ref:
    """An input value that is another resource's output (resolved when the step runs)."""

    urn: str
    key: str


@dataclass
class Desired:
    """One resource as the program registers it."""

    urn: str
    inputs: dict[str, Any]  # plain values; ``Ref`` leaves for other resources' outputs
    provider: str  # the serialized ``__provider`` the program registered
    depends_on: tuple[str, ...] = ()

    def refs(self) -> set[str]:
        found: set[str] = set()
        _walk_refs(self.inputs, found)
        return found


def _walk_refs(value: Any, found: set[str]) -> None:
    if isinstance(value, Ref):
        found.add(value.urn)
    elif isinstance(value, Mapping):
        for v in value.values():
            _walk_refs(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            _walk_refs(v, found)


@dataclass
class StateEntry:
    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    depends_on: tuple[str, ...] = ()


@dataclass
class RunResult:
    """Per-urn operation (create/update/replace/same/delete/skipped) and errors of one run."""

    ops: dict[str, str] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> Counter:
        return Counter(self.ops.values())

    def changed(self) -> list[str]:
        return sorted(u for u, op in self.ops.items() if op not in ("same",))

    def raise_first(self) -> None:
        for err in self.errors.values():
            raise err


class HostEngine:
    """A small Pulumi engine over one ``ProviderHost``: state, up, preview, refresh, destroy.

    ``parallel`` is how many steps the engine has in flight at once (``pulumi up --parallel``);
    the host itself serves at most 4 at a time. Like ``pulumi up`` without
    ``--continue-on-error``, a failed step stops new steps from starting; steps already running
    finish and are recorded.
    """

    def __init__(self, host: ProviderHost | None = None, *, parallel: int = 8) -> None:
        self.host: ProviderHost = host  # type: ignore[assignment]  # set per operation if None
        self.parallel = parallel
        self.state: dict[str, StateEntry] = {}
        self._lock = threading.Lock()

    # ---- one resource
    def resolve(self, value: Any, unknown: Callable[[str], bool] = lambda _u: False) -> Any:
        if isinstance(value, Ref):
            if unknown(value.urn):
                return UNKNOWN
            entry = self.state.get(value.urn)
            if entry is None:
                raise KeyError(f"{value.urn} has no state yet (dependency order?)")
            if value.key not in entry.outputs:
                raise KeyError(f"{value.urn} has no output {value.key!r}")
            return entry.outputs[value.key]
        if isinstance(value, Mapping):
            return {k: self.resolve(v, unknown) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(v, unknown) for v in value]
        return value

    def check(self, urn: str, provider: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        prior = self.state.get(urn)
        news = {**inputs, PROVIDER_KEY: provider}
        checked, failures = self.host.check(urn, prior.inputs if prior else {}, news)
        if failures:
            raise CheckFailed(failures)
        return checked

    def step(
        self, urn: str, provider: str, inputs: Mapping[str, Any], depends_on: Iterable[str] = ()
    ) -> tuple[str, StateEntry | None]:
        """Check, diff, then create/update/replace one resource. Returns (op, replaced entry):
        a replaced entry is deleted by the caller once dependents moved (create-before-delete),
        or before the create when the provider asks for delete-before-replace."""
        checked = self.check(urn, provider, inputs)
        prior = self.state.get(urn)
        deps = tuple(depends_on)
        if prior is None:
            id_, outs = self.host.create(urn, checked)
            self._put(StateEntry(urn, id_, checked, outs, deps))
            return "create", None
        diff = self.host.diff(urn, prior.id, prior.outputs, checked, prior.inputs)
        if diff.changes is False:
            self._put(StateEntry(urn, prior.id, checked, prior.outputs, deps))
            return "same", None
        if diff.changes is None:
            raise AssertionError(f"{urn}: provider answered DIFF_UNKNOWN")
        if diff.replaces:
            if diff.delete_before_replace:
                self.host.delete(urn, prior.id, prior.outputs)
                with self._lock:
                    self.state.pop(urn, None)
                id_, outs = self.host.create(urn, checked)
                self._put(StateEntry(urn, id_, checked, outs, deps))
                return "replace", None
            id_, outs = self.host.create(urn, checked)
            self._put(StateEntry(urn, id_, checked, outs, deps))
            return "replace", prior
        outs = self.host.update(urn, prior.id, prior.outputs, checked)
        self._put(StateEntry(urn, prior.id, checked, outs, deps))
        return "update", None

    def _put(self, entry: StateEntry) -> None:
        with self._lock:
            self.state[entry.urn] = entry

    # ---- whole program
    def up(self, desired: Sequence[Desired]) -> RunResult:
        started = time.monotonic()
        result = RunResult()
        replaced: list[StateEntry] = []

        def run(d: Desired) -> str:
            op, old = self.step(d.urn, d.provider, self.resolve(d.inputs), self._deps(d, desired))
            if old is not None:
                with self._lock:
                    replaced.append(old)
            return op

        self._schedule(desired, run, result)
        if result.ok:
            wanted = {d.urn for d in desired}
            gone = [e for urn, e in self.state.items() if urn not in wanted]
            self._delete_all([*gone, *replaced], result, forget={e.urn for e in gone})
        result.seconds = time.monotonic() - started
        return result

    def preview(self, desired: Sequence[Desired]) -> RunResult:
        """Check + diff only. Values from resources that will be created (or replaced) are the
        unknown sentinel, as the engine passes them during ``pulumi preview``."""
        started = time.monotonic()
        result = RunResult()
        planned: dict[str, str] = {}

        def unknown(urn: str) -> bool:
            return planned.get(urn) in ("create", "replace") or urn not in self.state

        def run(d: Desired) -> str:
            checked = self.check(d.urn, d.provider, self.resolve(d.inputs, unknown))
            prior = self.state.get(d.urn)
            if prior is None:
                op = "create"
            else:
                diff = self.host.diff(d.urn, prior.id, prior.outputs, checked, prior.inputs)
                op = "same" if diff.changes is False else "replace" if diff.replaces else "update"
            with self._lock:
                planned[d.urn] = op
            return op

        self._schedule(desired, run, result)
        wanted = {d.urn for d in desired}
        for urn in self.state:
            if urn not in wanted:
                result.ops[urn] = "delete"
        result.seconds = time.monotonic() - started
        return result

    def refresh(self) -> RunResult:
        """``Read`` every resource; gone ones leave the state; returned inputs replace inputs.
        A resource is reported changed when ``Diff`` of what was read against its inputs is not
        DIFF_NONE, as the engine reports a refresh since pulumi/pulumi#16146 (2024)."""
        started = time.monotonic()
        result = RunResult()
        entries = list(self.state.values())

        def read(e: StateEntry) -> str:
            id_, outs, inputs = self.host.read(e.urn, e.id, e.outputs, e.inputs)
            if not id_:
                with self._lock:
                    self.state.pop(e.urn, None)
                return "delete"
            new = StateEntry(e.urn, id_, e.inputs if inputs is None else inputs, outs, e.depends_on)
            # what a refresh reports (pulumi/pulumi#16146, implementers-guide "refresh"):
            # Diff(olds=the candidate read, news=the inputs in state); DIFF_NONE = no drift
            diff = self.host.diff(e.urn, id_, outs, e.inputs, old_inputs=new.inputs)
            self._put(new)
            return "same" if diff.changes is False else "update"

        with ThreadPoolExecutor(self.parallel) as pool:
            futures = {pool.submit(read, e): e.urn for e in entries}
            for fut, urn in futures.items():
                try:
                    result.ops[urn] = fut.result()
                except Exception as exc:
                    result.errors[urn] = exc
        result.seconds = time.monotonic() - started
        return result

    def destroy(self) -> RunResult:
        result = RunResult()
        self._delete_all(list(self.state.values()), result, forget={u for u in self.state})
        return result

    # ---- scheduling
    @staticmethod
    def _deps(d: Desired, desired: Sequence[Desired]) -> tuple[str, ...]:
        names = {x.urn for x in desired}
        return tuple(sorted((set(d.depends_on) | d.refs()) & names))

    def _schedule(
        self, desired: Sequence[Desired], run: Callable[[Desired], str], result: RunResult
    ) -> None:
        by_urn = {d.urn: d for d in desired}
        if len(by_urn) != len(desired):
            raise ValueError("duplicate urns in the program")
        waiting = {d.urn: set(self._deps(d, desired)) for d in desired}
        done: set[str] = set()
        running: dict[Future[str], str] = {}
        stop = False
        with ThreadPoolExecutor(self.parallel) as pool:
            while True:
                if not stop:
                    for urn in [u for u, deps in waiting.items() if deps <= done]:
                        del waiting[urn]
                        running[pool.submit(run, by_urn[urn])] = urn
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    urn = running.pop(fut)
                    try:
                        result.ops[urn] = fut.result()
                        done.add(urn)
                    except Exception as exc:
                        result.errors[urn] = exc
                        stop = True
        for urn in waiting:
            result.ops.setdefault(urn, "skipped")
        if not result.errors and waiting:
            raise ValueError(f"dependency cycle or unknown dependency among {sorted(waiting)}")

    def _delete_all(self, entries: list[StateEntry], result: RunResult, forget: set[str]) -> None:
        """Delete dependents before what they depend on (in parallel where independent)."""
        pending = {id(e): e for e in entries}
        while pending:
            blocked = {d for e in pending.values() for d in e.depends_on}
            ready = [e for e in pending.values() if e.urn not in blocked] or list(pending.values())
            with ThreadPoolExecutor(self.parallel) as pool:
                futures = {pool.submit(self.host.delete, e.urn, e.id, e.outputs): e for e in ready}
                for fut, e in futures.items():
                    pending.pop(id(e))
                    try:
                        fut.result()
                        if e.urn in forget:
                            with self._lock:
                                self.state.pop(e.urn, None)
                            result.ops[e.urn] = "delete"
                    except Exception as exc:
                        result.errors[e.urn] = exc
            if result.errors:
                return
