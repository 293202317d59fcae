"""Run the Pulumi program in-process under mocks and record what the engine would receive.

The recording monitor sits where the Pulumi engine's resource monitor sits. It keeps every
``RegisterResource`` request as the engine gets it (camelCase properties, unknown and secret
markers, parent, provider, dependencies and the options reviewers care about), then lets the
SDK's mock monitor answer. Outputs behave as in a first ``pulumi preview``: what a provider
would compute stays unknown.

Each resource also keeps its *outputs*, what the engine hands ``AnalyzeStack``: the mock's state
merged over the inputs as a provider echoes them (``provider_echo``); in a preview, every output
property of the resource's SDK class that the inputs do not set is unknown (the provider computes
it), and a component's outputs are what it registers with ``register_outputs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import importlib
import logging
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from google.protobuf import json_format
from google.protobuf import empty_pb2

import pulumi
from pulumi import _types
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockEngine, MockMonitor, Mocks, MockCallArgs, MockResourceArgs, MockSettings
from pulumi.runtime.settings import configure
from pulumi.runtime.stack import run_in_stack

from ai_platform_finops.resource_types import EKS_CLUSTER, LAUNCH_TEMPLATE, NODE_GROUP

from . import invokes
from .stackfile import StackConfigSource

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's marker for a value not known until apply."""
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any]
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    """What ``AnalyzeStack`` gets: the state the provider (the mocks) returned, merged over the inputs;
    None means the inputs echoed as they are (a resource built by hand). Read ``output_properties``."""
    version: str = ""
    """The provider plugin version the SDK asked for (the engine names a default provider after it)."""
    state: Any = field(default=None, repr=False, compare=False)
    """The mocks' returned state (the engine's Struct), turned into ``outputs`` when first read: the
    program's run does not pay for it."""
    computed: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    """Output properties only the provider sets, unknown unless the state has them (at preview)."""

    @property
    def output_properties(self) -> dict[str, Any]:
        if self.state is not None:
            outputs = provider_echo(self.inputs, _struct_to_json(self.state))
            for name in self.computed:
                outputs.setdefault(name, UNKNOWN)
            self.outputs, self.state = outputs, None
        return self.inputs if self.outputs is None else self.outputs

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "options": self.options,
        }


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}


def redact_secrets(value: Any) -> Any:
    """Replace every secret's plaintext with a marker, keeping the engine's secret envelope."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return {SIG_KEY: SECRET_SIG, "value": REDACTED}
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def _struct_to_json(struct: Any) -> dict[str, Any]:
    return redact_secrets(json_format.MessageToDict(struct, preserving_proto_field_name=True))


def _is_unknown(value: Any) -> bool:
    return value == UNKNOWN


def provider_echo(inputs: Any, state: Any) -> Any:
    """A resource's outputs as a provider echoes its inputs: the returned ``state`` wins where it has a
    value; an input the state leaves out (or null) is echoed; an unknown input stays unknown (a
    provider cannot know at preview what it was not given). Objects merge key by key, lists of the
    same length item by item."""
    if _is_unknown(inputs):
        return UNKNOWN
    if state is None:
        return inputs
    if isinstance(inputs, dict) and isinstance(state, dict):
        if inputs.get(SIG_KEY) == SECRET_SIG or state.get(SIG_KEY) == SECRET_SIG:
            return inputs if inputs.get(SIG_KEY) == SECRET_SIG else state
        merged = {key: provider_echo(value, state.get(key)) for key, value in inputs.items()}
        merged.update({key: value for key, value in state.items() if key not in inputs and value is not None})
        return merged
    if isinstance(inputs, list) and isinstance(state, list) and len(inputs) == len(state):
        return [provider_echo(i, o) for i, o in zip(inputs, state)]
    return state


@functools.lru_cache(maxsize=None)
def sdk_resource_class(type_: str) -> type | None:
    """The SDK's generated class for ``type_``, found as the SDK finds it to rehydrate a resource (its
    package's resource-module registry); None for a type without one."""
    info: Any
    try:
        if type_.startswith("pulumi:providers:"):
            info = getattr(rpc.get_resource_package(type_.split(":")[2], ""), "pkg_info", None)
            class_name = info.get("class") if isinstance(info, dict) else None
        else:
            pkg, mod, _ = type_.split(":", 2)
            info = getattr(rpc.get_resource_module(pkg, mod, ""), "mod_info", None)
            class_name = info.get("classes", {}).get(type_) if isinstance(info, dict) else None
        if not class_name:
            return None
        return getattr(importlib.import_module(info["fqn"]), class_name)
    except (ValueError, ImportError, AttributeError, KeyError):
        return None


