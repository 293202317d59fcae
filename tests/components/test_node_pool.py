"""NodePool: launch template, managed node group, scale-from-zero ASG tags and off-peak schedules."""

from __future__ import annotations

import pytest
from ai_platform_finops.catalog import gpu_specs
from ai_platform_finops.tags import label_value_problem

from components.config import (
    ACCELERATOR_LABEL,
    GPU_PRESENT_LABEL,
    NVIDIA_DEVICE_PLUGIN_LABEL,
    POOL_LABEL,
)
from components.config.node_pools import accelerator_label_value
from preflight.engine import UNKNOWN, RecordedResource
from tests.support.fixtures import AWS_STACKS, config, pool, preview, recorded
from tests.support.recordings import of_type, one

LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
TAG = "aws:autoscaling/tag:Tag"
SCHEDULE = "aws:autoscaling/schedule:Schedule"
CA = "k8s.io/cluster-autoscaler"


def pool_resources(recording, type_: str) -> dict[str, RecordedResource]:
    """``type_`` resources of the NodePool components, by name (other blocks may add their own)."""
    return {r.name: r for r in of_type(recording, type_) if "ai-platform:cluster:NodePool::" in r.parent}


def asg_tags(recording, pool_name: str) -> dict[str, str]:
    """The ASG tags registered for ``pool_name``: key -> value."""
    tags = {}
    for r in pool_resources(recording, TAG).values():
        if r.parent.endswith(f"ai-platform:cluster:NodePool::{pool_name}"):
            tags[r.inputs["tag"]["key"]] = r.inputs["tag"]["value"]
    return tags


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_launch_template_tags_instance_volume_and_eni_with_every_finops_tag(stack):
    cfg, recording = config(stack), recorded(stack)
    for node_pool in cfg.node_pools:
        expected = cfg.pool_tags(node_pool).aws_tags()
        assert len(expected) == 5
        lt = one(recording, LT, f"{node_pool.name}-lt")
        specs = {s["resourceType"]: s["tags"] for s in lt.inputs["tagSpecifications"]}
        assert set(specs) == {"instance", "volume", "network-interface"}
        for kind, tags in specs.items():
            for key, value in expected.items():
                assert tags.get(key) == value, (stack, node_pool.name, kind, key)
        # The node group and the template carry them too (they bill as the pool's project).
        ng = one(recording, NG, f"{node_pool.name}-ng")
        assert {k: ng.inputs["tags"][k] for k in expected} == expected
        assert {k: lt.inputs["tags"][k] for k in expected} == expected


def test_a_pool_billed_to_another_project_tags_its_nodes_with_that_project():
    lt = one(recorded("live"), LT, "gpu-a10g-x4-lt")
    instance = next(s["tags"] for s in lt.inputs["tagSpecifications"] if s["resourceType"] == "instance")
    assert instance["finops.apexlogic.com/project"] == "project-atlas"
    assert instance["finops.apexlogic.com/cost-center"] == "claims-analytics"
    assert instance["finops.apexlogic.com/owner"] == "claims-ml-team"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_imdsv2_is_required_with_hop_limit_one_and_the_root_volume_is_encrypted_gp3(stack):
    cfg, recording = config(stack), recorded(stack)
    for node_pool in cfg.node_pools:
        lt = one(recording, LT, f"{node_pool.name}-lt")
        assert lt.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }
        assert lt.inputs["blockDeviceMappings"] == [{
            "deviceName": "/dev/xvda",
            "ebs": {"volumeSize": node_pool.disk_size_gib, "volumeType": "gp3", "encrypted": "true",
                    "deleteOnTermination": "true"},
        }]
        # The node group must not set a disk size of its own when its launch template has one.
        assert "diskSize" not in one(recording, NG, f"{node_pool.name}-ng").inputs


