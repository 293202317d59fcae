"""Every EC2 compute path: the instance allowlist and the GPU capacity ceiling see every way a stack
can launch an instance (pulumi-aws input names), and fail closed where the types cannot be counted.

prod's policy config allows m6i/m7i and a few g5/g6/g6e sizes, caps a pool at 16 GPUs and the stack
at 24; the good stack already holds 3 GPUs (3 x g5.2xlarge).
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

ALLOW, CEIL = "gpu-instance-allowlist", "gpu-capacity-ceiling"
BOTH = (ALLOW, CEIL)
ANY_TYPE = {"gpu_instance_allowlist": {"allowedInstanceTypes": ["*"]}}


def lt(name: str, **inputs: Any) -> RecordedResource:
    """A launch template in the stack (tags and IMDS as the good stack's)."""
    template = b.launch_template(name)
    template.inputs.pop("instanceType", None)
    template.inputs.update(inputs)
    return template


def using(type_: str, name: str, inputs: dict[str, Any], template: RecordedResource | None = None,
          field: str = "launchTemplate") -> RecordedResource:
    """A launcher; with ``template``, one that depends on it as the engine records it."""
    deps = [template.urn] if template is not None else []
    return b.res(type_, name, {**inputs, "tags": b.tags()}, deps=deps,
                 prop_deps={field: deps} if deps else None)


def instance(name: str, **inputs: Any) -> RecordedResource:
    return using("aws:ec2/instance:Instance", name, {"ami": "ami-0abc", **inputs})


def asg(name: str, max_size: float, template: RecordedResource | None = None, **inputs: Any) -> RecordedResource:
    field = "mixedInstancesPolicy" if "mixedInstancesPolicy" in inputs else "launchTemplate"
    return using("aws:autoscaling/group:Group", name, {"minSize": 0.0, "maxSize": max_size, **inputs}, template, field)


def mixed(*overrides: dict[str, Any], lt_id: Any = UNKNOWN) -> dict[str, Any]:
    return {"launchTemplate": {"launchTemplateSpecification": {"launchTemplateId": lt_id, "version": "$Latest"},
                               "overrides": list(overrides)}}


def fleet(name: str, total: float, *overrides: dict[str, Any], template: RecordedResource | None = None,
          lt_id: Any = UNKNOWN) -> RecordedResource:
    config: dict[str, Any] = {"launchTemplateSpecification": {"launchTemplateId": lt_id, "version": "1"}}
    if overrides:
        config["overrides"] = list(overrides)
    return using("aws:ec2/fleet:Fleet", name, {
        "launchTemplateConfigs": [config],
        "targetCapacitySpecification": {"defaultTargetCapacityType": "spot", "totalTargetCapacity": total}},
        template, "launchTemplateConfigs")


def spot_fleet(name: str, target: float, **inputs: Any) -> RecordedResource:
    return using("aws:ec2/spotFleetRequest:SpotFleetRequest", name, {
        "iamFleetRole": "arn:aws:iam::123456789012:role/spot-fleet", "targetCapacity": target, **inputs})


def node_group(name: str, **over: Any) -> RecordedResource:
    """A node group with no launch template in the stack (``launchTemplate`` only when given)."""
    group = b.node_group(name, b.launch_template("unused"), **over)
    if "launchTemplate" not in over:
        group.inputs.pop("launchTemplate")
    group.dependencies.clear()
    group.property_dependencies.clear()
    group.options["dependsOn"] = []
    return group


G5_LT = lt("batch", instanceType="g5.xlarge")
M6_LT = lt("web", instanceType="m6i.large")
BIG_LT = lt("big", instanceType="g5.12xlarge")
ATTR_LT = lt("attr", instanceRequirements={"vcpuCount": {"min": 4.0}, "memoryMib": {"min": 16384.0},
                                           "acceleratorTypes": ["gpu"]})

CASES: list[Case] = [
    # --- plain and spot instances ---
    allowed("instance-allowed-gpu-type", adding(instance("one", instanceType="g5.xlarge")), *BOTH),
    disallowed("instance-type-not-allowed", adding(instance("big", instanceType="p5.48xlarge")), *BOTH,
               expect=[ALLOW], message="p5.48xlarge not allowed"),
    allowed("instance-type-from-an-in-stack-template", adding(G5_LT, using(
        "aws:ec2/instance:Instance", "from-lt", {"launchTemplate": {"id": UNKNOWN, "version": "$Latest"}}, G5_LT)),
        *BOTH),
    disallowed("instance-from-a-template-outside-the-stack", adding(instance(
        "outside", launchTemplate={"id": "lt-0123456789abcdef0", "version": "$Latest"})), *BOTH, expect=[CEIL],
        message="launch template outside this stack"),
    disallowed("spot-instance-request-type-not-allowed", adding(using(
        "aws:ec2/spotInstanceRequest:SpotInstanceRequest", "spot", {"instanceType": "p4d.24xlarge", "spotPrice": "9"})),
        *BOTH, expect=[ALLOW], message="p4d.24xlarge"),
    # --- launch templates ---
    disallowed("launch-template-attribute-based", adding(ATTR_LT), *BOTH, expect=[ALLOW],
               message="instanceRequirements"),
    allowed("launch-template-without-a-type", adding(lt("bare")), *BOTH),
    allowed("launch-configuration-allowed", adding(using(
        "aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {"imageId": "ami-1", "instanceType": "m6i.large"})),
        *BOTH),
    disallowed("launch-configuration-not-allowed", adding(using(
        "aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {"imageId": "ami-1", "instanceType": "p3.2xlarge"})),
        *BOTH, expect=[ALLOW]),
    # --- Auto Scaling groups ---
    allowed("asg-cpu-template-in-stack", adding(M6_LT, asg("web", 20.0, M6_LT,
                                                           launchTemplate={"id": UNKNOWN, "version": "$Latest"})),
            *BOTH),
    disallowed("asg-gpu-template-in-stack-over-the-cap", adding(BIG_LT, asg(
        "big", 5.0, BIG_LT, launchTemplate={"id": UNKNOWN, "version": "$Latest"})), *BOTH, expect=[CEIL],
        message="above the per-pool cap of 16"),
    disallowed("asg-template-outside-the-stack", adding(asg(
        "ext", 2.0, launchTemplate={"name": "shared-gpu-template", "version": "$Default"})), *BOTH, expect=[CEIL],
        message="launch template outside this stack"),
    disallowed("asg-mixed-override-not-allowed", adding(M6_LT, asg(
        "mixed", 2.0, M6_LT, mixedInstancesPolicy=mixed({"instanceType": "g5.xlarge"},
                                                        {"instanceType": "p5.48xlarge"}))), *BOTH, expect=[ALLOW],
        message="p5.48xlarge"),
    disallowed("asg-mixed-override-over-the-cap", adding(M6_LT, asg(
        "mixed", 5.0, M6_LT, mixedInstancesPolicy=mixed({"instanceType": "g5.12xlarge"}))), *BOTH, expect=[CEIL],
        message="maxSize 5 x 4 GPU(s) per instance"),
    allowed("asg-weighted-override-within-the-cap", adding(M6_LT, asg(
        "weighted", 8.0, M6_LT, mixedInstancesPolicy=mixed({"instanceType": "g5.12xlarge", "weightedCapacity": "4"}))),
        *BOTH),
    disallowed("asg-mixed-attribute-based", adding(M6_LT, asg(
        "attr", 2.0, M6_LT, mixedInstancesPolicy=mixed({"instanceRequirements": {"vcpuCount": {"min": 4.0}}}))),
        *BOTH, message="instanceRequirements"),
    disallowed("asg-template-with-attribute-based-types", adding(ATTR_LT, asg(
        "attr-lt", 2.0, ATTR_LT, launchTemplate={"id": UNKNOWN})), *BOTH, message="instanceRequirements"),
    # --- EC2 Fleet and Spot Fleet ---
    disallowed("fleet-override-over-the-cap", adding(M6_LT, fleet(
        "f", 5.0, {"instanceType": "g5.12xlarge"}, template=M6_LT)), *BOTH, expect=[CEIL],
        message="totalTargetCapacity 5 x 4 GPU(s)"),
    disallowed("fleet-override-not-allowed", adding(M6_LT, fleet(
        "f", 1.0, {"instanceType": "p5.48xlarge"}, template=M6_LT)), *BOTH, expect=[ALLOW]),
    disallowed("fleet-template-outside-the-stack", adding(fleet("f", 2.0, lt_id="lt-0fedcba9876543210")), *BOTH,
               expect=[CEIL], message="launch template outside this stack"),
    allowed("fleet-template-in-stack", adding(G5_LT, fleet("f", 4.0, template=G5_LT)), *BOTH),
    disallowed("spot-fleet-launch-specification-not-allowed", adding(spot_fleet(
        "sf", 1.0, launchSpecifications=[{"ami": "ami-1", "instanceType": "p3.16xlarge"}])), *BOTH, expect=[ALLOW]),
    disallowed("spot-fleet-over-the-cap", adding(spot_fleet(
        "sf", 5.0, launchSpecifications=[{"ami": "ami-1", "instanceType": "g5.12xlarge"}])), *BOTH, expect=[CEIL]),
    allowed("spot-fleet-weighted-within-the-cap", adding(spot_fleet(
        "sf", 8.0, launchSpecifications=[{"ami": "ami-1", "instanceType": "g5.12xlarge", "weightedCapacity": "4"}])),
        *BOTH),
    disallowed("spot-fleet-template-override-not-allowed", adding(M6_LT, using(
        "aws:ec2/spotFleetRequest:SpotFleetRequest", "sft", {
            "iamFleetRole": "arn:aws:iam::123456789012:role/spot-fleet", "targetCapacity": 1.0,
            "launchTemplateConfigs": [{"launchTemplateSpecification": {"id": UNKNOWN, "version": "1"},
                                       "overrides": [{"instanceType": "p4d.24xlarge"}]}]}, M6_LT,
        "launchTemplateConfigs")), *BOTH, expect=[ALLOW]),
    # --- EKS node groups ---
    disallowed("node-group-eks-default-type-is-checked", adding(node_group(
        "dflt", gpu=False, instanceTypes=[])), *BOTH, expect=[ALLOW], message="t3.medium"),
    disallowed("node-group-template-outside-the-stack", adding(node_group(
        "ext", instanceTypes=[], launchTemplate={"name": "team-gpu-nodes", "version": "3"})), *BOTH, expect=[CEIL],
        message="launch template outside this stack"),
    disallowed("node-group-neuron-ami-uncounted-type", adding(node_group(
        "neuron", types=["trn2.3xlarge"], amiType="AL2023_x86_64_NEURON")), *BOTH, message="trn2.3xlarge"),
    allowed("node-group-neuron-ami-counted-type", adding(node_group(
        "neuron", types=["inf2.xlarge"], amiType="AL2023_x86_64_NEURON")), CEIL),
    disallowed("node-group-nvidia-ami-unknown-type", adding(node_group(
        "future", types=["g9x.96xlarge"], amiType="BOTTLEROCKET_x86_64_NVIDIA")), *BOTH, expect=[CEIL],
        message="g9x.96xlarge", **ANY_TYPE),
    disallowed("node-group-gpu-ami-unknown-non-accelerated-name", adding(node_group(
        "odd", types=["zz1.large"], amiType="AL2_x86_64_GPU")), *BOTH, expect=[CEIL], message="AMI type AL2_x86_64_GPU",
        **ANY_TYPE),
    allowed("node-group-gpu-ami-on-a-known-cpu-type", adding(node_group(
        "cpu-on-gpu-ami", types=["m6i.large"], amiType="AL2023_x86_64_NVIDIA")), *BOTH),
    allowed("node-group-types-from-an-in-stack-template", adding(M6_LT, b.node_group(
        "lt-typed", M6_LT, gpu=False, instanceTypes=[])), *BOTH),
    # --- the stack's total over every path ---
    disallowed("stack-total-over-every-path", adding(
        instance("i1", instanceType="g5.12xlarge"), instance("i2", instanceType="g5.12xlarge"),
        spot_fleet("sf", 3.0, launchSpecifications=[{"ami": "ami-1", "instanceType": "g5.12xlarge"}]),
        M6_LT, asg("a", 2.0, M6_LT, mixedInstancesPolicy=mixed({"instanceType": "g5.12xlarge"}))),
        *BOTH, expect=[CEIL], message="above the stack cap of 24"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_ec2_compute_paths(pack, case):
    check(pack, case)
