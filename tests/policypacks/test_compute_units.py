"""Unit tests of the EC2 compute-path readers (compute.py) and the tag-encoding readers (aws.py):
where each type names its instance types, what is unknown, and every encoding of a tag map."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ai_governance import aws, compute
from ai_governance.props import UNKNOWN
from ai_governance.resources import Res, Stack
from preflight.engine import SECRET_SIG, SIG_KEY
from preflight.engine import UNKNOWN as MARKER


def res(type_: str, props: dict[str, Any], name: str = "r", deps: list[str] | None = None) -> Res:
    return Res(type=type_, name=name, urn=f"urn:{type_}::{name}", props=props, dependencies=deps or [])


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


@pytest.mark.parametrize("type_, props, unknown", [
    (aws.NODE_GROUP, {"instanceTypes": UNKNOWN}, ["instanceTypes"]),
    (compute.INSTANCE, {"instanceType": UNKNOWN}, ["instanceType"]),
    (aws.LAUNCH_TEMPLATE, {"instanceRequirements": UNKNOWN}, ["instanceRequirements"]),
    (compute.AUTOSCALING_GROUP, {"mixedInstancesPolicy": {"launchTemplate": UNKNOWN}},
     ["mixedInstancesPolicy.launchTemplate"]),
    (compute.AUTOSCALING_GROUP, {"mixedInstancesPolicy": {"launchTemplate": {"overrides": UNKNOWN}}},
     ["mixedInstancesPolicy.launchTemplate.overrides"]),
    (compute.AUTOSCALING_GROUP, {"mixedInstancesPolicy": {"launchTemplate": {"overrides": [UNKNOWN]}}},
     ["mixedInstancesPolicy.launchTemplate.overrides[0]"]),
    (compute.FLEET, {"launchTemplateConfigs": UNKNOWN}, ["launchTemplateConfigs"]),
    (compute.FLEET, {"launchTemplateConfigs": [UNKNOWN]}, ["launchTemplateConfigs[0]"]),
    (compute.SPOT_FLEET_REQUEST, {"launchSpecifications": UNKNOWN}, ["launchSpecifications"]),
])
def test_unknown_fields_are_named(type_, props, unknown):
    assert compute.declared(res(type_, props)).unknown == unknown


def test_where_each_type_leaves_its_types_to_a_template():
    assert compute.declared(res(compute.AUTOSCALING_GROUP, {"launchConfiguration": "lc-1"})).templates == [
        "launchConfiguration"]
    asg = res(compute.AUTOSCALING_GROUP, {"mixedInstancesPolicy": {"launchTemplate": {
        "launchTemplateSpecification": {"launchTemplateId": "lt-1"}}}})
    assert compute.declared(asg).templates == ["mixedInstancesPolicy.launchTemplate.launchTemplateSpecification"]
    assert compute.declared(res(compute.SPOT_INSTANCE_REQUEST, {"launchTemplate": {"id": "lt-1"}})).templates == [
        "launchTemplate"]
    assert compute.declared(res(compute.INSTANCE, {})).templates == []  # nothing named, nothing deferred
    group = compute.declared(res(aws.NODE_GROUP, {}))
    assert group.templates == [] and group.default == "t3.medium"


def test_resolving_through_an_in_stack_template():
    lt = res(aws.LAUNCH_TEMPLATE, {"instanceType": UNKNOWN}, "lt")
    group = res(compute.AUTOSCALING_GROUP, {"launchTemplate": {"id": MARKER}, "maxSize": 2.0}, "asg", [lt.urn])
    resolved = compute.resolve(Stack([lt, group]), group)
    assert resolved.unknown == ["instanceType of LaunchTemplate lt"] and resolved.types == []
    empty = res(aws.LAUNCH_TEMPLATE, {}, "empty")
    node_group = res(aws.NODE_GROUP, {"launchTemplate": {"id": MARKER}}, "ng", [empty.urn])
    assert compute.resolve(Stack([empty, node_group]), node_group).types == ["t3.medium"]  # the EKS default


def test_weights_divide_capacity_and_the_worst_type_wins():
    fleet = res(compute.FLEET, {"launchTemplateConfigs": [{"overrides": [
        {"instanceType": "g5.12xlarge", "weightedCapacity": 4.0}, {"instanceType": "g5.xlarge"}]}]})
    assert compute.max_gpus(fleet, ["g5.12xlarge", "g5.xlarge"], 8) == (8, 2, "g5.12xlarge")
    assert compute.max_gpus(fleet, ["g5.xlarge"], 0) == (0, 0, "")
    assert compute.max_capacity(res(compute.INSTANCE, {})) == ("", 1.0)


DEFAULTS = {"tags": {"a": "1", "b": "2"}}


@pytest.mark.parametrize("provider, expected", [
    ({"defaultTags": DEFAULTS}, ({"a": "1", "b": "2"}, [])),
    ({"defaultTags": json.dumps(DEFAULTS)}, ({"a": "1", "b": "2"}, [])),
    ({"defaultTags": secret(json.dumps(DEFAULTS))}, ({"a": "1", "b": "2"}, [])),
    ({"defaultTags": {"tags": {"a": secret("1"), "b": MARKER, "n": 3.0}}}, ({"a": "1", "n": "3.0"}, ["b"])),
    ({"defaultTags": "{" + " " * (aws.MAX_CONFIG_JSON + 1)}, ({}, [])),  # past the bound: not parsed
    ({"defaultTags": "[1, 2]"}, ({}, [])),
    ({"defaultTags": '"text"'}, ({}, [])),
    ({"defaultTags": {"tags": UNKNOWN}}, ({}, [])),
    ({}, ({}, [])),
])
def test_default_tags_in_every_encoding(provider, expected):
    assert aws.default_tags(provider) == expected


def test_a_secret_envelope_the_proxy_cannot_read_is_unknown():
    class Hostile(dict):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("unknown inside")
    assert aws._unwrapped(Hostile()) is UNKNOWN
    assert aws._unwrapped(MARKER) is UNKNOWN
    assert aws.tag_map(UNKNOWN) == ({}, [])
    items = [{"key": "k", "value": UNKNOWN}, {"key": 5, "value": "x"}, {"key": "s", "value": secret("v")}]
    assert aws._tag_list(items) == ({"s": "v"}, ["k"])
