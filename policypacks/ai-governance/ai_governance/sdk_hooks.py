"""The pack's only hook into pulumi-policy internals, pinned to the version it was tested with.

pulumi-policy has no public way for a rule to read the policy config's ``"all"`` entry (the CLI
forwards it to ``Configure``, but the SDK hands each rule only its own entry), nor to share one
deserialized view of a resource between rules, nor to skip re-reading an environment that does not
change. Small wraps of its private analyzer servicer do that, and keep a stack's analysis linear:

1. ``Configure`` keeps the ``"all"`` entry (pins of the org settings, ``unknownValues``, ``asOf``)
   and first asks ``validate`` whether it is acceptable; an error aborts ``Configure`` with
   INVALID_ARGUMENT, so the preview stops with that one message.
2. ``Analyze``/``AnalyzeStack`` cache the SDK's conversions (MessageToDict, done directly for a
   property bag by ``struct_to_dict``; deserialize; proxy)
   and the options and provider views it builds of a resource message (``_get_resource_options``,
   ``_get_provider_resource``) per message object for the length of one call: the SDK rebuilds
   them for every policy, so without the cache a resource costs once per policy, not once.
3. ``_configure_runtime_settings``, which the SDK runs at the start of every call (it JSON-parses
   ``PULUMI_CONFIG``, up to 64 KiB, and inspects a signature: about an eighth of the pack's CPU),
   runs once per gRPC worker thread while ``PULUMI_CONFIG``, ``PULUMI_PROJECT``, ``PULUMI_STACK``,
   ``PULUMI_DRY_RUN`` and ``PULUMI_ORGANIZATION`` stay the same; the settings it makes are the
   thread's context variables, so each thread still gets them once.
4. ``AnalyzeStack`` builds the stack's resources (each with its parent, dependencies and property
   dependencies linked) once per call and hands the same list to every stack policy; the SDK
   rebuilds them once per stack policy, which costs policies x dependency links, and the links grow
   faster than the resources (a resource may depend on every namespace). The rest is the SDK's code
   as written: the same levels, config, tags, violations and not-applicable reasons. The property
   views were already shared between policies (2.); no rule changes a resource it is given.
5. ``AnalyzeStack`` runs with the cyclic garbage collector paused (``COLLECTOR``): everything it builds
   (every resource's properties, proxies and links) lives until the call returns, so a collection
   during the call frees nothing and scans the whole growing stack; measured in-process at N=200,
   the collections were half of the call's CPU time. The call's cyclic garbage is freed by the next
   collection after it.

The org settings themselves do not depend on this module: they come from ``PULUMI_CONFIG``. If the
installed pulumi-policy is not the tested version, or its servicer has changed shape, ``install``
raises ``SystemExit`` and the pack refuses to start rather than run with missing settings.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import threading
from collections.abc import Callable, Mapping
from functools import wraps
from importlib import metadata
from typing import Any

TESTED_PULUMI_POLICY = "1.21"
"""The pulumi-policy minor these hooks were written and tested against (requirements.txt pins it)."""

_HOOKED = ("Configure", "Analyze", "AnalyzeStack", "_configure_runtime_settings", "_get_resource_options",
           "_get_provider_resource", "_get_enforcement_level", "_create_report_violation", "_get_policy_config",
           "_map_enforcement_level")
_SDK_NAMES = ("PolicyResource", "StackValidationPolicy", "StackValidationArgs", "EnforcementLevel",
              "UnknownValueError", "_NotApplicableError", "proto", "asyncio", "isawaitable",
              "deserialize_properties", "unknown_checking_proxy", "json_format")
"""What ``analyze_stack_once`` uses from the SDK's policy module."""
RUNTIME_ENV = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")
"""What the SDK's runtime settings are made from."""
_RUNTIME = threading.local()


