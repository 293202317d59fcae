"""The SDK floor: the same resources, registered bare, with no component logic.

Given a recording of the real program, register every resource again with the same type, name,
parent, provider, engine-form inputs and options (protect, ignoreChanges, retainOnDelete,
deleteBeforeReplace, customTimeouts), each through the SDK's generated class for its type, found
as the SDK itself finds it to rehydrate a resource (its package's resource-module registry).
Components are bare ``ComponentResource`` objects. There is no ``Output``, ``apply``, invoke,
``depends_on``, export or config in it: what it costs is what the Pulumi SDK and the mocks cost for
these resources; the program's time over it is what ai-platform's own logic adds.
``same_requests`` checks that the floor sent the engine the program's requests.

Why the generated class and not ``pulumi.CustomResource(type, ...)`` (``typed=False``, reported as
``floor_raw_s``): the class does SDK work that every program using these types pays and a raw
``CustomResource`` skips, so a raw floor is not the floor of any typed program:

- the aliases the provider schema declares (a ``Deployment`` has 3, a ``HorizontalPodAutoscaler`` 3,
  a ``PodDisruptionBudget`` and a ``NetworkPolicy`` 1 each), each collapsed into a chain of URN
  Outputs when the resource is constructed and sent in its request;
- the typed input and output classes: names translated and types unwrapped for every input
  property, output objects built from the returned state;
- the plugin version in the request, and the default resource options merged in;
- the stack trace the SDK records for every resource: it keeps the frames below the third
  ``__init__`` on the stack (Resource, CustomResource, the generated class); a raw
  ``CustomResource`` built in a loop has no third one, so the SDK sends an empty trace.
"""

from __future__ import annotations

from typing import Sequence

import pulumi

from preflight.engine import Recording, RecordedResource, sdk_input_names, sdk_resource_class

COMPARED = ("type", "name", "parent", "custom", "inputs", "provider")
"""What ``same_requests`` compares, with the options except ``dependsOn`` (component wiring)."""


def resource_class(type_: str) -> tuple[type[pulumi.CustomResource], dict[str, str]] | None:
    """The SDK's generated class for ``type_`` and its inputs' Pulumi -> Python names, if it has one."""
    cls, names = sdk_resource_class(type_), sdk_input_names(type_)
    return (cls, names) if cls is not None and names is not None else None


def _options(recorded: RecordedResource, parent: pulumi.Resource | None,
             provider: pulumi.ProviderResource | None) -> pulumi.ResourceOptions:
    o = recorded.options
    timeouts = o.get("customTimeouts")
    return pulumi.ResourceOptions(
        parent=parent,
        provider=provider,
        protect=o.get("protect") or None,
        ignore_changes=o.get("ignoreChanges") or None,
        retain_on_delete=o.get("retainOnDelete") or None,
        delete_before_replace=o.get("deleteBeforeReplace") or None,
        custom_timeouts=pulumi.CustomTimeouts(**timeouts) if timeouts else None,
    )


def creation_order(resources: Sequence[RecordedResource]) -> list[RecordedResource]:
    """``resources`` with every parent and provider before the resources that name it (a recording is in
    URN order, and a resource can only be given a parent or provider object that already exists)."""
    by_urn = {r.urn: r for r in resources}
    ordered: list[RecordedResource] = []
    placed: set[str] = set()
    for start in resources:
        stack = [start]
        while stack:
            recorded = stack[-1]
            if recorded.urn in placed:
                stack.pop()
                continue
            first = [by_urn[urn] for urn in (recorded.parent, (recorded.provider or "").rsplit("::", 1)[0])
                     if urn in by_urn and urn not in placed]
            if first:
                stack.extend(first)
                continue
            placed.add(recorded.urn)
            ordered.append(stack.pop())
    return ordered


def register_bare(resources: Sequence[RecordedResource], *, typed: bool = True) -> None:
    created: dict[str, pulumi.Resource] = {}
    for recorded in creation_order(resources):
        parent = created.get(recorded.parent)
        # A provider reference is "<provider urn>::<provider id>".
        provider = created.get(recorded.provider.rsplit("::", 1)[0]) if recorded.provider else None
        opts = _options(recorded, parent, provider if isinstance(provider, pulumi.ProviderResource) else None)
        found = resource_class(recorded.type) if typed and recorded.custom else None
        if found is not None and all(key in found[1] for key in recorded.inputs):
            cls, py_names = found
            resource: pulumi.Resource = cls(recorded.name, opts=opts,
                                            **{py_names[key]: value for key, value in recorded.inputs.items()})
        elif recorded.type.startswith("pulumi:providers:"):
            resource = pulumi.ProviderResource(recorded.type.split(":")[2], recorded.name, dict(recorded.inputs), opts)
        elif recorded.custom:
            resource = pulumi.CustomResource(recorded.type, recorded.name, dict(recorded.inputs), opts)
        else:
            resource = pulumi.ComponentResource(recorded.type, recorded.name, None, opts)
        created[recorded.urn] = resource


def same_requests(program: Recording, floor: Recording) -> list[str]:
    """Where the floor's requests differ from the program's (dependencies aside); empty when none do."""
    theirs = {r.urn: r for r in floor.resources}
    problems = [f"missing from the floor: {urn}" for urn in {r.urn for r in program.resources} - theirs.keys()]
    problems += [f"only in the floor: {urn}" for urn in theirs.keys() - {r.urn for r in program.resources}]
    for ours in program.resources:
        other = theirs.get(ours.urn)
        if other is None:
            continue
        for name in COMPARED:
            if getattr(ours, name) != getattr(other, name):
                problems.append(f"{ours.urn}: {name} differs")
        options = ({k: v for k, v in r.options.items() if k != "dependsOn"} for r in (ours, other))
        if next(options) != next(options):
            problems.append(f"{ours.urn}: options differ")
    return problems
