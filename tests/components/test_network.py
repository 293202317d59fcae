"""Network: a VPC across AZs with EKS-tagged subnets and NAT per environment, or existing subnets."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.network import subnet_cidrs
from preflight import invokes
from tests.support.fixtures import AWS_STACKS, P, config, preview, recorded
from tests.support.recordings import by_name, of_type, one

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"


ZONES = {"sandbox": ["use1-az1", "use1-az2"], "preprod": ["use1-az1", "use1-az2"],
         "live": ["use1-az1", "use1-az2", "use1-az4"]}
"""By zone ID, lowest first, among zones offering every pool type: prod's third is az4, since
preflight's account offers no GPU type in use1-az3."""


@pytest.mark.parametrize("stack, zones, nats", [("sandbox", 2, 1), ("preprod", 2, 1), ("live", 3, 3)])
def test_subnets_span_the_configured_zones_with_nat_per_environment(stack, zones, nats):
    recording = recorded(stack)
    subnets = by_name(recording, SUBNET)
    azs = ZONES[stack]
    assert len(azs) == zones
    assert set(subnets) == {f"network-{kind}-{az}" for kind in ("public", "private") for az in azs}
    assert len(of_type(recording, NAT)) == nats
    for nat in of_type(recording, NAT):
        public = [s.urn for n, s in subnets.items() if n.startswith("network-public-")]
        assert nat.property_dependencies["subnetId"][0] in public


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_subnets_carry_the_eks_and_load_balancer_tags(stack):
    cluster = config(stack).cluster.name
    for name, subnet in by_name(recorded(stack), SUBNET).items():
        tags = subnet.inputs["tags"]
        assert tags[f"kubernetes.io/cluster/{cluster}"] == "shared"
        role = "kubernetes.io/role/elb" if "-public-" in name else "kubernetes.io/role/internal-elb"
        other = "kubernetes.io/role/internal-elb" if "-public-" in name else "kubernetes.io/role/elb"
        assert tags[role] == "1" and other not in tags
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_network_resource_with_tags_carries_the_finops_tags(stack):
    recording, expected = recorded(stack), config(stack).tags.aws_tags()
    network = one(recording, "ai-platform:network:Network")
    children = [r for r in recording.resources if r.parent == network.urn and r.type != "aws:ec2/routeTableAssociation:RouteTableAssociation"]
    assert len(children) > 5
    for resource in children:
        assert {k: resource.inputs["tags"].get(k) for k in expected} == expected, resource.name


def test_private_subnets_route_through_their_own_nat_in_prod():
    recording = recorded("live")
    tables = by_name(recording, "aws:ec2/routeTable:RouteTable")
    nats = by_name(recording, NAT)
    for az in ZONES["live"]:
        table = tables[f"network-private-{az}"]
        assert table.inputs["routes"][0]["cidrBlock"] == "0.0.0.0/0"
        assert table.property_dependencies["routes"] == [nats[f"network-nat-{az}"].urn]


def test_the_cluster_and_nodes_use_the_private_subnets():
    recording = recorded("sandbox")
    private = sorted(s.urn for n, s in by_name(recording, SUBNET).items() if "-private-" in n)
    eks = one(recording, "aws:eks/cluster:Cluster", "cluster-eks")
    assert sorted(eks.property_dependencies["vpcConfig"]) == private
    for ng in of_type(recording, "aws:eks/nodeGroup:NodeGroup"):
        assert sorted(ng.property_dependencies["subnetIds"]) == private


AZS = "aws:index/getAvailabilityZones:getAvailabilityZones"
OPT_IN_NOT_REQUIRED = [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_preflight_zones_answer_lists_an_opted_in_local_zone_first_unless_filtered():
    # As AWS does for an account opted in to a Local Zone group: sorted by name, the Local Zone first.
    unfiltered = invokes.answer(AZS, {"state": "available"}, "us-east-1")["names"]
    assert unfiltered[0] == "us-east-1-bos-1a"
    assert "us-east-1-wl1-bos-wlz-1" not in unfiltered  # not opted in
    filtered = invokes.answer(AZS, {"state": "available", "filters": OPT_IN_NOT_REQUIRED}, "us-east-1")
    assert filtered["names"] == [f"us-east-1{s}" for s in "abcdef"]
    assert len(filtered["zoneIds"]) == len(filtered["groupNames"]) == 6
    everything = invokes.answer(AZS, {"allAvailabilityZones": True}, "us-east-1")["names"]
    assert "us-east-1-wl1-bos-wlz-1" in everything
    with pytest.raises(invokes.UnansweredInvoke, match="no filter 'region-name'"):
        invokes.answer(AZS, {"filters": [{"name": "region-name", "values": ["us-east-1"]}]}, "us-east-1")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_subnets_go_to_availability_zones_by_id_never_a_local_zone(stack):
    subnets = of_type(recorded(stack), SUBNET)
    assert all("availabilityZone" not in s.inputs for s in subnets)  # names differ per account
    zones = {s.inputs["availabilityZoneId"] for s in subnets}
    assert zones == set(ZONES[stack])
    assert len(zones) == config(stack).network.az_count


def test_nat_mode_can_be_overridden():
    recording = preview("live", lambda c: c[P + "network"].update(natGateways="single"))
    assert len(of_type(recording, NAT)) == 1


def test_existing_network_creates_nothing_and_hands_its_subnets_to_the_cluster():
    ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    recording = preview("sandbox", lambda c: c[P + "network"].update(
        mode="existing", vpcId="vpc-0123456789abcdef0", privateSubnetIds=ids))
    network = one(recording, "ai-platform:network:Network")
    assert [r.type for r in recording.resources if r.parent == network.urn] == []
    assert of_type(recording, "aws:ec2/vpc:Vpc") == [] and of_type(recording, SUBNET) == []
    assert one(recording, "aws:eks/cluster:Cluster", "cluster-eks").inputs["vpcConfig"]["subnetIds"] == ids
    assert one(recording, "aws:eks/nodeGroup:NodeGroup", "gpu-a10g-ng").inputs["subnetIds"] == ids


@given(prefix=st.integers(min_value=16, max_value=20), zones=st.integers(min_value=2, max_value=6),
       base=st.sampled_from(["10.0.0.0", "172.16.0.0", "192.168.0.0"]))
def test_subnet_cidrs_fit_the_vpc_and_never_overlap(prefix, zones, base):
    vpc = ipaddress.IPv4Network(f"{base}/{prefix}")
    private, public = subnet_cidrs(str(vpc), zones)
    assert len(private) == len(public) == zones
    nets = [ipaddress.IPv4Network(c) for c in private + public]
    assert all(n.subnet_of(vpc) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            assert not a.overlaps(b)
    # Nodes and pods take VPC IPs: private subnets are 16x the public ones.
    assert nets[0].num_addresses == 16 * nets[-1].num_addresses