@functools.lru_cache(maxsize=None)
def sdk_input_names(type_: str) -> dict[str, str] | None:
    """``type_``'s input properties, engine name -> Python name, from its SDK class's args class."""
    cls = sdk_resource_class(type_)
    if cls is None:
        return None
    module = sys.modules.get(cls.__module__)
    args_cls = getattr(module, f"{cls.__name__}InitArgs", None) or getattr(module, f"{cls.__name__}Args", None)
    if args_cls is None or not _types.is_input_type(args_cls):
        return None
    return {pulumi_name: py for py, pulumi_name in _types.input_type_py_to_pulumi_names(args_cls).items()}


@functools.lru_cache(maxsize=None)
def computed_outputs(type_: str) -> frozenset[str]:
    """The output properties (engine names) of ``type_``'s SDK class that are not inputs: what only the
    provider sets, unknown at preview on a create. Empty for a type without a generated class."""
    cls, inputs = sdk_resource_class(type_), sdk_input_names(type_)
    if cls is None or inputs is None:
        return frozenset()
    outputs = {name for value in vars(cls).values()
               if isinstance(name := getattr(getattr(value, "fget", None), "_pulumi_name", None), str)}
    return frozenset(outputs - inputs.keys())


class PreflightMocks(Mocks):
    """Answers invokes from ``preflight.invokes``; resources echo their inputs, as a preview does."""

    def __init__(self, region: str, preview: bool):
        self.region = region
        self.preview = preview

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return invokes.answer(args.token, dict(args.args), self.region), []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if self.preview:
            # A create at preview: inputs are known, the ID and computed outputs are not.
            state = dict(args.inputs)
            if args.typ == EKS_CLUSTER:
                # Computed fields nested in an input block: unknown, as the provider reports them.
                state["vpcConfig"] = {**state.get("vpcConfig", {}), "clusterSecurityGroupId": UNKNOWN, "vpcId": UNKNOWN}
            return "", state
        physical = f"{args.name}-id"
        state = dict(args.inputs)
        state.setdefault("arn", f"arn:aws:preflight:{self.region}:{invokes.ACCOUNT_ID}:{args.typ}/{args.name}")
        if args.typ == NODE_GROUP:
            state["resources"] = [{"autoscalingGroups": [{"name": f"eks-{args.name}-asg"}], "remoteAccessSecurityGroupId": ""}]
            # EKS appends a 26-digit suffix to a name prefix.
            state.setdefault("nodeGroupName", f"{state.get('nodeGroupNamePrefix', args.name + '-')}{'0' * 25}1")
        elif args.typ == EKS_CLUSTER:
            # What the API reports for a new cluster: its endpoint and CA (as for an existing one).
            known = invokes.answer("aws:eks/getCluster:getCluster", {"name": state.get("name", args.name)}, self.region)
            state.setdefault("endpoint", known["endpoint"])
            state.setdefault("certificateAuthority", known["certificateAuthorities"][0])
            state.setdefault("identities", known["identities"])
            state["vpcConfig"] = {**known["vpcConfig"], **state.get("vpcConfig", {}),
                                  "clusterSecurityGroupId": known["vpcConfig"]["clusterSecurityGroupId"],
                                  "vpcId": known["vpcConfig"]["vpcId"]}
        elif args.typ == LAUNCH_TEMPLATE:
            state.setdefault("latestVersion", 1)
        return physical, state


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks, recording: Recording, preview: bool = True,
                 on_register: Callable[[RecordedResource], None] | None = None):
        super().__init__(mocks)
        self.recording = recording
        self._on_register = on_register
        self._stack_urn = ""
        self._by_urn: dict[str, RecordedResource] = {}
        self._preview = preview

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self._stack_urn = response.urn
            return response
        options: dict[str, Any] = {
            "protect": bool(request.protect),
            "ignoreChanges": list(request.ignoreChanges),
            "dependsOn": sorted(request.dependencies),
            "provider": request.provider,
            "retainOnDelete": bool(request.retainOnDelete),
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        }
        timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")
                    if request.HasField("customTimeouts") and getattr(request.customTimeouts, k)}
        if timeouts:
            options["customTimeouts"] = timeouts
        inputs = _struct_to_json(request.object)
        recorded = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=inputs,
            options=options,
            provider=request.provider,
            dependencies=sorted(request.dependencies),
            property_dependencies={k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())},
            # A component's outputs are its inputs until it registers its own.
            outputs=None if request.custom else inputs,
            version=request.version,
            state=response.object if request.custom else None,
            computed=computed_outputs(request.type) if request.custom and self._preview else frozenset(),
        )
        self.recording.resources.append(recorded)
        self._by_urn[recorded.urn] = recorded
        if self._on_register is not None:
            self._on_register(recorded)
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn and request.urn == self._stack_urn:
            self.recording.outputs = _struct_to_json(request.outputs)
        elif request.urn in self._by_urn:
            component = self._by_urn[request.urn]
            component.outputs, component.state = _struct_to_json(request.outputs), None
        return empty_pb2.Empty()


