"""The requests the engine sends a pack, built from recorded resources: ``Analyze`` (inputs, options and
the provider resource), ``AnalyzeStack`` (every resource's outputs, provider, parent and dependencies),
and the default providers the engine registers for resources that name none."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from ..engine import REDACTED, SECRET_SIG, SIG_KEY, RecordedResource


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
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


def uses_default_provider(resource: RecordedResource) -> bool:
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
        if not uses_default_provider(resource):
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


@dataclass(frozen=True)
class Requests:
    """The requests for one stack: its project and name, and the stack config its default providers
    are built from."""

    project: str
    stack: str
    stack_config: Mapping[str, Any] = field(default_factory=dict)
    secret_keys: Sequence[str] = ()

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
        elif uses_default_provider(resource):
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
            properties = struct(inputs)
            if structs is not None:
                structs[key] = properties
        return analyzer_pb2.AnalyzerProviderResource(type=found.type, urn=found.urn, name=found.name,
                                                     properties=properties)

    def analyze(self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource],
                        structs: dict[str, struct_pb2.Struct] | None = None) -> analyzer_pb2.AnalyzeRequest:
        properties = structs[resource.urn] if structs is not None else struct(resource.inputs)
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, urn=resource.urn, name=resource.name, properties=properties,
            options=self.options(resource))
        provider = self.provider(resource, by_urn, structs)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def analyze_stack(self, resources: Sequence[RecordedResource], by_urn: Mapping[str, RecordedResource],
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
                item.properties.CopyFrom(structs[resource.urn] if structs is not None else struct(resource.inputs))
            else:
                item.properties.CopyFrom(struct(outputs))
            item.options.CopyFrom(self.options(resource))
            provider = self.provider(resource, by_urn, structs)
            if provider is not None:
                item.provider.CopyFrom(provider)
            item.dependencies.extend(resource.dependencies)
            for key, urns in resource.property_dependencies.items():
                if urns:
                    item.propertyDependencies[key].urns.extend(urns)
        return request
