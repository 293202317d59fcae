"""The stack index's links, on the estimator's plain mappings (the pack's view: tests/policypacks)."""

from __future__ import annotations

from typing import Any

from ai_platform_finops.resource_types import LAUNCH_TEMPLATE, NODE_GROUP, SCHEDULE
from ai_platform_finops.stack_index import StackIndex, mapping_node
from tests.finops.finops_fixtures import UNKNOWN


def _r(urn: str, type_: str, parent: str = "", inputs: dict[str, Any] | None = None, deps: list[str] | None = None,
       prop: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"urn": urn, "type": type_, "parent": parent, "inputs": inputs or {}, "dependencies": deps or [],
            "property_dependencies": prop or {}}


def _index(*resources: Any) -> StackIndex[Any]:
    return StackIndex(n for n in map(mapping_node, resources) if n is not None)


LT_INPUT = {"launchTemplate": {"id": UNKNOWN, "version": UNKNOWN}}


def test_the_template_that_fed_the_input_wins_even_without_the_input():
    a, b = _r("a", LAUNCH_TEMPLATE, "p"), _r("b", LAUNCH_TEMPLATE, "p")
    ng = _r("ng", NODE_GROUP, "p", deps=["a", "b"], prop={"launchTemplate": ["b"]})
    assert _index(a, b, ng).launch_template_of(ng) is b


def test_flat_dependencies_serve_only_a_group_whose_input_is_set():
    lt = _r("lt", LAUNCH_TEMPLATE)
    uses = _r("ng", NODE_GROUP, inputs=LT_INPUT, deps=["lt"])
    depends_only = _r("ng2", NODE_GROUP, deps=["lt"])
    index = _index(lt, uses, depends_only)
    assert index.launch_template_of(uses) is lt and index.launch_template_of(depends_only) is None


def test_the_lone_sibling_serves_only_a_record_without_a_graph():
    lt, other = _r("lt", LAUNCH_TEMPLATE, "p"), _r("x", "aws:eks/cluster:Cluster")
    bare = _r("ng", NODE_GROUP, "p", inputs=LT_INPUT)
    graphed = _r("ng2", NODE_GROUP, "p", inputs=LT_INPUT, deps=["x"])
    index = _index(lt, other, bare, graphed)
    assert index.launch_template_of(bare) is lt and index.launch_template_of(graphed) is None
    second = _r("lt2", LAUNCH_TEMPLATE, "p")
    assert _index(lt, second, bare).launch_template_of(bare) is None  # two beside it: no guess
    assert _index(_r("lt", LAUNCH_TEMPLATE), _r("ng", NODE_GROUP, inputs=LT_INPUT)).launch_template_of(
        _r("ng", NODE_GROUP)) is None  # not a resource of the index


def test_a_schedules_node_group_by_property_dependency_then_parent_then_lone_sibling():
    ng, ng2 = _r("ng", NODE_GROUP, "p"), _r("ng2", NODE_GROUP, "p")
    by_prop = _r("s1", SCHEDULE, "p", deps=["ng"], prop={"autoscalingGroupName": ["ng2"]})
    under = _r("s2", SCHEDULE, "ng")
    index = _index(ng, ng2, by_prop, under)
    assert index.node_group_of(by_prop) is ng2 and index.node_group_of(under) is ng
    assert index.node_group_of(_r("s3", SCHEDULE, "p")) is None
    lone = _r("s4", SCHEDULE, "q")
    assert _index(_r("ng", NODE_GROUP, "q"), lone).node_group_of(lone)["urn"] == "ng"


def test_lookups_skip_what_is_not_a_resource():
    good = _r("a", NODE_GROUP, "p")
    index = _index(good, "junk", {"type": 3}, _r("", SCHEDULE, "p"))
    assert index.resources == [good, _r("", SCHEDULE, "p")] and "" not in index.by_urn
    assert index.children("") == [] and [r["urn"] for r in index.children("p")] == ["a", ""]
    assert index.of_type(NODE_GROUP, SCHEDULE) == index.resources
