"""One index over a stack's registered resources, and the links between them, for the estimator
and the policy pack alike: URN -> resource, parent -> children, type -> resources, URN ->
dependents, a node group's launch template, a schedule's node group (and a node group's schedules).

The index is generic over the caller's resource object: the estimator indexes the plain mappings
its docstring describes (:func:`mapping_node`), the pack its own ``Res``. Each caller describes a
resource as a :class:`Node`: its identity and the graph the engine recorded. Links are read from
that graph, never from names or ids, which are unknown at preview.

Cost: one pass to build; lookups O(1); dependents built on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .resource_types import LAUNCH_TEMPLATE, NODE_GROUP, SCHEDULE
from .values import mapping

R = TypeVar("R")

LAUNCH_TEMPLATE_INPUT = "launchTemplate"
"""The node group input holding ``{id | name, version}`` of its launch template."""
SCHEDULE_TARGET_INPUT = "autoscalingGroupName"
"""The schedule input holding the name of the Auto Scaling group it scales (the node group's)."""


@dataclass(eq=False, slots=True)
class Node(Generic[R]):
    """What the index knows of one resource; ``item`` is the caller's object, which lookups return."""

    item: R
    urn: str
    type: str
    parent: str = ""
    """The parent URN; "" for none."""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Input name (camelCase) -> the URNs whose outputs fed it."""
    inputs_given: frozenset[str] = frozenset()
    """Input names that have a value, known or unknown at preview (absent and null ones do not); the
    links read only a node group's, so a view may leave the others' empty."""

    def has_graph(self) -> bool:
        return bool(self.dependencies) or any(self.property_dependencies.values())


def _urns(value: Any) -> tuple[str, ...]:
    return tuple([u for u in value if isinstance(u, str)]) if isinstance(value, (list, tuple)) else ()


def mapping_node(resource: Any) -> Node[Mapping[str, Any]] | None:
    """A resource in the estimator's plain-mapping shape; None when it is not a mapping with a type."""
    if not isinstance(resource, Mapping):
        return None
    type_ = resource.get("type")
    if not isinstance(type_, str):
        return None
    urn, parent, prop_deps = resource.get("urn"), resource.get("parent"), resource.get("property_dependencies")
    return Node(
        item=resource,
        urn=urn if isinstance(urn, str) else "",
        type=type_,
        parent=parent if isinstance(parent, str) else "",
        dependencies=_urns(resource.get("dependencies")),
        property_dependencies={k: _urns(v) for k, v in prop_deps.items() if isinstance(k, str)}
        if isinstance(prop_deps, Mapping) else {},
        inputs_given=frozenset(k for k, v in mapping(resource.get("inputs")).items() if isinstance(k, str) and v is not None)
        if type_ == NODE_GROUP else frozenset(),
    )


class StackIndex(Generic[R]):
    """A stack's resources indexed once; every lookup answers the caller's own objects."""

    def __init__(self, nodes: Iterable[Node[R]]) -> None:
        self.nodes: list[Node[R]] = list(nodes)
        self.resources: list[R] = [n.item for n in self.nodes]
        self.by_urn: dict[str, R] = {}
        self._node_by_urn: dict[str, Node[R]] = {}
        self._node_of: dict[int, Node[R]] = {}
        self._by_type: dict[str, list[Node[R]]] = {}
        self._children: dict[str, list[Node[R]]] = {}
        self._dependents: dict[str, list[R]] | None = None
        self._schedules: dict[int, list[R]] | None = None
        for node in self.nodes:
            if node.urn:
                self.by_urn[node.urn] = node.item
                self._node_by_urn[node.urn] = node
            self._node_of[id(node.item)] = node
            self._by_type.setdefault(node.type, []).append(node)
            if node.parent:
                self._children.setdefault(node.parent, []).append(node)

    def node(self, item: R) -> Node[R] | None:
        return self._node_of.get(id(item))

    def of_type(self, *types: str) -> list[R]:
        return [n.item for t in types for n in self._by_type.get(t, ())]

    def children(self, urn: str) -> list[R]:
        return [n.item for n in self._children.get(urn, ())] if urn else []

    def dependents(self, urn: str) -> list[R]:
        """Resources that depend on ``urn``, directly or through a property."""
        if self._dependents is None:
            index: dict[str, list[R]] = {}
            for node in self.nodes:
                deps = set(node.dependencies)
                for urns in node.property_dependencies.values():
                    deps.update(urns)
                for dep in deps:
                    index.setdefault(dep, []).append(node.item)
            self._dependents = index
        return self._dependents.get(urn, [])

    def _among(self, urns: Iterable[str], type_: str) -> R | None:
        for urn in urns:
            target = self._node_by_urn.get(urn)
            if target is not None and target.type == type_:
                return target.item
        return None

    def _only_sibling(self, node: Node[R], type_: str) -> R | None:
        siblings = [n.item for n in self._children.get(node.parent, ()) if n.type == type_] if node.parent else []
        return siblings[0] if len(siblings) == 1 else None

    def launch_template_of(self, node_group: R) -> R | None:
        """The launch template a node group's ``launchTemplate`` input names, or None.

        The input holds the template's id or name, unknown at preview, so the engine's graph decides:
        the LaunchTemplate among the URNs that fed the input is the one (a recorded property
        dependency also proves the input is set); with the input absent the group uses EKS's default
        template, whatever it depends on or sits beside; with the input set, a LaunchTemplate among
        the flat ``dependencies`` serves records that keep only that list (property dependencies
        are a subset of it); and a record without any graph at all (hand-built) takes the only
        LaunchTemplate under the same parent, the one a node-pool component builds for its group.
        A record whose graph names no template uses one from outside the stack: None.
        """
        node = self.node(node_group)
        if node is None or node.type != NODE_GROUP:
            return None
        found = self._among(node.property_dependencies.get(LAUNCH_TEMPLATE_INPUT, ()), LAUNCH_TEMPLATE)
        if found is not None or LAUNCH_TEMPLATE_INPUT not in node.inputs_given:
            return found
        found = self._among(node.dependencies, LAUNCH_TEMPLATE)
        if found is not None or node.has_graph():
            return found
        return self._only_sibling(node, LAUNCH_TEMPLATE)

    def node_group_of(self, schedule: R) -> R | None:
        """The node group whose Auto Scaling group a schedule scales, or None.

        Its ``autoscalingGroupName`` is unknown at preview, so: the NodeGroup among the URNs that fed
        it, else among its dependencies, else its parent, else the only NodeGroup under the same parent.
        """
        node = self.node(schedule)
        if node is None:
            return None
        found = self._among((*node.property_dependencies.get(SCHEDULE_TARGET_INPUT, ()), *node.dependencies), NODE_GROUP)
        if found is not None:
            return found
        parent = self._node_by_urn.get(node.parent)
        if parent is not None and parent.type == NODE_GROUP:
            return parent.item
        return self._only_sibling(node, NODE_GROUP)

    def schedules_of(self, node_group: R) -> list[R]:
        """The schedules that scale a node group (``node_group_of`` read the other way), in stack order."""
        if self._schedules is None:
            index: dict[int, list[R]] = {}
            for schedule in self.of_type(SCHEDULE):
                group = self.node_group_of(schedule)
                if group is not None:
                    index.setdefault(id(group), []).append(schedule)
            self._schedules = index
        return self._schedules.get(id(node_group), [])
