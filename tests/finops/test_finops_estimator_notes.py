"""The estimator's account of itself: the values unknown at preview (which cost gates rely on to fail
closed), the notes on what the estimate leaves out and how many, schedules that link to nothing,
and which link wins when the graph and the parent disagree.

Prices as in test_finops_estimator.py: g5.xlarge 1.006 $/h, m6i.large 0.096 $/h, gp3 0.08 $/GB-month,
730 h a month.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.finops.finops_fixtures import KEY, POOL, UNKNOWN, eks_cluster, nat_gateways, node_pool, resource
from tests.finops.test_finops_estimator import DOWN, UP, item, run

NG = "aws:eks/nodeGroup:NodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
SCHEDULE = "aws:autoscaling/schedule:Schedule"
GPU_HOUR, CPU_HOUR = 1.006, 0.096


def named(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in resources if r["name"] == name)


def tagged(type_: str, name: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return resource(type_, name, {"tags": {KEY: "project-nova"}, **(inputs or {})})


# --- values unknown at preview --------------------------------------------------------------------------

def _pool_with(edit: Any) -> list[dict[str, Any]]:
    pool = node_pool("gpu", "g5.xlarge", min_size=0, max_size=2, desired=1, schedules=[DOWN, UP])
    edit(pool)
    return pool


UNKNOWN_CASES = [
    ("instance type", lambda p: named(p, "gpu-ng")["inputs"].update(instanceTypes=UNKNOWN),
     "gpu-ng: instance type not known at preview: compute priced at 0."),
    ("first instance type", lambda p: named(p, "gpu-ng")["inputs"].update(instanceTypes=[UNKNOWN, "g5.xlarge"]),
     "gpu-ng: instance type not known at preview: compute priced at 0."),
    ("launch template instance type", lambda p: (named(p, "gpu-ng")["inputs"].pop("instanceTypes"),
                                                 named(p, "gpu-lt")["inputs"].update(instanceType=UNKNOWN)),
     "gpu-ng: instance type not known at preview: compute priced at 0."),
    ("scaling config", lambda p: named(p, "gpu-ng")["inputs"].update(scalingConfig=UNKNOWN),
     "gpu-ng: scaling sizes are not known at preview: missing sizes priced as 0 nodes."),
    ("min size", lambda p: named(p, "gpu-ng")["inputs"]["scalingConfig"].update(minSize=UNKNOWN),
     "gpu-ng: scaling sizes are not known at preview: missing sizes priced as 0 nodes."),
    ("schedule time zone", lambda p: named(p, "gpu-off-peak-down")["inputs"].update(timeZone=UNKNOWN),
     "gpu-ng: schedule gpu-off-peak-down's timeZone not known at preview: not applied."),
    ("schedule recurrence and time zone",
     lambda p: named(p, "gpu-off-peak-down")["inputs"].update(recurrence=UNKNOWN, timeZone=UNKNOWN),
     "gpu-ng: schedule gpu-off-peak-down's recurrence and timeZone not known at preview: not applied."),
    ("schedule sizes", lambda p: named(p, "gpu-off-peak-up")["inputs"].update(minSize=UNKNOWN, desiredCapacity=UNKNOWN),
     "gpu-ng: schedule gpu-off-peak-up's minSize, desiredCapacity not known at preview: left unchanged when it fires."),
    ("volume size", lambda p: named(p, "gpu-lt")["inputs"]["blockDeviceMappings"][0]["ebs"].update(volumeSize=UNKNOWN),
     "gpu-lt: a volume size is not known at preview: priced as 20 GiB."),
]


@pytest.mark.parametrize("edit, expected", [c[1:] for c in UNKNOWN_CASES], ids=[c[0] for c in UNKNOWN_CASES])
def test_each_value_unknown_at_preview_is_listed_apart(edit, expected):
    result = run(_pool_with(edit))
    assert result.unknowns == [expected]
    assert expected in result.assumptions


@pytest.mark.parametrize("resource_, expected", [
    (tagged("aws:eks/cluster:Cluster", "cluster-eks", {"version": UNKNOWN, "upgradePolicy": {"supportType": "STANDARD"}}),
     "cluster-eks: Kubernetes version not known at preview: standard support assumed."),
    (tagged("aws:ec2/instance:Instance", "vm", {"instanceType": UNKNOWN, "rootBlockDevice": {"volumeSize": 8.0}}),
     "vm: instance type not known at preview: priced at 0."),
    (tagged("aws:ebs/volume:Volume", "data", {"size": UNKNOWN, "type": "gp3"}),
     "data: EBS volume size not known at preview: priced at 0."),
])
def test_fixed_rate_resources_list_their_unknowns_too(resource_, expected):
    result = run([resource_])
    assert result.unknowns == [expected]


@pytest.mark.parametrize("resource_, note", [
    (tagged("aws:eks/cluster:Cluster", "cluster-eks", {"upgradePolicy": {"supportType": "STANDARD"}}),
     "cluster-eks: no Kubernetes version (the latest at creation): standard support assumed."),
    (tagged("aws:ec2/instance:Instance", "vm", {"rootBlockDevice": {"volumeSize": 8.0}}), "vm: no instance type: priced at 0."),
    (tagged("aws:ebs/volume:Volume", "data", {"type": "gp3"}),
     "data: no EBS volume size (e.g. from a snapshot): priced at 0."),
])
def test_a_value_left_out_is_a_note_not_an_unknown(resource_, note):
    result = run([resource_])
    assert note in result.assumptions
    assert result.unknowns == []


def test_a_pool_with_sizes_left_out_is_noted_but_not_unknown():
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=2)
    named(pool, "gpu-ng")["inputs"]["scalingConfig"] = {"desiredSize": 1.0}
    named(pool, "gpu-lt")["inputs"]["blockDeviceMappings"][0]["ebs"].pop("volumeSize")
    result = run(pool)
    assert result.unknowns == []
    assert "gpu-ng: scalingConfig has no usable minSize/maxSize: missing sizes priced as 0 nodes." in result.assumptions
    assert "gpu-lt: a volume size is not given: priced as 20 GiB." in result.assumptions


def test_the_unknown_list_has_each_text_once_in_first_seen_order():
    first = node_pool("a", "g5.xlarge", min_size=1, max_size=1)
    second = node_pool("b", "g5.xlarge", min_size=1, max_size=1)
    for pool, name in ((first, "a-ng"), (second, "b-ng")):
        named(pool, name)["inputs"]["instanceTypes"] = UNKNOWN
    result = run(first + second + [tagged("aws:ebs/volume:Volume", "v", {"size": UNKNOWN})] * 2)
    assert result.unknowns == ["a-ng: instance type not known at preview: compute priced at 0.",
                               "b-ng: instance type not known at preview: compute priced at 0.",
                               "v: EBS volume size not known at preview: priced at 0."]


# --- what the estimate leaves out, with counts ----------------------------------------------------------

def lb_service(name: str, kind: str = "LoadBalancer") -> dict[str, Any]:
    return resource("kubernetes:core/v1:Service", name, {"apiVersion": "v1", "kind": "Service",
                                                        "spec": {"type": kind, "ports": [{"port": 80.0}]}})


def left_out(result: Any) -> list[str]:
    return [a for a in result.assumptions if a.startswith("Not in the estimate")]


def test_the_left_out_note_counts_what_is_still_not_priced():
    resources = [
        tagged("aws:kms/key:Key", "k1"), tagged("aws:kms/key:Key", "k2"),
        tagged("aws:lb/loadBalancer:LoadBalancer", "nlb"), tagged("aws:alb/loadBalancer:LoadBalancer", "alb1"),
        tagged("aws:alb/loadBalancer:LoadBalancer", "alb2"),
        tagged("aws:cloudwatch/logGroup:LogGroup", "logs"), tagged("aws:sns/topic:Topic", "alerts"),
        lb_service("public-a"), lb_service("public-b"), lb_service("inside", "ClusterIP"),
        resource("kubernetes:core/v1:Service", "unknown-type", {"spec": {"type": UNKNOWN}}),
    ]
    result = run(resources)
    assert left_out(result) == [
        "Not in the estimate (usage-based or small fixed charges): CloudWatch Logs storage (ingestion is a usage "
        "line) x1; SNS deliveries x1."]
    # KMS keys, the three aws:lb load balancers and the two LoadBalancer Services are priced items now.
    types = sorted(i.type for i in result.items)
    assert types.count("aws:kms/key:Key") == 2 and types.count("kubernetes:core/v1:Service") == 2
    assert types.count("aws:lb/loadBalancer:LoadBalancer") == 1 and types.count("aws:alb/loadBalancer:LoadBalancer") == 2


def test_a_loadbalancer_service_is_priced_as_a_classic_load_balancer_with_its_public_addresses():
    result = run([lb_service("public")])
    lb = item(result, "public")
    # In-tree controller, no annotation: a CLB, internet-facing: 730 h x 0.025 + 2 AZs x 730 h x 0.005 = 25.55.
    assert lb.figures.expected == pytest.approx(730 * 0.025 + 2 * 730 * 0.005)
    assert lb.attributes == {"load balancer": "CLB", "scheme": "internet-facing"}


def test_nothing_left_out_means_no_note():
    result = run(node_pool("gpu", "g5.xlarge", min_size=1, max_size=1) + [lb_service("inside", "ClusterIP")])
    assert left_out(result) == []
    assert not any("NAT gateway data processing" in a for a in result.assumptions)


def test_nat_gateways_note_their_usage_based_charges():
    result = run(nat_gateways(1))
    assert "Data transfer out of AWS (to the internet, across AZs) is usage-based: not in the estimate." \
        in result.assumptions
    assert "0 GB a month assumed (finops.usage.natGbPerMonth) x 0.045 $/GB" in item(result, "nat-gateway-data-processing").basis


def test_untagged_resources_are_counted_and_the_first_five_named():
    nats = [resource("aws:ec2/natGateway:NatGateway", f"nat-{i}", {}) for i in range(7)]
    result = run(nats, default_project="project-nova")
    assert ("7 priced resource(s) carry no 'finops.example.com/project' tag and are billed to the stack's project "
            "'project-nova': nat-0, nat-1, nat-2, nat-3, nat-4 and 2 more.") in result.assumptions
    five = run(nats[:5], default_project="project-nova")
    assert any(a.endswith("nat-0, nat-1, nat-2, nat-3, nat-4.") for a in five.assumptions)


def test_fixed_rates_used_in_another_region_are_noted_once():
    nat = tagged("aws:ec2/natGateway:NatGateway", "nat", {"region": "eu-west-1"})
    cluster = eks_cluster()
    cluster["inputs"]["region"] = "ap-south-1"
    result = run([nat, cluster])
    assert [a for a in result.assumptions if a.startswith("Fixed rates")] == [
        "Fixed rates (EKS, NAT gateway, public IPv4, EBS) are us-east-1 rates; they also price resources in "
        "ap-south-1, eu-west-1."]
    assert not any(a.startswith("Fixed rates") for a in run([eks_cluster()]).assumptions)


# --- schedules that link to nothing ---------------------------------------------------------------------

def test_a_schedule_linked_to_no_node_group_is_noted_and_not_applied():
    pool = node_pool("gpu", "g5.xlarge", min_size=0, max_size=2, desired=1)
    stray = resource(SCHEDULE, "orphan-down", {"recurrence": "0 20 * * *", "timeZone": "UTC",
                                               "minSize": 0.0, "maxSize": 0.0, "desiredCapacity": 0.0})
    result = run(pool + [stray])
    assert "orphan-down: schedule not linked to any node group: not applied." in result.assumptions
    assert item(result, "gpu-ng").figures.expected == round(730 * GPU_HOUR, 2)
    assert result.unknowns == []


def test_a_schedule_under_a_parent_with_two_node_groups_links_to_neither():
    parent = resource(POOL, "pair", {})
    groups = [resource(NG, f"{n}-ng", {"instanceTypes": ["m6i.large"], "tags": {KEY: "p"},
                                       "scalingConfig": {"minSize": 1.0, "maxSize": 1.0, "desiredSize": 1.0}},
                       parent=parent["urn"], parent_type=POOL) for n in ("a", "b")]
    down = resource(SCHEDULE, "pair-down", {"recurrence": "0 20 * * *", "timeZone": "UTC", "minSize": 0.0,
                                            "maxSize": 0.0, "desiredCapacity": 0.0}, parent=parent["urn"],
                    parent_type=POOL)
    result = run([parent, *groups, down])
    assert "pair-down: schedule not linked to any node group: not applied." in result.assumptions
    for name in ("a-ng", "b-ng"):
        assert item(result, name).figures.min == round(730 * CPU_HOUR + 20 * 0.08, 2)


# --- which link wins ------------------------------------------------------------------------------------

def _two_pools() -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    gpu = node_pool("gpu", "g5.xlarge", min_size=1, max_size=1)
    cpu = node_pool("cpu", "m6i.large", min_size=1, max_size=1)
    return gpu + cpu, named(gpu, "gpu-ng"), named(cpu, "cpu-ng")


def _down(parent: dict[str, Any], prop_deps: list[str], deps: list[str]) -> dict[str, Any]:
    down = resource(SCHEDULE, "down", {"recurrence": "0 0 * * *", "timeZone": "UTC", "minSize": 0.0, "maxSize": 0.0,
                                       "desiredCapacity": 0.0}, parent=parent["urn"], parent_type=NG)
    down["property_dependencies"] = {"autoscalingGroupName": prop_deps} if prop_deps else {}
    down["dependencies"] = deps
    return down


def _always_down(result: Any, name: str) -> bool:
    return item(result, name).figures.expected == 0.0


@pytest.mark.parametrize("how", ["property dependency", "dependency"])
def test_a_link_through_dependencies_wins_over_the_parent(how):
    resources, gpu, cpu = _two_pools()
    # Parented under the CPU group, but its dependencies say it scales the GPU group.
    down = _down(cpu, [gpu["urn"]] if how == "property dependency" else [], [gpu["urn"]])
    result = run(resources + [down])
    assert _always_down(result, "gpu-ng")
    assert item(result, "cpu-ng").figures.expected == round(730 * CPU_HOUR, 2)


def test_the_property_dependency_wins_over_other_dependencies():
    resources, gpu, cpu = _two_pools()
    down = _down(cpu, [gpu["urn"]], [cpu["urn"], gpu["urn"]])
    result = run(resources + [down])
    assert _always_down(result, "gpu-ng") and not _always_down(result, "cpu-ng")


def test_the_parent_is_the_link_when_no_dependency_names_a_node_group():
    resources, gpu, cpu = _two_pools()
    unrelated = named(resources, "gpu-lt")["urn"]  # a dependency, but not a node group
    result = run(resources + [_down(cpu, [unrelated], [unrelated])])
    assert _always_down(result, "cpu-ng") and not _always_down(result, "gpu-ng")


def test_a_launch_template_linked_by_property_dependency_wins_over_its_sibling():
    parent = resource(POOL, "pool", {})
    lts = [resource(LT, f"{n}-lt", {"instanceType": t, "tags": {KEY: "p"},
                                    "blockDeviceMappings": [{"ebs": {"volumeSize": size, "volumeType": "gp3"}}]},
                    parent=parent["urn"], parent_type=POOL)
           for n, t, size in (("big", "g5.xlarge", 500.0), ("small", "m6i.large", 10.0))]
    ng = resource(NG, "pool-ng", {"tags": {KEY: "p"}, "scalingConfig": {"minSize": 1.0, "maxSize": 1.0, "desiredSize": 1.0}},
                  parent=parent["urn"], parent_type=POOL, deps={"launchTemplate": [lts[1]["urn"]]})
    result = run([parent, *lts, ng])
    assert item(result, "pool-ng").figures.expected == round(730 * CPU_HOUR, 2)
    assert "small-lt" in [i.name for i in result.items] and "big-lt" not in [i.name for i in result.items]
    assert item(result, "small-lt").figures.expected == round(10 * 0.08, 2)


def test_a_node_group_record_without_a_graph_links_to_the_one_launch_template_beside_it():
    parent = resource(POOL, "pool", {})
    lt = resource(LT, "pool-lt", {"instanceType": "g5.xlarge", "tags": {KEY: "p"}}, parent=parent["urn"],
                  parent_type=POOL)
    ng = resource(NG, "pool-ng", {"tags": {KEY: "p"}, "scalingConfig": {"minSize": 1.0, "maxSize": 1.0},
                                  "launchTemplate": {"id": UNKNOWN, "version": UNKNOWN}},
                  parent=parent["urn"], parent_type=POOL)
    result = run([parent, lt, ng])
    assert item(result, "pool-ng").figures.expected == round(730 * GPU_HOUR, 2)
    assert item(result, "pool-lt").project == "p"


def test_a_node_group_without_a_launch_template_input_uses_none_beside_it():
    parent = resource(POOL, "pool", {})
    lt = resource(LT, "pool-lt", {"instanceType": "g5.xlarge", "tags": {KEY: "p"}}, parent=parent["urn"],
                  parent_type=POOL)
    ng = resource(NG, "pool-ng", {"tags": {KEY: "p"}, "scalingConfig": {"minSize": 1.0, "maxSize": 1.0}},
                  parent=parent["urn"], parent_type=POOL)
    result = run([parent, lt, ng])
    assert [i.name for i in result.items] == ["pool-ng"]
    assert item(result, "pool-ng").attributes["instance type"] == "t3.medium"  # the EKS default, not the template's


def test_a_recorded_graph_without_the_template_means_one_from_outside_the_stack():
    parent = resource(POOL, "pool", {})
    lt = resource(LT, "pool-lt", {"instanceType": "g5.xlarge", "tags": {KEY: "p"}}, parent=parent["urn"],
                  parent_type=POOL)
    ng = resource(NG, "pool-ng", {"tags": {KEY: "p"}, "scalingConfig": {"minSize": 1.0, "maxSize": 1.0},
                                  "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "1"}},
                  parent=parent["urn"], parent_type=POOL, deps={"clusterName": [parent["urn"]]})
    result = run([parent, lt, ng])
    assert [i.name for i in result.items] == ["pool-ng"]


def test_resources_without_a_parent_are_not_siblings():
    # Without a parent, a lone launch template is not assumed to be a node group's: the group has none.
    lt = resource(LT, "lt", {"instanceType": "g5.xlarge", "tags": {KEY: "p"}}, parent="")
    ng = resource(NG, "ng", {"instanceTypes": ["m6i.large"], "tags": {KEY: "p"},
                             "scalingConfig": {"minSize": 1.0, "maxSize": 1.0}}, parent="")
    result = run([lt, ng])
    assert [i.name for i in result.items] == ["ng"]
    assert "ng: no launch template and no diskSize: root volume priced at the EKS default 20 GiB gp3." \
        in result.assumptions


# --- what the first mutation run let through ----------------------------------------------------------

def test_only_priced_types_become_items():
    # Types that sort after the priced ones (Kubernetes objects, EKS add-ons) are never priced as one of them.
    others = [lb_service("inside", "ClusterIP"), tagged("aws:eks/addon:Addon", "coredns"),
              tagged("aws:iam/role:Role", "role")]
    assert run(others).items == []


def test_several_instance_types_are_noted_one_is_not():
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=1)
    named(pool, "gpu-ng")["inputs"]["instanceTypes"] = ["g5.xlarge", "g5.2xlarge"]
    several = run(pool)
    assert "gpu-ng: several instance types ['g5.xlarge', 'g5.2xlarge']: priced as the first, g5.xlarge (as Infracost " \
           "does)." in several.assumptions
    assert not any("several instance types" in a for a in run(node_pool("gpu", "g5.xlarge", min_size=1,
                                                                        max_size=1)).assumptions)


def test_a_schedule_size_left_out_is_zero_as_the_provider_defaults():
    # Down at 20:00 to min/desired left out (0), up at 08:00 to 1: 12 h of 24 at zero on every day.
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=1, desired=1,
                     schedules=[("down", "0 20 * * *", 0, 1, 0), ("up", "0 8 * * *", 1, 1, 1)])
    for key in ("minSize", "desiredCapacity"):
        del named(pool, "down")["inputs"][key]
    assert item(run(pool), "gpu-ng").figures.expected == pytest.approx(730 * GPU_HOUR / 2, abs=0.01)


def test_schedules_that_were_not_applied_leave_no_schedule_text():
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=1, schedules=[DOWN])
    named(pool, "gpu-off-peak-down")["inputs"]["recurrence"] = UNKNOWN
    ng = item(run(pool), "gpu-ng")
    assert ng.figures.expected == round(730 * GPU_HOUR, 2)
    assert "schedule(s)" not in ng.basis


@pytest.mark.parametrize("inputs, expected, basis", [
    ({"instanceType": "g5.xlarge", "instanceMarketOptions": {"marketType": "spot"}}, round(730 * GPU_HOUR * 0.35, 2),
     "EC2 instance g5.xlarge 1.006 $/h on-demand x 0.35 spot = 0.3521 $/h x 730 h"),
    ({"instanceType": "g5.xlarge"}, round(730 * GPU_HOUR, 2), "EC2 instance g5.xlarge 1.006 $/h on-demand x 730 h"),
    ({"instanceType": UNKNOWN}, 0.0, "EC2 instance instance type unknown x 730 h"),
    ({"instanceType": "g5.xlarge", "rootBlockDevice": {"volumeSize": 50.0, "volumeType": "gp3"}},
     round(730 * GPU_HOUR + 50 * 0.08, 2), "EC2 instance g5.xlarge 1.006 $/h on-demand x 730 h + 50 GiB gp3 x 0.08 "
                                           "$/GB-month"),
])
def test_ec2_instances(inputs, expected, basis):
    vm = item(run([tagged("aws:ec2/instance:Instance", "vm", inputs)]), "vm")
    assert (vm.figures.min, vm.figures.expected, vm.figures.max) == (expected, expected, expected)
    assert vm.basis == basis


@pytest.mark.parametrize("inputs, expected", [
    ({"size": 100.0, "type": "gp3"}, 8.0),
    ({"size": 100.0}, 10.0),  # gp2, the EC2 API default, at 0.10 $/GB-month
    ({"size": UNKNOWN, "type": "gp3"}, 0.0),
    ({"type": "gp3"}, 0.0),
])
def test_ebs_volumes(inputs, expected):
    assert item(run([tagged("aws:ebs/volume:Volume", "data", inputs)]), "data").figures.expected == expected


@pytest.mark.parametrize("version, support, expected, note", [
    (None, "STANDARD", 73.0, "cluster-eks: no Kubernetes version (the latest at creation): standard support assumed."),
    ("1.99", "EXTENDED", 73.0, "cluster-eks: Kubernetes 1.99 is newer than the lifecycle table (to 1.35): standard "
                               "support assumed."),
    ("1.20", "EXTENDED", 438.0, "cluster-eks: Kubernetes 1.20 is older than the lifecycle table: extended support "
                                "assumed."),
    ("1.20", "STANDARD", 73.0, "cluster-eks: Kubernetes version '1.20' is not in the lifecycle table: standard support "
                               "assumed."),
    ("latest", "STANDARD", 73.0, "cluster-eks: Kubernetes version 'latest' is not in the lifecycle table: standard "
                                 "support assumed."),
    # Only EXTENDED bills extended hours, whatever else the field says.
    ("1.30", "AUTO", 73.0, None),
])
def test_eks_versions_outside_the_lifecycle_table(version, support, expected, note):
    cluster = eks_cluster("1.34", support)
    if version is None:
        del cluster["inputs"]["version"]
    else:
        cluster["inputs"]["version"] = version
    result = run([cluster])
    assert item(result, "cluster-eks").figures.expected == expected
    if note:
        assert note in result.assumptions
    if version is None:
        assert "Kubernetes latest, supportType STANDARD" in item(result, "cluster-eks").basis


# --- what the second mutation sample let through ---------------------------------------------------------

def test_resources_without_a_type_or_a_mapping_are_skipped_not_the_rest():
    result = run(["not a resource", {"name": "typeless"}, *nat_gateways(1)])  # type: ignore[list-item]
    assert [i.name for i in result.items] == ["nat-0", "nat-gateway-data-processing"]


def test_an_item_without_a_urn_or_a_name_is_still_priced_and_named():
    nat = resource("aws:ec2/natGateway:NatGateway", "nat", {})
    del nat["urn"]
    anonymous = resource("aws:ec2/natGateway:NatGateway", "", {})
    result = run([nat, anonymous], default_project="project-nova")
    assert [i.urn for i in result.items] == ["", anonymous["urn"], "usage::nat-gateway-data-processing"]
    assert any(a.endswith(f"billed to the stack's project 'project-nova': nat, {anonymous['urn']}.")
               for a in result.assumptions)


def test_an_instance_prices_its_data_volumes_even_when_the_root_size_is_left_out():
    vm = tagged("aws:ec2/instance:Instance", "vm", {"instanceType": "g5.xlarge", "rootBlockDevice": {},
                                                   "ebsBlockDevices": [{"volumeSize": 100.0, "volumeType": "gp3"}]})
    result = run([vm])
    assert item(result, "vm").figures.expected == round(730 * GPU_HOUR + 8.0, 2)
    assert "vm: root volume size comes from the AMI: not priced." in result.assumptions


def test_sizes_left_out_are_zero_nodes():
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=2)
    named(pool, "gpu-ng")["inputs"]["scalingConfig"] = {}
    ng = item(run(pool), "gpu-ng")
    assert (ng.figures.min, ng.figures.expected, ng.figures.max) == (0.0, 0.0, 0.0)


def test_without_any_snapshot_the_method_says_so(tmp_path):
    result = run(nat_gateways(1), data_dir=tmp_path)
    assert "EC2 on-demand Linux prices from the missing snapshot dated -;" in result.assumptions[0]
    assert (result.catalog.region, result.catalog.date) == ("", "")


@pytest.mark.parametrize("version, support, expected, note", [
    ("1.28.3", "EXTENDED", 73.0, "cluster-eks: Kubernetes version '1.28.3' is not in the lifecycle table: standard "
                                 "support assumed."),
    ("1.20", "AUTO", 73.0, "cluster-eks: Kubernetes version '1.20' is not in the lifecycle table: standard support "
                           "assumed."),
])
def test_only_versions_older_than_the_table_with_extended_support_bill_extended(version, support, expected, note):
    cluster = eks_cluster("1.34", support)
    cluster["inputs"]["version"] = version
    result = run([cluster])
    assert item(result, "cluster-eks").figures.expected == expected
    assert note in result.assumptions
