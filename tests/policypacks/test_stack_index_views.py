"""The estimator and the pack index a stack through one ``StackIndex``, each from its own resource
shape (plain mappings, the pack's ``Res``): the two views of one stack give the same answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ai_governance.resources import Res, Stack
from ai_platform_finops.resource_types import LAUNCH_TEMPLATE, NODE_GROUP, SCHEDULE
from ai_platform_finops.stack_index import StackIndex, mapping_node
from preflight.engine import UNKNOWN

TYPES = [NODE_GROUP, LAUNCH_TEMPLATE, SCHEDULE, "ai-platform:cluster:NodePool", "aws:eks/cluster:Cluster"]
URNS = [f"urn:{i}" for i in range(6)]
LINK_INPUTS = st.sampled_from([None, UNKNOWN, {"id": UNKNOWN, "version": UNKNOWN}, {"name": "lt-a"}, "absent"])


@st.composite
def stacks(draw: Any) -> list[dict[str, Any]]:
    out = []
    for urn in draw(st.lists(st.sampled_from(URNS), max_size=6, unique=True)):
        inputs: dict[str, Any] = {}
        link = draw(LINK_INPUTS)
        if link != "absent":
            inputs["launchTemplate"] = link
        deps = draw(st.lists(st.sampled_from(URNS), max_size=3))
        prop = draw(st.sampled_from(["launchTemplate", "autoscalingGroupName", "clusterName"]))
        out.append({"urn": urn, "type": draw(st.sampled_from(TYPES)), "name": urn, "inputs": inputs,
                    "parent": draw(st.sampled_from(["", *URNS])), "dependencies": deps,
                    "property_dependencies": {prop: draw(st.lists(st.sampled_from(deps), max_size=2))} if deps else {}})
    return out


def _res(r: dict[str, Any]) -> Res:
    return Res(type=r["type"], name=r["name"], urn=r["urn"], props=r["inputs"], parent_urn=r["parent"],
               dependencies=list(r["dependencies"]), property_dependencies=dict(r["property_dependencies"]))


def _urn(found: Any) -> str | None:
    if found is None:
        return None
    return found["urn"] if isinstance(found, dict) else found.urn


@given(stacks())
def test_the_estimators_view_and_the_packs_view_agree(resources):
    plain = StackIndex(n for n in map(mapping_node, resources) if n is not None)
    packed = Stack([_res(r) for r in resources])
    for mine, theirs in zip(plain.resources, packed.resources):
        assert _urn(plain.launch_template_of(mine)) == _urn(packed.launch_template_of(theirs))
        assert _urn(plain.node_group_of(mine)) == _urn(packed.node_group_of(theirs))
        assert [_urn(s) for s in plain.schedules_of(mine)] == [_urn(s) for s in packed.schedules_of(theirs)]
        group = plain.node_group_of(mine) if mine["type"] == SCHEDULE else None
        # schedules_of reads node_group_of the other way: one link, never two.
        assert group is None or any(s is mine for s in plain.schedules_of(group))
        assert [_urn(c) for c in plain.children(mine["urn"])] == [_urn(c) for c in packed.children(theirs.urn)]
        assert {_urn(d) for d in plain.dependents(mine["urn"])} == {_urn(d) for d in packed.dependents(theirs.urn)}
    assert [_urn(r) for r in plain.of_type(NODE_GROUP)] == [_urn(r) for r in packed.of_type(NODE_GROUP)]
