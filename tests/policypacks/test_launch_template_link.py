"""The cost rules and the GPU rules read one node group -> launch template link (ai_platform_finops.stack_index),
and one schedule -> node group link.

Each stack below is one the estimator and the pack used to read differently: the estimator also
linked a lone launch template under the same parent, the pack only one among the dependencies. The
estimator prices the node group; the pack, through gRPC, decides whether it is a GPU pool (dev: a
GPU pool without an off-peak schedule is a violation). Both now follow ``StackIndex.launch_template_of``.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from ai_platform_finops.estimator import estimate
from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import violations

OFF_PEAK = "gpu-pool-off-peak-schedule"
KEY = f"{b.PREFIX}/project"


def _pool(launch_template_input: bool, graph: bool) -> list[RecordedResource]:
    """A node-pool component holding a GPU launch template (g5.xlarge) and a node group that names no
    instance type of its own, with or without a ``launchTemplate`` input and a recorded graph."""
    component = b.res("ai-platform:cluster:NodePool", "gpu", {}, custom=False)
    cluster = b.cluster("dev")
    lt = dataclasses.replace(b.launch_template("gpu", "dev", instanceType="g5.xlarge"), parent=component.urn)
    ng = dataclasses.replace(b.node_group("gpu", lt, env="dev", gpu=False), parent=component.urn)
    del ng.inputs["instanceTypes"]
    if not launch_template_input:
        del ng.inputs["launchTemplate"]
    ng.dependencies = [cluster.urn] if graph else []
    ng.property_dependencies = {"clusterName": [cluster.urn]} if graph else {}
    return [cluster, component, lt, ng]


def _plain(resources: list[RecordedResource]) -> list[dict[str, Any]]:
    return [{"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs,
             "dependencies": r.dependencies, "property_dependencies": r.property_dependencies} for r in resources]


def _estimated(resources: list[RecordedResource]) -> dict[str, Any]:
    result = estimate(_plain(resources),
                      region="us-east-1", project_tag_key=KEY, default_project="project-nova", as_of=date(2026, 12, 1))
    return {i.name: i for i in result.items}


@pytest.mark.parametrize("launch_template_input, graph, gpu", [
    # No launchTemplate input: EKS's default template, whatever sits beside the group (the estimator
    # used to take the lone template under the same parent and price a GPU pool the pack did not see).
    (False, True, False),
    (False, False, False),
    # The input set but no graph recorded at all (a hand-built record): the one template beside it
    # (the pack used to find none and saw no GPU pool the estimator priced).
    (True, False, True),
    # The input set and a graph naming no template: one from outside the stack.
    (True, True, False),
], ids=["no-input", "no-input-no-graph", "input-no-graph", "input-outside-the-stack"])
def test_the_estimator_and_the_gpu_rules_agree_on_a_node_groups_launch_template(pack, launch_template_input, graph, gpu):
    stack = _pool(launch_template_input, graph)
    items = _estimated(stack)
    priced_as = items["gpu-ng"].attributes["instance type"]
    assert priced_as == ("g5.xlarge" if gpu else "t3.medium")
    assert ("gpu-lt" in items) is gpu  # its volumes are billed only as some group's nodes

    flagged = [m for _, _, m in violations(pack.run(stack, "dev"), OFF_PEAK)]
    assert flagged == (["NodeGroup gpu-ng: GPU pool has no off-peak scale-down schedule (an aws.autoscaling.Schedule "
                        "on its Auto Scaling group with desiredCapacity/maxSize 0)"] if gpu else [])


def test_a_property_dependency_names_the_template_even_beside_another(pack):
    # The shipped shape: the template fed the input. A second GPU template beside it changes nothing.
    stack = _pool(True, True)
    cpu_lt = dataclasses.replace(b.launch_template("cpu", "dev", instanceType="m6i.large"), parent=stack[1].urn)
    ng = stack[3]
    ng.inputs["launchTemplate"] = {"id": UNKNOWN, "version": UNKNOWN}
    ng.property_dependencies["launchTemplate"] = [cpu_lt.urn]
    ng.dependencies.append(cpu_lt.urn)
    stack.append(cpu_lt)
    items = _estimated(stack)
    assert items["gpu-ng"].attributes["instance type"] == "m6i.large"
    assert "cpu-lt" in items and "gpu-lt" not in items
    assert violations(pack.run(stack, "dev"), OFF_PEAK) == []


def test_the_estimator_and_the_off_peak_rule_agree_on_a_node_groups_schedules(pack):
    # Hand-built records without a graph: the schedules sit beside the GPU group under its node-pool
    # component, so StackIndex.node_group_of links them to the only node group there. The estimator
    # applies them; the off-peak rule, reading StackIndex.schedules_of, sees the scale-down.
    stack = _pool(True, False)
    component, ng = stack[1], stack[3]
    down, up = (dataclasses.replace(b.schedule(f"gpu-{name}", ng, down=name == "down"), parent=component.urn,
                                    dependencies=[], property_dependencies={}) for name in ("down", "up"))
    result = estimate(_plain([*stack, down, up]), region="us-east-1", project_tag_key=KEY,
                      default_project="project-nova", as_of=date(2026, 12, 1))
    assert not [n for n in result.assumptions if "not linked" in n]
    assert violations(pack.run([*stack, down, up], "dev"), OFF_PEAK) == []
    # Without them, the same pool is flagged: the rule did look.
    assert len(violations(pack.run(stack, "dev"), OFF_PEAK)) == 1
