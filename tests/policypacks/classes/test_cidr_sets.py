"""Networks as sets: CIDR rules merge the listed prefixes before judging (0.0.0.0/1 + 128.0.0.0/1 is
the whole internet). Too broad: at least a /8 of public IPv4 or a /32 of public IPv6 (network.TOO_BROAD);
private address space never counts. Covered: the EKS public endpoint's publicAccessCidrs (in prod),
security groups' inline ingress, aws:ec2/securityGroupRule and aws:vpc/securityGroupIngressRule
(merged across the resources of one group per port in test_sg_merge.py)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

RULE = "no-public-exposure"


def endpoint(cidrs: Any):
    def apply(stack: list[RecordedResource]) -> list[RecordedResource]:
        return b.replace(stack, "cluster-eks", lambda r: r.inputs["vpcConfig"].update(
            endpointPublicAccess=True, publicAccessCidrs=cidrs))
    return apply


def sg(*ingress: dict[str, Any]) -> RecordedResource:
    return b.res("aws:ec2/securityGroup:SecurityGroup", "web-sg", {
        "vpcId": UNKNOWN, "ingress": [{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, **i} for i in ingress],
        "tags": b.tags()})


def sg_rule(kind: str = "ingress", **blocks: Any) -> RecordedResource:
    return b.res("aws:ec2/securityGroupRule:SecurityGroupRule", "web-rule", {
        "type": kind, "securityGroupId": UNKNOWN, "protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, **blocks})


def ingress_rule(name: str, **cidr: Any) -> RecordedResource:
    return b.res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, {
        "securityGroupId": UNKNOWN, "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, **cidr,
        "tags": b.tags()})


HALVES = ["0.0.0.0/1", "128.0.0.0/1"]
EIGHTHS_OF_V6 = [f"{n:x}000::/3" for n in range(0, 16, 2)]

CASES: list[Case] = [
    # --- the EKS public endpoint (prod) ---
    disallowed("endpoint-two-halves-are-the-internet", endpoint(HALVES), RULE, message="merged: 0.0.0.0/0"),
    disallowed("endpoint-one-half-is-too-broad", endpoint(["128.0.0.0/1"]), RULE),
    disallowed("endpoint-ipv6-any", endpoint(["203.0.113.0/24", "::/0"]), RULE, message="::/0"),
    disallowed("endpoint-ipv6-pieces-merge", endpoint(["::/1", "8000::/1"]), RULE, message="merged: ::/0"),
    allowed("endpoint-runner-addresses", endpoint(["203.0.113.10/32", "198.51.100.0/24"]), RULE),
    allowed("endpoint-private-slash-8", endpoint(["10.0.0.0/8"]), RULE),
    disallowed("endpoint-public-slash-8", endpoint(["11.0.0.0/8"]), RULE),
    allowed("endpoint-host-bits-set-still-narrow", endpoint(["203.0.113.7/24"]), RULE),
    allowed("endpoint-in-dev-may-be-open", endpoint(HALVES), RULE, env="dev"),
    # --- inline security-group ingress ---
    disallowed("sg-inline-halves-across-rules", adding(sg({"cidrBlocks": ["0.0.0.0/1"]}, {"cidrBlocks": ["128.0.0.0/1"]})),
               RULE, message="merged: 0.0.0.0/0"),
    disallowed("sg-inline-ipv6-any", adding(sg({"ipv6CidrBlocks": ["::/0"]})), RULE),
    allowed("sg-inline-vpc-cidr", adding(sg({"cidrBlocks": ["10.42.0.0/16"]})), RULE),
    allowed("sg-inline-security-group-source", adding(sg({"securityGroups": ["sg-0abc"]})), RULE),
    disallowed("sg-inline-cidr-unknown", adding(sg({"cidrBlocks": UNKNOWN})), RULE, message="cannot verify"),
    # --- aws:ec2/securityGroupRule ---
    disallowed("sg-rule-ingress-any", adding(sg_rule(cidrBlocks=["0.0.0.0/0"])), RULE),
    disallowed("sg-rule-ingress-split-internet", adding(sg_rule(cidrBlocks=["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2",
                                                                             "192.0.0.0/2"])), RULE,
               message="merged: 0.0.0.0/0"),
    allowed("sg-rule-egress-any", adding(sg_rule("egress", cidrBlocks=["0.0.0.0/0"])), RULE),
    allowed("sg-rule-ingress-office", adding(sg_rule(cidrBlocks=["198.51.100.0/24"])), RULE),
    disallowed("sg-rule-ipv6-eighths", adding(sg_rule(ipv6CidrBlocks=EIGHTHS_OF_V6)), RULE),
    # --- aws:vpc/securityGroupIngressRule ---
    disallowed("ingress-rule-ipv4-any", adding(ingress_rule("any4", cidrIpv4="0.0.0.0/0")), RULE),
    disallowed("ingress-rule-ipv6-any", adding(ingress_rule("any6", cidrIpv6="::/0")), RULE),
    allowed("ingress-rule-peered-vpc", adding(ingress_rule("peer", cidrIpv4="10.50.0.0/16")), RULE),
    allowed("ingress-rule-from-prefix-list", adding(ingress_rule("pl", prefixListId="pl-0abc")), RULE),
    disallowed("ingress-rule-cidr-unknown", adding(ingress_rule("later", cidrIpv4=UNKNOWN)), RULE,
               message="cannot verify cidrIpv4"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_cidr_sets(pack, case):
    check(pack, case)


# --- the set arithmetic itself ----------------------------------------------------------------------

from ai_governance import network  # noqa: E402

prefix_v4 = st.builds(lambda a, n: str(ipaddress.ip_network((a, n), strict=False)),
                      st.integers(0, 2**32 - 1), st.integers(0, 32))


@given(st.lists(prefix_v4, min_size=1, max_size=12))
def test_merging_keeps_exactly_the_listed_addresses(cidrs):
    merged = network.cidr_set(cidrs).merged
    listed = [ipaddress.ip_network(c) for c in cidrs]
    assert sum(n.num_addresses for n in merged) == sum(n.num_addresses for n in ipaddress.collapse_addresses(listed))
    for net in listed:
        assert any(net.subnet_of(m) for m in merged)  # type: ignore[arg-type]
    for a, c in zip(merged, merged[1:]):
        assert not a.overlaps(c)


@given(st.integers(1, 8))
def test_the_internet_split_any_way_is_too_broad(bits):
    pieces = [str(p) for p in ipaddress.ip_network("0.0.0.0/0").subnets(prefixlen_diff=bits)]
    found = network.too_broad(pieces)
    assert found is not None and [str(n) for n in found.merged] == ["0.0.0.0/0"]


@given(st.lists(prefix_v4, min_size=1, max_size=12))
def test_splitting_a_set_never_changes_the_verdict(cidrs):
    """Listing a set's prefixes as their two halves is the same set."""
    halves = []
    for c in cidrs:
        net = ipaddress.ip_network(c)
        halves += [str(h) for h in net.subnets()] if net.prefixlen < 32 else [c]
    assert network.cidr_set(halves).merged == network.cidr_set(cidrs).merged
    assert network.cidr_set(halves).too_broad() == network.cidr_set(cidrs).too_broad()


@given(st.lists(st.sampled_from([str(n) for n in network.PRIVATE_NETWORKS if n.version == 4]), min_size=1))
def test_private_space_is_never_too_broad(cidrs):
    found = network.cidr_set(cidrs)
    assert not found.too_broad() and found.all_private()


def test_the_threshold_is_one_slash_8_of_public_addresses():
    assert network.too_broad(["11.0.0.0/8"]) is not None
    assert network.too_broad(["11.0.0.0/9"]) is None
    assert network.too_broad(["11.0.0.0/9", "11.128.0.0/9"]) is not None  # merged into a /8
    assert network.too_broad(["8.0.0.0/7"]) is not None  # 8/8 + 9/8
    assert network.too_broad(["10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"]) is None  # private space
    assert network.too_broad(["10.0.0.0/7"]) is not None  # 10/8 is private, but 11/8 is a public /8
    assert network.too_broad(["2001:db8::/32"]) is not None and network.too_broad(["2001:db8::/33"]) is None
    assert network.cidr_set(["not-a-cidr", "10.0.0.0/8"]).invalid == ("not-a-cidr",)