def test_hop_limit_and_bottlerocket_data_volume_follow_config():
    def edit(c):
        gpu = pool(c, "gpu-a10g")
        gpu["metadataHopLimit"] = 2
        gpu["amiType"] = "BOTTLEROCKET_x86_64_NVIDIA"

    recording = preview("sandbox", edit)
    lt = one(recording, LT, "gpu-a10g-lt")
    assert lt.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 2
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    # Bottlerocket keeps images and containers on its second volume: that one gets the size.
    assert lt.inputs["blockDeviceMappings"][0]["deviceName"] == "/dev/xvdb"
    assert one(recording, NG, "gpu-a10g-ng").inputs["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_gpu_pools_are_tainted_and_labelled_and_system_pools_are_not_tainted(stack):
    cfg, recording = config(stack), recorded(stack)
    for node_pool in cfg.node_pools:
        ng = one(recording, NG, f"{node_pool.name}-ng").inputs
        assert ng["labels"][POOL_LABEL] == node_pool.name
        assert ng["instanceTypes"] == node_pool.instance_types
        assert ng["capacityType"] == node_pool.capacity_type.value
        assert ng["updateConfig"] == {"maxUnavailable": 1}
        if node_pool.is_gpu:
            assert ng["labels"][GPU_PRESENT_LABEL] == "true"
            assert ng["labels"][ACCELERATOR_LABEL] == "nvidia-a10g"  # g5: NVIDIA A10G
            assert ng["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
            assert ng["amiType"] == "AL2023_x86_64_NVIDIA"
        else:
            assert GPU_PRESENT_LABEL not in ng["labels"] and ACCELERATOR_LABEL not in ng["labels"]
            assert ng.get("taints", []) == []
            assert ng["amiType"] == "AL2023_x86_64_STANDARD"


def test_node_groups_use_their_own_launch_template_and_sizes():
    recording = recorded("sandbox")
    ng = one(recording, NG, "gpu-a10g-ng")
    lt = one(recording, LT, "gpu-a10g-lt")
    assert ng.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 2, "desiredSize": 1}
    assert ng.inputs["nodeGroupNamePrefix"] == "gpu-a10g-"
    assert ng.property_dependencies["launchTemplate"] == [lt.urn]
    assert ng.inputs["capacityType"] == "SPOT"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_desired_size_drift_is_ignored_so_up_never_fights_the_autoscaler(stack):
    groups = of_type(recorded(stack), NG)
    assert groups
    for ng in groups:
        assert ng.options["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_scale_from_zero_tags_on_a_g5_12xlarge_pool_say_four_gpus():
    tags = asg_tags(recorded("live"), "gpu-a10g-x4")
    assert tags == {
        f"{CA}/node-template/label/{POOL_LABEL}": "gpu-a10g-x4",
        f"{CA}/node-template/label/{GPU_PRESENT_LABEL}": "true",
        f"{CA}/node-template/label/{ACCELERATOR_LABEL}": "nvidia-a10g",
        f"{CA}/node-template/label/{NVIDIA_DEVICE_PLUGIN_LABEL}": "chart",
        f"{CA}/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{CA}/node-template/resources/nvidia.com/gpu": "4",
        f"{CA}/enabled": "true",
        f"{CA}/ai-platform-prod": "owned",
    }
    assert asg_tags(recorded("live"), "gpu-a10g")[f"{CA}/node-template/resources/nvidia.com/gpu"] == "1"


def test_system_pool_asg_has_discovery_tags_and_no_gpu_template():
    tags = asg_tags(recorded("sandbox"), "system")
    assert tags == {
        f"{CA}/node-template/label/{POOL_LABEL}": "system",
        f"{CA}/enabled": "true",
        f"{CA}/ai-platform-dev": "owned",
    }


def test_asg_tags_target_the_node_groups_asg_and_do_not_propagate():
    recording = recorded("live")
    ng = one(recording, NG, "gpu-a10g-x4-ng")
    tags = [r for r in pool_resources(recording, TAG).values() if r.name.startswith("gpu-a10g-x4-asg-")]
    assert len(tags) == 8
    for tag in tags:
        assert tag.inputs["autoscalingGroupName"] == UNKNOWN  # known only once EKS made the ASG
        assert tag.property_dependencies["autoscalingGroupName"] == [ng.urn]
        assert tag.inputs["tag"]["propagateAtLaunch"] is False


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_only_the_discovery_tags_are_retained_on_delete_because_eks_sets_them_too(stack):
    recording, cluster = recorded(stack), config(stack).cluster.name
    tags = pool_resources(recording, TAG).values()
    retained = {(t.parent.rsplit("::", 1)[1], t.inputs["tag"]["key"]) for t in tags if t.options["retainOnDelete"]}
    assert retained == {(p.name, key) for p in config(stack).node_pools
                        for key in (f"{CA}/enabled", f"{CA}/{cluster}")}


def test_accelerator_label_comes_from_the_catalogs_gpu_model():
    assert accelerator_label_value("NVIDIA A10G") == "nvidia-a10g"
    assert accelerator_label_value("NVIDIA T4 Tensor Core") == "nvidia-t4"
    assert accelerator_label_value("NVIDIA Tesla V100") == "nvidia-tesla-v100"
    assert accelerator_label_value("NVIDIA RTX PRO 4500 Blackwell") == "nvidia-rtx-pro-4500-blackwell"
    for spec in gpu_specs().values():  # every model in the catalog makes a valid label value
        assert label_value_problem(accelerator_label_value(spec.gpu_model)) is None, spec.gpu_model


def test_an_l4_pool_is_labelled_and_templated_as_nvidia_l4():
    recording = preview("sandbox", lambda c: pool(c, "gpu-a10g").update(instanceTypes=["g6.xlarge", "g6.2xlarge"]))
    assert one(recording, NG, "gpu-a10g-ng").inputs["labels"][ACCELERATOR_LABEL] == "nvidia-l4"
    assert asg_tags(recording, "gpu-a10g")[f"{CA}/node-template/label/{ACCELERATOR_LABEL}"] == "nvidia-l4"


def test_asg_tags_name_resources_0_autoscaling_groups_0_once_the_node_group_exists():
    recording = recorded("live", False)
    tags = [r for r in pool_resources(recording, TAG).values() if r.name.startswith("gpu-a10g-x4-asg-")]
    # The mock reports resources[0].autoscalingGroups[0].name = eks-<resource name>-asg.
    assert {t.inputs["autoscalingGroupName"] for t in tags} == {"eks-gpu-a10g-x4-ng-asg"}


def test_dev_gpu_pool_sleeps_off_peak_with_two_schedules():
    schedules = pool_resources(recorded("sandbox"), SCHEDULE)
    assert set(schedules) == {"gpu-a10g-off-peak-down", "gpu-a10g-off-peak-up"}
    down, up = schedules["gpu-a10g-off-peak-down"].inputs, schedules["gpu-a10g-off-peak-up"].inputs
    assert {k: down[k] for k in ("recurrence", "timeZone", "minSize", "maxSize", "desiredCapacity")} == {
        "recurrence": "0 20 * * MON-FRI", "timeZone": "UTC", "minSize": 0, "maxSize": 0, "desiredCapacity": 0,
    }
    assert {k: up[k] for k in ("recurrence", "timeZone", "minSize", "maxSize", "desiredCapacity")} == {
        "recurrence": "0 8 * * MON-FRI", "timeZone": "UTC", "minSize": 0, "maxSize": 2, "desiredCapacity": 1,
    }
    assert down["scheduledActionName"] == "gpu-a10g-off-peak-scale-to-zero"
    assert down["autoscalingGroupName"] == UNKNOWN


def test_schedules_exist_only_where_configured():
    assert pool_resources(recorded("live"), SCHEDULE) == {}
    staging = pool_resources(recorded("preprod"), SCHEDULE)
    assert set(staging) == {"gpu-a10g-off-peak-down", "gpu-a10g-off-peak-up"}
    assert staging["gpu-a10g-off-peak-down"].inputs["timeZone"] == "America/New_York"
    assert staging["gpu-a10g-off-peak-down"].inputs["recurrence"] == "0 21 * * MON-FRI"


def test_off_peak_can_be_turned_off_in_dev_and_on_in_prod():
    assert pool_resources(preview("sandbox", lambda c: pool(c, "gpu-a10g").update(offPeak=False)), SCHEDULE) == {}
    prod = preview("live", lambda c: pool(c, "gpu-a10g-x4").update(offPeak={"timeZone": "Europe/Berlin"}))
    schedules = pool_resources(prod, SCHEDULE)
    assert set(schedules) == {"gpu-a10g-x4-off-peak-down", "gpu-a10g-x4-off-peak-up"}
    up = schedules["gpu-a10g-x4-off-peak-up"].inputs
    assert (up["minSize"], up["maxSize"], up["desiredCapacity"], up["timeZone"]) == (1, 3, 1, "Europe/Berlin")


def test_dev_gpu_pool_without_explicit_off_peak_still_sleeps_by_default():
    def edit(c):
        pool(c, "gpu-a10g").pop("offPeak")

    assert len(pool_resources(preview("sandbox", edit), SCHEDULE)) == 2
