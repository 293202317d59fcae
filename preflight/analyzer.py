"""Run a CrossGuard policy pack the way the Pulumi engine does: as a subprocess, over gRPC.

What the Pulumi CLI (3.272) does for a Python pack, and what this module repeats:

1. Read ``PulumiPolicy.yaml`` (runtime, ``options.virtualenv``, version). The pack's own Python is
   ``<pack>/<virtualenv>/bin/python``; when that virtualenv is missing it is created the way the
   CLI installs a pack's dependencies (``python -m venv venv`` then ``pip install -r
   requirements.txt`` in the pack directory), with a one-line note on stderr.
2. Start ``python -u -m pulumi.policy <engine-address> .`` in the pack directory, with
   ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``, ``PULUMI_ORGANIZATION`` and
   ``PULUMI_CONFIG`` (the stack's config as JSON) in the environment and the virtualenv first on
   ``PATH`` (as the ``pulumi-analyzer-policy-python`` shim does). ``<engine-address>`` is a small
   Engine gRPC server of ours that collects ``Log`` calls. pulumi-policy 1.21 parses the address
   but never dials it (its runtime logs to stderr), so the server is there for fidelity only.
3. Read the port the pack prints on its first stdout line and speak the Analyzer protocol:
   ``Handshake`` (optional; UNIMPLEMENTED is fine), ``ConfigureStack``, ``GetAnalyzerInfo``,
   ``Configure`` with the reconciled policy config, ``Analyze`` once per resource (type, URN,
   name, inputs, options with the parent, and its provider resource) and ``AnalyzeStack`` with
   every resource's *outputs*, provider, parent, dependencies and property dependencies.
   A resource that names no provider gets the engine's default provider for its package and
   version (``default_7_51_1``), registered and analyzed first, whose inputs are the stack's
   ``<package>:*`` config with every value a string, as the engine passes it (a structured value
   is its JSON text; a secure value a secret), plus ``version``.
4. Reconcile the policy config like ``pulumi preview --policy-pack-config``: schema defaults, then
   the pack's initial config, then the file (a top-level ``"all"`` sets every policy's level and
   is forwarded, with its properties, to ``Configure``), validated against each policy's
   ``configSchema``.

The subprocess is always terminated, whatever happens. What still differs from a real preview is
listed in docs/preflight.md ("What still differs from the real engine").
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from .bounded import CONFIG_LIMIT, BoundedReadError, load_yaml, loads_json, read_text
from .engine import REDACTED, SECRET_SIG, SIG_KEY, RecordedResource

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_MAX_MESSAGE = 1024 * 1024 * 400
_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)]
ANALYZE_WINDOW = 8
"""Analyze calls kept in flight at once."""
PACK_PYTHON_ENV = "PREFLIGHT_POLICY_PYTHON"
CONFIG_ENV_LIMIT = 64 * 1024
"""PULUMI_CONFIG above this leaves out its largest values (Linux caps one environment string at 128 KiB,
and pulumi-policy re-parses the variable on every call)."""
"""Run the pack with this interpreter instead of its virtualenv (it needs the pack's requirements)."""


class PolicyPackError(Exception):
    """The pack cannot run (missing, broken, bad config): one clear message, no traceback."""


# --- PulumiPolicy.yaml and the pack's Python --------------------------------------------------------

@dataclass(frozen=True)
class PackProject:
    dir: Path
    runtime: str
    version: str
    description: str
    virtualenv: str | None

    @property
    def venv_python(self) -> Path | None:
        if not self.virtualenv:
            return None
        venv = self.dir / self.virtualenv
        return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def load_pack_project(pack_dir: Path) -> PackProject:
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        doc = load_yaml(path)
    except BoundedReadError as exc:
        if exc.problem == "not found":
            raise PolicyPackError(f"{pack_dir}: not a policy pack (no PulumiPolicy.yaml)") from None
        raise PolicyPackError(str(exc)) from None
    if not isinstance(doc, dict):
        raise PolicyPackError(f"{path}: must be a mapping with 'runtime'")
    runtime = doc.get("runtime")
    options: dict[str, Any] = {}
    if isinstance(runtime, dict):
        options = runtime.get("options") or {}
        runtime = runtime.get("name")
    if not isinstance(runtime, str):
        raise PolicyPackError(f"{path}: 'runtime' is required")
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    return PackProject(dir=pack_dir, runtime=runtime, version=str(doc.get("version") or ""),
                       description=str(doc.get("description") or ""),
                       virtualenv=str(virtualenv) if virtualenv else None)


Runner = Callable[..., Any]
Installer = Callable[[Path, "PackProject", Runner], None]
"""Installs the pack's requirements with the given interpreter (of a virtualenv being built)."""

VENV_MARKER = ".preflight-complete"
"""Written last into a virtualenv that is fully installed and passed the import check."""
PACK_MODULES = ("pulumi", "pulumi_policy", "grpc", "google.protobuf")
"""What the pack imports from its virtualenv (the import check); the FinOps package is vendored in the pack."""


def pip_install(python: Path, project: PackProject, run: Runner) -> None:
    """What the Pulumi CLI does: ``pip install -r requirements.txt`` in the pack directory."""
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=str(project.dir), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _fingerprint(project: PackProject) -> str:
    """Changes when the requirements or the interpreter building the venv change."""
    try:
        requirements = (project.dir / "requirements.txt").read_bytes()
    except OSError:
        requirements = b""
    return hashlib.sha256(requirements + sys.version.encode()).hexdigest()


def _imports_ok(python: Path, run: Runner, *, full: bool) -> bool:
    """Can ``python`` find (``full``: import) every module the pack needs?"""
    probe = (f"import {', '.join(PACK_MODULES)}" if full else
             f"import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in {PACK_MODULES!r}))")
    try:
        run([str(python), "-c", probe], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _venv_ready(venv: Path, python: Path, project: PackProject, run: Runner) -> bool:
    try:
        marker = (venv / VENV_MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return marker == _fingerprint(project) and python.exists() and _imports_ok(python, run, full=False)


def _relocate(built: Path, final: Path) -> None:
    """Point the scripts of a venv built at ``built`` (activate, pip's shebangs) at ``final``.
    The interpreter itself and ``python -m`` never depend on the venv's path."""
    old, new = str(built).encode(), str(final).encode()
    bindir = built / ("Scripts" if os.name == "nt" else "bin")
    for script in bindir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        if old in data and b"\0" not in data[:1024]:
            script.write_bytes(data.replace(old, new))


def pack_python(project: PackProject, *, create: bool = True, log: IO[str] | None = None,
                run: Runner = subprocess.run, install: Installer = pip_install) -> str:
    """The interpreter the pack runs with; builds the pack's virtualenv when it is missing,
    incomplete (no completion marker, e.g. after a killed install) or fails the import check.

    Concurrent first runs are safe: the build holds an exclusive lock beside the venv, happens in
    a temp directory, passes an import check, and is renamed into place with its marker, so a
    venv at the final path is always complete.
    """
    override = os.environ.get(PACK_PYTHON_ENV)
    if override:
        # The pack runs in its own directory: a relative path is taken from here, a bare name from PATH.
        return os.path.abspath(override) if os.sep in override else (shutil.which(override) or override)
    if project.runtime != "python":
        raise PolicyPackError(f"{project.dir}: runtime '{project.runtime}' is not supported by preflight (python only)")
    python = project.venv_python
    if python is None:
        return shutil.which("python3") or shutil.which("python") or sys.executable
    venv = project.dir / str(project.virtualenv)
    if _venv_ready(venv, python, project, run):
        return str(python)
    if not create:
        raise PolicyPackError(f"{project.dir}: the pack's virtualenv {project.virtualenv} does not exist or is incomplete")
    lock_path = project.dir / f".{venv.name}.preflight-lock"
    try:
        lock = open(lock_path, "a+b")
    except OSError as exc:
        raise PolicyPackError(f"{lock_path}: cannot create the build lock: {exc.strerror or exc}") from None
    with lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if _venv_ready(venv, python, project, run):
            return str(python)  # built by a concurrent run while this one waited
        _build_venv(project, venv, python, log=log, run=run, install=install)
    return str(python)


def _build_venv(project: PackProject, venv: Path, python: Path, *, log: IO[str] | None, run: Runner,
                install: Installer) -> None:
    for stale in project.dir.glob(f".{venv.name}.preflight-*-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed build: the lock says nobody else is building
    print(f"preflight: installing the policy pack's dependencies into {venv} (once)", file=log or sys.stderr)
    build = Path(tempfile.mkdtemp(prefix=f".{venv.name}.preflight-build-", dir=project.dir))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(build, 0o777 & ~umask)  # as `python -m venv` would create it, not mkdtemp's 0700
    built_python = build / python.relative_to(venv)
    try:
        run([sys.executable, "-m", "venv", "--prompt", venv.name, str(build)], cwd=str(project.dir), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        install(built_python, project, run)
        if not _imports_ok(built_python, run, full=True):
            raise PolicyPackError(f"{project.dir}: the installed virtualenv cannot import {', '.join(PACK_MODULES)}")
        _relocate(build, venv)
        (build / VENV_MARKER).write_text(_fingerprint(project) + "\n", encoding="utf-8")
        if venv.exists() or venv.is_symlink():
            # An incomplete or outdated venv: move it aside in one rename, then delete it.
            old = Path(tempfile.mkdtemp(prefix=f".{venv.name}.preflight-old-", dir=project.dir))
            os.rename(venv, old / venv.name)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(build, venv)
    except (OSError, subprocess.CalledProcessError, PolicyPackError) as exc:
        shutil.rmtree(build, ignore_errors=True)  # never leave a half-built venv behind
        if isinstance(exc, PolicyPackError):
            raise
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode("utf-8", "replace").strip().splitlines()[-3:] if isinstance(detail, bytes) else []
        raise PolicyPackError(f"{project.dir}: cannot install the pack's requirements: {exc}"
                              + "".join(f"\n  {line}" for line in tail)
                              + "\n  (preview without the pack: --no-policy)") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


# --- policy config, as the CLI reconciles it --------------------------------------------------------

@dataclass
class PolicyConfig:
    level: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def load_policy_config(path: Path) -> dict[str, PolicyConfig]:
    """A ``--policy-pack-config`` file (``parsePolicyPackConfig``)."""
    try:
        raw = read_text(path, CONFIG_LIMIT)
        if not raw.strip():
            return {}
        doc = loads_json(raw, str(path))
    except BoundedReadError as exc:
        raise PolicyPackError(str(exc)) from None
    if not isinstance(doc, dict):
        raise PolicyPackError(f"{path}: must be a JSON object of policy name -> level or settings")
    result: dict[str, PolicyConfig] = {}
    for name, value in doc.items():
        if isinstance(value, str):
            if value not in LEVEL_VALUES:
                raise PolicyPackError(f"{path}: {name}: {value!r} is not a valid enforcement level "
                                      f"({', '.join(LEVEL_VALUES)})")
            result[name] = PolicyConfig(level=value)
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and level not in LEVEL_VALUES:
                raise PolicyPackError(f"{path}: {name}.enforcementLevel: {level!r} is not a valid enforcement level")
            if level is None and not props:
                continue
            result[name] = PolicyConfig(level=level, properties=props)
        else:
            raise PolicyPackError(f"{path}: {name}: must be a string (level) or an object")
    return result


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer(),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """The JSON Schema keywords policy config schemas use (type, enum, const, bounds, pattern,
    items, properties, required, additionalProperties); messages start with the value's path."""
    at = f"{path}: " if path else ""
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds and not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return [f"{at}expected {' or '.join(kinds)}, got {type(value).__name__} {json.dumps(value)[:60]}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}must be one of {', '.join(json.dumps(e) for e in schema['enum'])}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}must be {json.dumps(schema['const'])}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{at}must be <= {schema['maximum']}")
    if isinstance(value, str) and isinstance(schema.get("pattern"), str) and not re.search(schema["pattern"], value):
        errors.append(f"{at}does not match {schema['pattern']}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    if isinstance(value, dict):
        declared = schema.get("properties")
        props: Mapping[str, Any] = declared if isinstance(declared, dict) else {}
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(f"{at}{key} is required")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in props and isinstance(props[key], dict):
                errors += schema_errors(item, props[key], where)
            elif extra is False:
                errors.append(f"{at}unknown property {key}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, where)
    return errors


def reconcile_config(policies: Sequence["PolicyMeta"], initial: Mapping[str, PolicyConfig],
                     given: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """``ReconcilePolicyPackConfig``: defaults from the schemas, then the pack's initial config, then
    the file; raises PolicyPackError listing every schema violation."""
    result: dict[str, PolicyConfig] = {}
    for policy in policies:
        defaults = {k: v["default"] for k, v in policy.config_schema.items() if isinstance(v, dict) and "default" in v}
        result[policy.name] = PolicyConfig(level=policy.level, properties=defaults)

    def apply(config: Mapping[str, PolicyConfig]) -> None:
        everything = config.get("all")
        if everything is not None and everything.level in LEVEL_VALUES:
            for name, current in list(result.items()):
                result[name] = PolicyConfig(level=everything.level, properties=current.properties)
        for name, item in config.items():
            current = result.get(name, PolicyConfig())
            level = item.level if item.level in LEVEL_VALUES else current.level
            result[name] = PolicyConfig(level=level, properties={**current.properties, **item.properties})

    apply(initial)
    apply(given)
    errors = []
    for policy in policies:
        schema = {"type": "object", "properties": policy.config_schema, "required": policy.required}
        errors += [f"{policy.name}: {e}" for e in schema_errors(result[policy.name].properties, schema)]
    for name, item in result.items():
        if item.level not in LEVEL_VALUES:
            errors.append(f"{name}: no valid enforcement level (a non-policy entry needs one, e.g. \"advisory\")")
    if errors:
        raise PolicyPackError("the policy pack config is invalid:\n  " + "\n  ".join(errors))
    return result


# --- results --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyMeta:
    name: str
    description: str
    level: str
    severity: str
    kind: str
    """'resource' or 'stack'."""
    remediation: str
    framework: dict[str, str]
    tags: tuple[str, ...]
    config_schema: dict[str, Any]
    required: tuple[str, ...] = ()
    display_name: str = ""


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyMeta, ...]
    initial_config: dict[str, PolicyConfig]
    reported_version: str = ""
    """The version the pack itself reports (pulumi-policy's Python SDK always says 0.0.1)."""

    def policy(self, name: str) -> PolicyMeta | None:
        return next((p for p in self.policies if p.name == name), None)


@dataclass(frozen=True)
class Violation:
    pack: str
    version: str
    policy: str
    level: str
    urn: str
    message: str
    severity: str = ""

    def as_json(self) -> dict[str, str]:
        return {"pack": self.pack, "policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


@dataclass
class PolicyRun:
    pack: PackInfo
    config: dict[str, PolicyConfig]
    violations: list[Violation] = field(default_factory=list)
    not_applicable: list[dict[str, str]] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level != "mandatory"]


# --- the engine side -------------------------------------------------------------------------------

class _Engine(engine_pb2_grpc.EngineServicer):
    """The engine services a pack may call back: Log (kept), and the root resource."""

    def __init__(self, root_urn: str) -> None:
        self.logs: list[tuple[str, str]] = []
        self.root_urn = root_urn

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        names = {engine_pb2.DEBUG: "debug", engine_pb2.INFO: "info", engine_pb2.WARNING: "warning",
                 engine_pb2.ERROR: "error"}
        self.logs.append((names.get(request.severity, "info"), request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root_urn)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


def config_env(config: Mapping[str, str], limit: int = CONFIG_ENV_LIMIT) -> tuple[str, list[str]]:
    """``PULUMI_CONFIG`` as the CLI sets it (the stack config as JSON), and the keys left out, largest
    first, when it would exceed ``limit``."""
    kept = dict(config)
    dropped: list[str] = []
    text = json.dumps(kept)
    for key in sorted(config, key=lambda k: -len(str(config[k]))):
        if len(text) <= limit:
            break
        del kept[key]
        dropped.append(key)
        text = json.dumps(kept)
    return text, dropped


def _lines(stream: IO[bytes]) -> Iterable[bytes]:
    """The lines of a pipe until EOF, or until ``close()`` closes it under the reader."""
    try:
        yield from iter(stream.readline, b"")
    except (ValueError, OSError):
        return


_RUNNING: set["subprocess.Popen[bytes]"] = set()
"""Packs started and not yet closed (what a signal handler must stop)."""


class _Spawning:
    """A pack being spawned has no pid yet: a signal arriving then is held until it has one."""

    active = False
    held: int | None = None


def hold_signal_while_spawning(signum: int) -> bool:
    """True when a pack is being spawned: ``signum`` is re-raised once its pid is registered."""
    if _Spawning.active:
        _Spawning.held = signum
        return True
    return False


def stop_all_packs(grace: float = 2.0) -> None:
    """Stop the process group of every running pack (preflight's SIGINT/SIGTERM handler)."""
    for proc in list(_RUNNING):
        _stop_group(proc, grace)
        _RUNNING.discard(proc)


def _stop_group(proc: "subprocess.Popen[bytes]", grace: float = 5.0) -> None:
    """SIGTERM the pack's process group, SIGKILL it after ``grace`` seconds, and reap the pack."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
        try:
            proc.wait(timeout=grace)
            if sig == signal.SIGTERM:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # children that ignored SIGTERM
                except (ProcessLookupError, PermissionError):
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in value.items() if not k.startswith("__")})
    return struct


def stack_urn(project: str, stack: str) -> str:
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


STACK_SHAPES = ("outputs", "inputs")
"""What ``AnalyzeStack`` gets as each resource's properties: its outputs, as the engine sends them (the
default), or its inputs (what preflight sent before; the fidelity test runs both and compares)."""


def default_provider_name(version: str) -> str:
    """The engine's name for a package's default provider (``ProviderRequest.DefaultName``):
    ``default``, then the version's major, minor, patch, pre-release and build parts."""
    if not version:
        return "default"
    core, _, build = version.partition("+")
    core, _, pre = core.partition("-")
    parts = core.split(".") + (pre.split(".") if pre else []) + (build.split(".") if build else [])
    return "_".join(["default", *parts])


def _uses_default_provider(resource: RecordedResource) -> bool:
    return (resource.custom and not resource.provider and not resource.type.startswith("pulumi:providers:")
            and resource.type.split(":", 1)[0] != "pulumi")


def default_provider_urn(project: str, stack: str, resource: RecordedResource) -> str:
    package = resource.type.split(":", 1)[0]
    return f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::{default_provider_name(resource.version)}"


def package_config(package: str, stack_config: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """A default provider's inputs from the stack config (the engine's ``GetPackageConfig``): every
    ``<package>:<name>`` value as a string (structured values as their JSON text), secure values as
    secrets (never their text)."""
    secret = set(secret_keys)
    props: dict[str, Any] = {}
    for key, value in stack_config.items():
        if not key.startswith(package + ":"):
            continue
        name = key.split(":", 1)[1]
        if key in secret:
            props[name] = {SIG_KEY: SECRET_SIG, "value": REDACTED}
        else:
            props[name] = value if isinstance(value, str) else json.dumps(value)
    return props


def default_providers(resources: Sequence[RecordedResource], *, project: str, stack: str,
                      stack_config: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> list[RecordedResource]:
    """The default provider resources the engine registers for the resources that name no provider:
    one per package and version, in the order first needed, without parent."""
    found: dict[str, RecordedResource] = {}
    secret = list(secret_keys)
    for resource in resources:
        if not _uses_default_provider(resource):
            continue
        urn = default_provider_urn(project, stack, resource)
        if urn in found:
            continue
        package = resource.type.split(":", 1)[0]
        inputs = package_config(package, stack_config, secret)
        if resource.version:
            inputs["version"] = resource.version
        found[urn] = RecordedResource(
            urn=urn, type=f"pulumi:providers:{package}", name=urn.rsplit("::", 1)[1], parent="", custom=True,
            inputs=inputs, options={}, version=resource.version)
    return list(found.values())


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
        self.pack_project = load_pack_project(self.pack_dir)
        self.python = python or pack_python(self.pack_project, log=log)
        self._proc: subprocess.Popen[bytes] | None = None
        self._engine_server: grpc.Server | None = None
        self._engine = _Engine(stack_urn(project, stack))
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
        self._stream: _AnalyzeStream | None = None

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
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=_CHANNEL_OPTIONS)
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
        _Spawning.active = True
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
            _Spawning.active = False
        _RUNNING.add(self._proc)
        held, _Spawning.held = _Spawning.held, None
        if held is not None:
            os.kill(os.getpid(), held)  # delivered now that the pack's group can be stopped
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True),
                         threading.Thread(target=self._drain, args=(self._proc.stderr, self._stderr), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        first = True
        for raw in _lines(stream):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if first and line.strip().isdigit():
                self._port.put(line.strip())
                first = False
                continue
            self._keep(self._stdout, line)
        if first:
            self._port.put(None)

    def _drain(self, stream: IO[bytes], into: list[str]) -> None:
        for raw in _lines(stream):
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
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
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
            _stop_group(proc)
            _RUNNING.discard(proc)
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
            self._info = _pack_info(response, self.pack_project.version)
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
            self._stream = _AnalyzeStream(self, config)

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
        return self.info(), self.configure(config)

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
        seen_na: set[tuple[str, str]] = set()

        def collect(response: Any, default_urn: str) -> None:
            for d in response.diagnostics:
                message = d.message
                if d.description and message.startswith(d.description + "\n"):
                    message = message[len(d.description) + 1:]
                if info.reported_version and info.reported_version != info.version:
                    # The SDK's "can't run policy ... from policy pack 'name@v0.0.1'": the version the CLI shows.
                    message = message.replace(f"@v{info.reported_version}'", f"@v{info.version}'")
                result.violations.append(Violation(
                    pack=d.policyPackName or info.name, version=info.version, policy=d.policyName,
                    level=LEVELS.get(d.enforcementLevel, "advisory"), urn=d.urn or default_urn, message=message,
                    severity=SEVERITIES.get(d.severity, "") or (info.policy(d.policyName) or _NO_META).severity))
            for item in response.not_applicable:
                key = (item.policy_name, item.reason)
                if key not in seen_na:
                    seen_na.add(key)
                    result.not_applicable.append({"policy": item.policy_name, "reason": item.reason})

        t0 = time.perf_counter()
        # Like the engine, which analyzes resources as they register in parallel, keep a few
        # Analyze calls in flight: building the next request overlaps the pack's work on the
        # last. Results are collected in resource order, so the report stays deterministic.
        in_flight: list[tuple[RecordedResource, Any]] = []
        for resource in resources:
            future = sent.get(resource.urn)
            if future is None:
                structs[resource.urn] = _struct(resource.inputs)
                future = self.stub.Analyze.future(self.analyze_request(resource, by_urn, structs), timeout=self.timeout)
            in_flight.append((resource, future))
            if len(in_flight) >= ANALYZE_WINDOW:
                done, future = in_flight.pop(0)
                collect(self._result(f"Analyze({done.urn})", future), done.urn)
        for done, future in in_flight:
            collect(self._result(f"Analyze({done.urn})", future), done.urn)
        t1 = time.perf_counter()
        response = self._call("AnalyzeStack", self.stub.AnalyzeStack,
                              self.analyze_stack_request(resources, by_urn, structs, stack_shape=stack_shape))
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
        ``configure``). ``preflight preview`` does not call it (docs/preflight.md)."""
        by_urn = by_urn if by_urn is not None else {resource.urn: resource}
        response = self._call("Remediate", self.stub.Remediate, self.analyze_request(resource, by_urn))
        return [{"policy": r.policyName, "diagnostic": r.diagnostic,
                 "properties": json_format.MessageToDict(r.properties) if r.HasField("properties") else None}
                for r in response.remediations]

    # -- requests -----------------------------------------------------------------------------
    @staticmethod
    def options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
        opts = resource.options
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=bool(opts.get("protect")),
            ignoreChanges=[str(x) for x in opts.get("ignoreChanges") or []],
            deleteBeforeReplace=bool(opts.get("deleteBeforeReplace")),
            deleteBeforeReplaceDefined=bool(opts.get("deleteBeforeReplace")),
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
            parent=resource.parent,
        )

    def provider(self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource],
                 structs: dict[str, struct_pb2.Struct] | None = None) -> analyzer_pb2.AnalyzerProviderResource | None:
        """The provider resource the engine sends with ``resource``: the one it names, else its package's
        default provider; none for a component, a provider or the stack. Its properties are the
        provider's inputs, with the ``version`` the SDK asked for."""
        ref = resource.provider
        if ref:
            urn = ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref
        elif _uses_default_provider(resource):
            urn = default_provider_urn(self.project, self.stack, resource)
        else:
            return None
        found = by_urn.get(urn)
        if found is None and not ref:
            found = next(iter(default_providers([resource], project=self.project, stack=self.stack,
                                                stack_config=self.stack_config, secret_keys=self.secret_keys)))
        if found is None:
            return None
        key = "provider:" + found.urn
        properties = structs.get(key) if structs is not None else None
        if properties is None:
            inputs = found.inputs if "version" in found.inputs or not found.version else {
                **found.inputs, "version": found.version}
            properties = _struct(inputs)
            if structs is not None:
                structs[key] = properties
        return analyzer_pb2.AnalyzerProviderResource(type=found.type, urn=found.urn, name=found.name,
                                                     properties=properties)

    def analyze_request(self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource],
                        structs: dict[str, struct_pb2.Struct] | None = None) -> analyzer_pb2.AnalyzeRequest:
        properties = structs[resource.urn] if structs is not None else _struct(resource.inputs)
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, urn=resource.urn, name=resource.name, properties=properties,
            options=self.options(resource))
        provider = self.provider(resource, by_urn, structs)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def analyze_stack_request(self, resources: Sequence[RecordedResource], by_urn: Mapping[str, RecordedResource],
                              structs: dict[str, struct_pb2.Struct] | None = None, *, stack_shape: str = "outputs"
                              ) -> analyzer_pb2.AnalyzeStackRequest:
        request = analyzer_pb2.AnalyzeStackRequest()
        root = stack_urn(self.project, self.stack)
        if root not in by_urn:
            stack = request.resources.add()
            stack.type, stack.urn, stack.name = "pulumi:pulumi:Stack", root, f"{self.project}-{self.stack}"
            stack.options.CopyFrom(analyzer_pb2.AnalyzerResourceOptions())
        for resource in resources:
            item = request.resources.add()
            item.type, item.urn, item.name, item.parent = resource.type, resource.urn, resource.name, resource.parent
            outputs = resource.output_properties if stack_shape == "outputs" else resource.inputs
            if outputs is resource.inputs:
                item.properties.CopyFrom(structs[resource.urn] if structs is not None else _struct(resource.inputs))
            else:
                item.properties.CopyFrom(_struct(outputs))
            item.options.CopyFrom(self.options(resource))
            provider = self.provider(resource, by_urn, structs)
            if provider is not None:
                item.provider.CopyFrom(provider)
            item.dependencies.extend(resource.dependencies)
            for key, urns in resource.property_dependencies.items():
                if urns:
                    item.propertyDependencies[key].urns.extend(urns)
        return request


class _AnalyzeStream:
    """``PolicyAnalyzer.stream``'s thread: connect and configure the pack, then send ``Analyze`` for each
    resource as it arrives, a few calls in flight. A resource whose explicit provider has not arrived
    yet is left to ``run``. Errors are kept and raised by ``finish``."""

    def __init__(self, analyzer: "PolicyAnalyzer", config: Mapping[str, PolicyConfig] | None) -> None:
        self.analyzer = analyzer
        self.futures: dict[str, Any] = {}
        self.structs: dict[str, struct_pb2.Struct] = {}
        self._config = config
        self._queue: queue.SimpleQueue[RecordedResource | None] = queue.SimpleQueue()
        self._prepared: tuple[PackInfo, dict[str, PolicyConfig]] | None = None
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._work, name="preflight-analyze", daemon=True)
        self._thread.start()

    def put(self, resource: RecordedResource) -> None:
        self._queue.put(resource)

    def stop(self) -> None:
        """End the thread without waiting for it (the pack is being closed)."""
        self._stopped = True
        self._queue.put(None)

    def finish(self) -> tuple[PackInfo, dict[str, PolicyConfig]]:
        """Wait until every resource given so far is sent; the pack's info and the config it runs with."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._prepared is not None
        return self._prepared

    def _work(self) -> None:
        analyzer = self.analyzer
        try:
            self._prepared = analyzer._prepare(self._config)
            stub = analyzer.stub
            by_urn: dict[str, RecordedResource] = {}
            in_flight: list[Any] = []
            while (resource := self._queue.get()) is not None and not self._stopped:
                by_urn[resource.urn] = resource
                ref = resource.provider
                if ref and (ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref) not in by_urn:
                    continue
                todo = [resource]
                if _uses_default_provider(resource) and default_provider_urn(
                        analyzer.project, analyzer.stack, resource) not in by_urn:
                    provider = default_providers([resource], project=analyzer.project, stack=analyzer.stack,
                                                 stack_config=analyzer.stack_config,
                                                 secret_keys=analyzer.secret_keys)[0]
                    by_urn[provider.urn] = provider
                    todo.insert(0, provider)
                for item in todo:
                    self.structs[item.urn] = _struct(item.inputs)
                    future = stub.Analyze.future(analyzer.analyze_request(item, by_urn, self.structs),
                                                 timeout=analyzer.timeout)
                    self.futures[item.urn] = future
                    in_flight.append(future)
                while len(in_flight) >= ANALYZE_WINDOW:
                    in_flight.pop(0).exception()  # waits; ``run`` reports a failed call in order
        except BaseException as exc:  # handed to the caller by finish()
            self._error = exc


_NO_META = PolicyMeta(name="", description="", level="", severity="", kind="", remediation="", framework={}, tags=(),
                      config_schema={})


def _pack_info(response: Any, yaml_version: str) -> PackInfo:
    policies = []
    for p in response.policies:
        framework = {k: getattr(p.framework, k) for k in ("name", "version", "reference", "specification")
                     if getattr(p.framework, k)}
        policies.append(PolicyMeta(
            name=p.name, description=p.description, level=LEVELS.get(p.enforcementLevel, "advisory"),
            severity=SEVERITIES.get(p.severity, ""),
            kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            remediation=p.remediation_steps, framework=framework, tags=tuple(p.tags),
            config_schema=json_format.MessageToDict(p.configSchema.properties),
            required=tuple(p.configSchema.required), display_name=p.displayName,
        ))
    initial = {name: PolicyConfig(level=LEVELS.get(cfg.enforcementLevel), properties=json_format.MessageToDict(cfg.properties))
               for name, cfg in response.initialConfig.items()}
    return PackInfo(name=response.name, version=yaml_version or response.version, description=response.description,
                    policies=tuple(policies), initial_config=initial, reported_version=response.version)


def analyze(pack_dir: Path, resources: Sequence[RecordedResource], *, project: str, stack: str,
            config_file: Path | None, stack_config: Mapping[str, str] | None = None,
            secret_keys: Iterable[str] = (), python: str | None = None) -> PolicyRun:
    """Start the pack, run the whole exchange, stop the pack."""
    with PolicyAnalyzer(pack_dir, project=project, stack=stack, config_file=config_file, stack_config=stack_config,
                        secret_keys=list(secret_keys), python=python) as analyzer:
        return analyzer.run(resources)