class _PackConfig:
    """What the engine sent in ``Configure``: the ``"all"`` entry's properties."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: dict[str, Any] = {}

    def set_all(self, values: Mapping[str, Any]) -> None:
        with self._lock:
            self._all = dict(values)

    def all(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._all)


PACK_CONFIG = _PackConfig()


class _Collector:
    """The cyclic garbage collector, paused while any call that asked for it runs (calls may overlap
    on the server's threads) and restored to what it was when the last of them returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    @contextlib.contextmanager
    def paused(self) -> Any:
        with self._lock:
            if self._depth == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._restore:
                    gc.enable()


COLLECTOR = _Collector()

CALL = threading.local()
"""Per gRPC call (and thread): the deserialized views of the call's messages, shared by every rule."""


def per_call_cache(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function(value)`` computed once per ``value`` object during one Analyze/AnalyzeStack call."""

    def cached(value: Any, *args: Any, **kwargs: Any) -> Any:
        entries = getattr(CALL, "entries", None)
        if entries is None or args or kwargs:
            return function(value, *args, **kwargs)
        key = (id(function), id(value))
        hit = entries.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = function(value)
        entries[key] = (value, result)  # keeps ``value`` alive, so its id cannot be reused meanwhile
        return result

    return cached


def per_call_method(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``method(self, message)`` computed once per ``message`` object during one call."""

    def cached(self: Any, message: Any) -> Any:
        entries = getattr(CALL, "entries", None)
        if entries is None:
            return method(self, message)
        key = (id(method), id(message))
        hit = entries.get(key)
        if hit is not None and hit[0] is message:
            return hit[1]
        result = method(self, message)
        entries[key] = (message, result)  # keeps ``message`` alive, so its id cannot be reused meanwhile
        return result

    return cached


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """``json_format.MessageToDict`` of a ``google.protobuf.Struct``, the same values (numbers as
    floats, ValueError on NaN and infinities) without its generic per-field descriptor walk."""
    return {key: _value(value) for key, value in struct.fields.items()}


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


def _message_to_dict(module: Any) -> Callable[..., Any]:
    def message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs and message.DESCRIPTOR.full_name == "google.protobuf.Struct":
            return struct_to_dict(message)
        return module.MessageToDict(message, *args, **kwargs)
    return message_to_dict


class _JsonFormat:
    """Stands in for ``google.protobuf.json_format`` inside pulumi_policy.policy: MessageToDict of a
    property bag (a Struct) converted directly and cached per call."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.MessageToDict = per_call_cache(_message_to_dict(module))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def configure_runtime_once(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``original`` (the SDK's runtime set-up) run once per thread for the same ``RUNTIME_ENV``."""

    def configure_runtime_settings(self: Any) -> Any:
        key = tuple(os.environ.get(name) for name in RUNTIME_ENV)
        if getattr(_RUNTIME, "key", None) == key:
            return None
        result = original(self)
        _RUNTIME.key = key
        return result

    return configure_runtime_settings


_PRIVATE = "_PolicyAnalyzerServicer__"
"""The servicer's name-mangled attributes ``analyze_stack_once`` reads (policies, stack tags)."""


def stack_resources(sdk: Any, servicer: Any, request: Any) -> list[Any]:
    """The SDK's ``PolicyResource`` for every resource of an ``AnalyzeStack`` request, with parent,
    dependencies and property dependencies linked as the SDK links them."""
    built: list[tuple[Any, str, list[str], dict[str, list[str]]]] = []
    for r in request.resources:
        props = sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties)))
        resource = sdk.PolicyResource(r.type, props, r.urn, r.name, servicer._get_resource_options(r),  # noqa: SLF001
                                      servicer._get_provider_resource(r), None, [], {})  # noqa: SLF001
        built.append((resource, r.parent, list(r.dependencies),
                      {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
    by_urn = {resource.urn: resource for resource, _, _, _ in built}
    for resource, parent, dependencies, property_dependencies in built:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return [resource for resource, _, _, _ in built]


def analyze_stack_once(original: Callable[[Any, Any, Any], Any], sdk: Any) -> Callable[[Any, Any, Any], Any]:
    """The SDK's ``AnalyzeStack`` with the resources built once per call (``stack_resources``) instead of
    once per stack policy; ``original`` when the servicer lacks the attributes it reads."""

    @wraps(original)
    def analyze_stack(self: Any, request: Any, context: Any) -> Any:
        policies = getattr(self, _PRIVATE + "policies", None)
        stack_tags = getattr(self, _PRIVATE + "stack_tags", None)
        name, version = getattr(self, _PRIVATE + "policy_pack_name", None), getattr(self, _PRIVATE + "policy_pack_version", None)
        if policies is None or stack_tags is None or name is None or version is None:
            return original(self, request, context)
        self._configure_runtime_settings()
        response = sdk.proto.AnalyzeResponse()
        resources: list[Any] | None = None
        for policy in policies:
            level = self._get_enforcement_level(policy)
            if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
                continue
            if level == sdk.EnforcementLevel.REMEDIATE:
                level = sdk.EnforcementLevel.MANDATORY  # stack policies cannot remediate (as the SDK does)
            report = self._create_report_violation(response, policy.name, policy.description, level,
                                                   policy.severity)
            if resources is None:
                resources = stack_resources(sdk, self, request)
            args = sdk.StackValidationArgs(list(resources), self._get_policy_config(policy.name), stack_tags)
            try:
                result = policy.validate(args, report)
                if sdk.isawaitable(result):
                    loop = sdk.asyncio.new_event_loop()
                    loop.run_until_complete(sdk.asyncio.Task(result, loop=loop))
                    loop.close()
            except sdk.UnknownValueError as e:
                response.diagnostics.append(sdk.proto.AnalyzeDiagnostic(
                    policyName=policy.name, policyPackName=name, policyPackVersion=version,
                    message=(f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' "
                             f"during preview: {e.message}"),
                    urn="", description=policy.description,
                    enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY)))
            except sdk._NotApplicableError as e:  # noqa: SLF001
                response.not_applicable.append(sdk.proto.PolicyNotApplicable(policy_name=policy.name,
                                                                             reason=e.reason or ""))
        return response

    return analyze_stack


def problem(version: str | None, sdk: Any) -> str | None:
    """Why the hooks cannot install on this SDK, or None."""
    if version is None:
        return "pulumi-policy is not installed"
    if version.split(".")[:2] != TESTED_PULUMI_POLICY.split("."):
        return (f"pulumi-policy {version} is installed, but the pack is tested with {TESTED_PULUMI_POLICY}.x "
                "(requirements.txt pins it); reinstall the pack's requirements")
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    if servicer is None or not all(callable(getattr(servicer, m, None)) for m in _HOOKED):
        return f"pulumi-policy {version} has no analyzer servicer with {', '.join(_HOOKED)}"
    missing = [name for name in _SDK_NAMES if not hasattr(sdk, name)]
    if missing:
        return f"pulumi-policy {version} has no {', '.join(missing)} in its policy module"
    return None


def _installed_version() -> str | None:
    try:
        return metadata.version("pulumi-policy")
    except metadata.PackageNotFoundError:
        return None


def install(validate: Callable[[dict[str, Any]], str | None]) -> None:
    """Install both hooks, or raise SystemExit naming why (the pack then never starts)."""
    from google.protobuf import json_format
    from pulumi_policy import policy as sdk

    reason = problem(_installed_version(), sdk)
    if reason is not None:
        raise SystemExit(f"ai-governance: cannot start: {reason}")
    servicer = sdk._PolicyAnalyzerServicer  # noqa: SLF001 - the private names used here are checked above
    if getattr(servicer.Configure, "_ai_governance_hook", False):
        return
    configure_original = servicer.Configure

    def configure(self: Any, request: Any, context: Any) -> Any:
        entry = request.policyConfig["all"] if "all" in request.policyConfig else None
        values = json_format.MessageToDict(entry.properties) if entry is not None else {}
        error = validate(values)
        if error is not None:
            import grpc

            context.abort(grpc.StatusCode.INVALID_ARGUMENT, error)
        PACK_CONFIG.set_all(values)
        return configure_original(self, request, context)

    def per_call(original: Callable[..., Any], pause_collector: bool = False) -> Callable[..., Any]:
        @wraps(original)
        def analyze(self: Any, request: Any, context: Any) -> Any:
            CALL.entries = {}
            try:
                with COLLECTOR.paused() if pause_collector else contextlib.nullcontext():
                    return original(self, request, context)
            finally:
                CALL.entries = None
        return analyze

    for name in ("deserialize_properties", "unknown_checking_proxy"):
        if callable(getattr(sdk, name, None)):
            setattr(sdk, name, per_call_cache(getattr(sdk, name)))
    if getattr(sdk, "json_format", None) is json_format:
        setattr(sdk, "json_format", _JsonFormat(json_format))
    configure._ai_governance_hook = True  # type: ignore[attr-defined]  # noqa: SLF001 - our own marker
    setattr(servicer, "Configure", configure)
    setattr(servicer, "Analyze", per_call(servicer.Analyze))
    setattr(servicer, "AnalyzeStack", per_call(analyze_stack_once(servicer.AnalyzeStack, sdk), pause_collector=True))
    setattr(servicer, "_configure_runtime_settings", configure_runtime_once(servicer._configure_runtime_settings))  # noqa: SLF001
    for name in ("_get_resource_options", "_get_provider_resource"):
        setattr(servicer, name, per_call_method(getattr(servicer, name)))
