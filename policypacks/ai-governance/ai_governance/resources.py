"""Resources as rules see them: one ``Res`` for resource and stack rules alike, and the ``Stack``
every stack rule reads, indexed once per ``AnalyzeStack`` so the pack stays linear in the stack's
size."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pulumi_policy import PolicyResource, ResourceValidationArgs

from ai_platform_finops.resource_types import NODE_GROUP
from ai_platform_finops.stack_index import Node, StackIndex

from .props import MISSING, entries

T = TypeVar("T")


@dataclass(eq=False)
class Res:
    """One resource, the same for resource rules and stack rules."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent_urn: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider_type: str = ""
    provider_props: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"{self.type.rsplit(':', 1)[-1]} {self.name}"

    def all_dependencies(self) -> set[str]:
        deps = set(self.dependencies)
        for urns in self.property_dependencies.values():
            deps.update(urns)
        return deps


def res_from_args(args: ResourceValidationArgs) -> Res:
    opts = args.opts
    provider = args.provider
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        protect=bool(getattr(opts, "protect", False)),
        parent_urn=str(getattr(opts, "parent", None) or ""),
        provider_type=provider.resource_type if provider is not None else "",
        provider_props=provider.props if provider is not None else None,
    )


def res_from_stack(resource: PolicyResource) -> Res:
    opts = resource.opts
    provider = resource.provider
    parent = resource.parent.urn if resource.parent is not None else str(getattr(opts, "parent", None) or "")
    return Res(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        protect=bool(getattr(opts, "protect", False)),
        parent_urn=parent,
        dependencies=[d.urn for d in resource.dependencies],
        property_dependencies={k: [d.urn for d in v] for k, v in resource.property_dependencies.items()},
        provider_type=provider.resource_type if provider is not None else "",
        provider_props=provider.props if provider is not None else None,
    )


def _node(res: Res) -> Node[Res]:
    """The stack index's view of a resource; the links read only a node group's given inputs."""
    given = frozenset(k for k, v in entries(res.props) if v is not MISSING) if res.type == NODE_GROUP else frozenset()
    return Node(item=res, urn=res.urn, type=res.type, parent=res.parent_urn, dependencies=tuple(res.dependencies),
                property_dependencies={k: tuple(v) for k, v in res.property_dependencies.items()}, inputs_given=given)


class Stack(StackIndex[Res]):
    """All resources of a stack with O(1) lookups (the index ai_platform_finops.stack_index shares
    with the estimator): stack rules stay linear in the stack's size."""

    def __init__(self, resources: Sequence[Res]) -> None:
        super().__init__(_node(r) for r in resources)
        self._indexes: dict[str, Any] = {}

    def index(self, name: str, build: Callable[[Stack], T]) -> T:
        """The index ``build(self)``, built on first use and shared by every stack rule after it:
        a rule looks things up in it instead of scanning the stack per resource."""
        if name not in self._indexes:
            self._indexes[name] = build(self)
        return self._indexes[name]