@contextlib.contextmanager
def _program_gc() -> Iterator[None]:
    """The cyclic garbage collector stays off for one program run: a burst of objects most of which
    live to its end.

    Every resource a program registers keeps its Outputs, futures and tasks until the run ends, so a
    collection during the run finds little to free and scans a lot: with CPython's defaults, 3.5 s of
    an 8.8 s run of 1,760 resources; with young collections only, still about a third of the run's
    CPU (``python -m bench.profile 200`` reports it). Reference counting still frees what is not in a
    cycle; the cycles are collected when the caller's collector next runs (preflight's CLI exits
    instead). ``python -m bench`` reports the peak RSS this costs. The caller's setting is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _LogCollector(logging.Handler):
    def __init__(self, recording: Recording):
        super().__init__(logging.DEBUG)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.recording.logs.append((record.levelname.lower(), record.getMessage()))


def run_program(
    project_dir: Path,
    source: StackConfigSource,
    *,
    preview: bool = True,
    secret_values: dict[str, str] | None = None,
    program: Callable[[], None] | None = None,
    on_register: Callable[[RecordedResource], None] | None = None,
) -> Recording:
    """Run ``<project_dir>/__main__.py`` for ``source``'s stack and return what it registered.

    ``secret_values`` stands in for decrypted ``secure:`` values (tests use it to prove that a
    real secret never leaks); by default secrets stay placeholders. ``program`` replaces
    ``__main__.py`` (the benchmark's SDK floor uses it). ``on_register`` gets each resource as it is
    recorded, from the SDK's registration threads (preflight streams it to the policy pack).
    """
    recording = Recording(project=source.project, stack=source.stack)
    config = dict(source.config)
    secret_keys = list(source.secret_keys)
    for key, value in (secret_values or {}).items():
        config[key] = value
        if key not in secret_keys:
            secret_keys.append(key)
    region = config.get("aws:region", "us-east-1")

    def work() -> None:
        runtime_config.set_all_config(config, secret_keys)
        logger = logging.getLogger(f"preflight.program.{source.stack}")
        logger.propagate = False
        logger.handlers = [_LogCollector(recording)]
        monitor = RecordingMonitor(PreflightMocks(region, preview), recording, preview, on_register)
        features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)
        configure(
            MockSettings(
                monitor=monitor,
                monitor_features=features,
                engine=MockEngine(logger),
                project=source.project,
                stack=source.stack,
                dry_run=preview,
                organization="organization",
                callbacks=None,
                root_directory=str(project_dir),
            )
        )

        def run_main() -> None:
            if program is not None:
                program()
            else:
                # As the Pulumi language host runs a project whose main is its directory:
                # ``runpy.run_path`` on the directory puts it first on sys.path for the run (the program
                # imports components/ and program/ from there), runs its __main__.py, and takes it off again.
                runpy.run_path(str(project_dir), run_name="__main__")

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_in_stack(run_main))
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    # A fresh context: the SDK keeps its settings, root stack and config in context variables.
    with _program_gc():
        contextvars.Context().run(work)
    # The program registers resources concurrently, so their order varies between runs; everything read
    # from the recording (the report, the plan, the cost items) follows URN order, the same every run.
    recording.resources.sort(key=lambda resource: resource.urn)
    return recording


__all__ = ["Recording", "RecordedResource", "UNKNOWN", "run_program", "redact_secrets", "pulumi"]
