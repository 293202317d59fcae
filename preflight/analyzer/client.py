"""``PolicyAnalyzer``: one running policy pack, spoken to over the Analyzer gRPC protocol in the engine's
order (Handshake, ConfigureStack, GetAnalyzerInfo, Configure, Remediate and Analyze per resource,
AnalyzeStack).
The subprocess is always terminated, whatever happens."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from ..engine import RecordedResource
from .pack_env import PACK_PYTHON_ENV, load_pack_project, pack_python
from .policy_config import load_policy_config, reconcile_config
from .remediation import Remediator, remediates
from .process import (
    CHANNEL_OPTIONS,
    CONFIG_ENV_LIMIT,
    RUNNING,
    EngineService,
    Spawning,
    config_env,
    pipe_lines,
    stop_group,
)
from .requests import STACK_SHAPES, Requests, default_providers, stack_urn, struct
from .results import (
    LEVEL_VALUES,
    PackInfo,
    PolicyConfig,
    PolicyPackError,
    PolicyRun,
    pack_info,
)
from .stream import ANALYZE_WINDOW, AnalyzeStream


class PolicyAnalyzer:
    """One running pack. ``start()`` only spawns it (so the caller can run the program meanwhile);
    ``connect()`` waits until it serves; ``run()`` connects, configures and analyzes; ``close()``
    always ends the subprocess. ``with PolicyAnalyzer(...) as a:`` starts and connects."""

    def __init__(self, pack_dir: Path, *, project: str, stack: str, config_file: Path | None,
                 stack_config: Mapping[str, str] | None = None, secret_keys: Sequence[str] = (),
                 dry_run: bool = True, python: str | None = None, organization: str = "organization",
                 timeout: float = 120.0, log: IO[str] | None = None) -> None:
        self.pack_dir = pack_dir.resolve()
        self.project = project
        self.stack = stack
        self.config_file = config_file
        self.stack_config = dict(stack_config or {})
        self.secret_keys = list(secret_keys)
        self.dry_run = dry_run
        self.organization = organization
        self.timeout = timeout
        self.log = log
        self.requests = Requests(project, stack, self.stack_config, self.secret_keys)
        self.pack_project = load_pack_project(self.pack_dir)
        self.python = python or pack_python(self.pack_project, log=log)
        self._proc: subprocess.Popen[bytes] | None = None
        self._engine_server: grpc.Server | None = None
        self._engine = EngineService(stack_urn(project, stack))
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._port: queue.Queue[str | None] = queue.Queue()
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._readers: list[threading.Thread] = []
        self._engine_address = ""
        self._info: PackInfo | None = None
        self._config: dict[str, PolicyConfig] | None = None
        self._started = 0.0
        self._ready = 0.0
        self._stream: AnalyzeStream[tuple[PackInfo, dict[str, PolicyConfig]]] | None = None
        self._remediator: Remediator | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> "PolicyAnalyzer":
        try:
            self.connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The pack process's id while it runs (the benchmark reads its CPU time)."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        if self._proc is not None:
            return
        self._started = time.perf_counter()
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()
        self._engine_address = f"127.0.0.1:{engine_port}"
        env = dict(os.environ)
        env.pop("PYTHONHOME", None)
        env.pop(PACK_PYTHON_ENV, None)
        bindir = str(Path(self.python).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        config, dropped = config_env(self.stack_config)
        if dropped:
            print(f"preflight: the policy pack's PULUMI_CONFIG leaves out {', '.join(dropped)} "
                  f"(over {CONFIG_ENV_LIMIT // 1024} KiB)", file=self.log or sys.stderr)
        env.update({
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_ORGANIZATION": self.organization,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
            "PULUMI_CONFIG": config,
            "PYTHONUNBUFFERED": "1",
        })
        Spawning.active = True
        try:
            self._proc = subprocess.Popen(
                [self.python, "-u", "-m", "pulumi.policy", self._engine_address, "."],
                cwd=str(self.pack_dir), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Its own process group: stopping the pack stops whatever it started too.
                start_new_session=True,
            )
        except OSError as exc:
            self.close()
            raise PolicyPackError(f"{self.pack_dir}: cannot start the pack with {self.python}: {exc}") from None
        finally:
            Spawning.active = False
        RUNNING.add(self._proc)
        held, Spawning.held = Spawning.held, None
        if held is not None:
            os.kill(os.getpid(), held)  # delivered now that the pack's group can be stopped
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True),
                         threading.Thread(target=self._drain, args=(self._proc.stderr, self._stderr), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        first = True
        for raw in pipe_lines(stream):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if first and line.strip().isdigit():
                self._port.put(line.strip())
                first = False
                continue
            self._keep(self._stdout, line)
        if first:
            self._port.put(None)

    def _drain(self, stream: IO[bytes], into: list[str]) -> None:
        for raw in pipe_lines(stream):
            self._keep(into, raw.decode("utf-8", "replace").rstrip("\n"))

    @staticmethod
    def _keep(into: list[str], line: str) -> None:
        into.append(line)
        if len(into) > 400:
            del into[:200]

    def _failure(self, what: str) -> PolicyPackError:
        tail = "\n".join(f"  {line}" for line in self._stderr[-15:])
        return PolicyPackError(f"policy pack {self.pack_dir.name}: {what}" + (f"\n{tail}" if tail else ""))

    def connect(self) -> None:
        if self._stub is not None:
            return
        self.start()
        try:
            port = self._port.get(timeout=self.timeout)
        except queue.Empty:
            raise self._failure(f"did not print its port within {self.timeout:.0f}s") from None
        if port is None:
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            for reader in self._readers:
                reader.join(timeout=2)  # the last words on stderr name the problem
            raise self._failure(f"exited before serving (exit code {self._proc.poll() if self._proc else '?'})")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            raise self._failure("does not answer on its port") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_group(proc)
            RUNNING.discard(proc)
            for reader in self._readers:
                if reader.ident is not None:  # started (a signal may land between creating and starting)
                    reader.join(timeout=2)  # the pipes are at EOF once the group is gone
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        if self._engine_server is not None:
            self._engine_server.stop(grace=None)
            self._engine_server = None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        self.connect()
        assert self._stub is not None
        return self._stub

    def _result(self, what: str, future: Any) -> Any:
        try:
            return future.result()
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None  # type: ignore[union-attr]
            detail = exc.details() if hasattr(exc, "details") else str(exc)  # type: ignore[union-attr]
            raise self._failure(f"{what} failed: {code}: {detail}") from None

    def _call(self, what: str, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None  # type: ignore[union-attr]
            detail = exc.details() if hasattr(exc, "details") else str(exc)  # type: ignore[union-attr]
            raise self._failure(f"{what} failed: {code}: {detail}") from None

    # -- protocol -----------------------------------------------------------------------------
    def handshake(self) -> None:
        request = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=self._engine_address, root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir))
        try:
            self.stub.Handshake(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                raise self._failure(f"Handshake failed: {exc}") from None

    def configure_stack(self) -> None:
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization=self.organization, dry_run=self.dry_run,
            config=self.stack_config, config_secret_keys=self.secret_keys)
        try:
            self.stub.ConfigureStack(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                raise self._failure(f"ConfigureStack failed: {exc}") from None

    def info(self) -> PackInfo:
        if self._info is None:
            response = self._call("GetAnalyzerInfo", self.stub.GetAnalyzerInfo, empty_pb2.Empty())
            self._info = pack_info(response, self.pack_project.version)
        return self._info

    def configure(self, given: Mapping[str, PolicyConfig] | None = None) -> dict[str, PolicyConfig]:
        """Reconcile and send the policy config: ``given`` (parsed) or else the config file."""
        info = self.info()
        if given is None:
            given = load_policy_config(self.config_file) if self.config_file is not None else {}
        config = reconcile_config(info.policies, info.initial_config, given)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, item in config.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = LEVEL_VALUES[item.level or "advisory"]
            if item.properties:
                entry.properties.update(item.properties)
        self._call("Configure", self.stub.Configure, request)
        self._config = config
        return config

    def stream(self, config: Mapping[str, PolicyConfig] | None = None) -> None:
        """Analyze resources while the program still registers them, as the engine does: from now on a
        thread connects and configures the pack (``config`` as for ``run``), then sends ``Analyze`` for
        each resource given to ``add``. ``run`` then waits for these and sends only what is left, so the
        result is the one ``run`` alone would give."""
        if self._stream is None:
            self._stream = AnalyzeStream(
                lambda: self._prepare(config),
                self._send,
                project=self.project, stack=self.stack, stack_config=self.stack_config, secret_keys=self.secret_keys)

    def add(self, resource: RecordedResource) -> None:
        """A resource the program just registered (any thread); ignored unless ``stream`` was called."""
        if self._stream is not None:
            self._stream.put(resource)

    def _prepare(self, config: Mapping[str, PolicyConfig] | None) -> tuple[PackInfo, dict[str, PolicyConfig]]:
        """Connect, then the engine's opening calls: Handshake, ConfigureStack, GetAnalyzerInfo, Configure."""
        self.connect()
        self._ready = time.perf_counter()
        self.handshake()
        self.configure_stack()
        info, config_ = self.info(), self.configure(config)
        self._remediator = Remediator(info, self._remediate_call) if remediates(config_) else None
        return info, config_

    def _send(self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource],
              structs: dict[str, Any]) -> Any:
        """``Analyze`` for one resource, after its ``Remediate`` when a policy remediates (the engine's order)."""
        request = self.requests.analyze(resource, by_urn, structs)
        if self._remediator is not None:
            self._remediator.remediate(resource, request, structs)
        return self.stub.Analyze.future(request, timeout=self.timeout)

    def _remediate_call(self, request: Any) -> Any:
        try:
            return self.stub.Remediate(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                return None  # as the engine: a pack without Remediate is analyzed only
            raise self._failure(f"Remediate({request.urn}) failed: {exc.code()}: {exc.details()}") from None  # type: ignore[attr-defined]

    def run(self, resources: Sequence[RecordedResource], config: Mapping[str, PolicyConfig] | None = None, *,
            stack_shape: str = "outputs") -> PolicyRun:
        """The whole exchange for one stack, in the engine's order (``config``: parsed policy config
        instead of the config file; a running pack can be re-configured and run again;
        ``stack_shape``: one of ``STACK_SHAPES``). After ``stream``, the policy config is the one
        given there."""
        if stack_shape not in STACK_SHAPES:
            raise ValueError(f"stack_shape must be one of {', '.join(STACK_SHAPES)}")
        stream, self._stream = self._stream, None
        if stream is not None and config is not None:
            raise ValueError("a streamed run takes its policy config from stream()")
        resources = [*default_providers(resources, project=self.project, stack=self.stack,
                                        stack_config=self.stack_config, secret_keys=self.secret_keys), *resources]
        if stream is not None:
            info, config = stream.finish()
            sent, structs = stream.futures, stream.structs
        else:
            info, config = self._prepare(config)
            sent, structs = {}, {}  # structs: each resource's properties, converted once
        result = PolicyRun(pack=info, config=config)
        result.timings["start"] = self._ready - self._started
        by_urn = {r.urn: r for r in resources}
        collect = result.collect

        t0 = time.perf_counter()
        # Like the engine, which analyzes resources as they register in parallel, keep a few
        # Analyze calls in flight: building the next request overlaps the pack's work on the
        # last. Results are collected in resource order, so the report stays deterministic.
        in_flight: list[tuple[RecordedResource, Any]] = []
        for resource in resources:
            future = sent.get(resource.urn)
            if future is None:
                structs[resource.urn] = struct(resource.inputs)
                future = self._send(resource, by_urn, structs)
            in_flight.append((resource, future))
            if len(in_flight) >= ANALYZE_WINDOW:
                done, future = in_flight.pop(0)
                collect(self._result(f"Analyze({done.urn})", future), done.urn)
        for done, future in in_flight:
            collect(self._result(f"Analyze({done.urn})", future), done.urn)
        t1 = time.perf_counter()
        if self._remediator is not None:
            self._remediator.carry(resources)
            result.remediations = list(self._remediator.remediations)
            result.violations += self._remediator.diagnostics
        response = self._call("AnalyzeStack", self.stub.AnalyzeStack,
                              self.requests.analyze_stack(resources, by_urn, structs, stack_shape=stack_shape))
        collect(response, stack_urn(self.project, self.stack))
        t2 = time.perf_counter()
        result.timings.update({"analyze": t1 - t0, "analyze_stack": t2 - t1})
        result.logs = list(self._engine.logs)
        return result

    def remediate(self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource] | None = None
                  ) -> list[dict[str, Any]]:
        """The pack's ``Remediate`` for one resource, the request the engine sends before ``Analyze``
        when a policy's level is ``remediate``: per remediation its policy, the new properties (None
        when it only reports a diagnostic) and the diagnostic. The pack must be configured (``run`` or
        ``configure``). ``run`` calls it for every resource itself when a policy remediates."""
        by_urn = by_urn if by_urn is not None else {resource.urn: resource}
        response = self._call("Remediate", self.stub.Remediate, self.requests.analyze(resource, by_urn))
        return [{"policy": r.policyName, "diagnostic": r.diagnostic,
                 "properties": json_format.MessageToDict(r.properties) if r.HasField("properties") else None}
                for r in response.remediations]


def analyze(pack_dir: Path, resources: Sequence[RecordedResource], *, project: str, stack: str,
            config_file: Path | None, stack_config: Mapping[str, str] | None = None,
            secret_keys: Iterable[str] = (), python: str | None = None) -> PolicyRun:
    """Start the pack, run the whole exchange, stop the pack."""
    with PolicyAnalyzer(pack_dir, project=project, stack=stack, config_file=config_file, stack_config=stack_config,
                        secret_keys=list(secret_keys), python=python) as analyzer:
        return analyzer.run(resources)
