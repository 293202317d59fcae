"""Security-group ingress merged per group and port across resources (ai_governance/sg_merge.py): the
group's inline ingress, ``aws:ec2/securityGroupRule`` (type ingress) and
``aws:vpc/securityGroupIngressRule`` resources that certainly target it. At preview a group made in
the stack has an unknown ID; the rule's ``securityGroupId`` property dependency names the group, as
the engine (and preflight) send it in AnalyzeStack. Nothing is merged by guess: an unknown ID taken
from another resource (the EKS cluster's security group) keeps its rule on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

RULE = "no-public-exposure"
SG = "aws:ec2/securityGroup:SecurityGroup"
HALF_A, HALF_B = "11.0.0.0/9", "11.128.0.0/9"
"""Each alone is narrower than the too-broad line (a /8 of public IPv4, network.TOO_BROAD); together a /8."""


def sg(name: str = "web-sg", *ingress: dict[str, Any]) -> RecordedResource:
    return b.res(SG, name, {"vpcId": UNKNOWN, "ingress": list(ingress), "tags": b.tags()})


def link(group: str | None) -> dict[str, Any]:
    """How a rule names its group: at preview the ID is unknown and the dependency says whose it is."""
    return {"prop_deps": {"securityGroupId": [b.urn(SG, group)]}} if group else {}


def sg_rule(name: str, group: str | None, cidrs: list[str], kind: str = "ingress", protocol: Any = "tcp",
            ports: tuple[float, float] = (443.0, 443.0), sg_id: Any = UNKNOWN, **kw: Any) -> RecordedResource:
    return b.res("aws:ec2/securityGroupRule:SecurityGroupRule", name, {
        "type": kind, "securityGroupId": sg_id, "protocol": protocol, "fromPort": ports[0], "toPort": ports[1],
        "cidrBlocks": cidrs}, **link(group), **kw)


def ingress_rule(name: str, group: str | None, cidr: str, protocol: Any = "tcp",
                 ports: tuple[float, float] = (443.0, 443.0), sg_id: Any = UNKNOWN, **kw: Any) -> RecordedResource:
    family = "cidrIpv6" if ":" in cidr else "cidrIpv4"
    return b.res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, {
        "securityGroupId": sg_id, "ipProtocol": protocol, "fromPort": ports[0], "toPort": ports[1], family: cidr,
        "tags": b.tags()}, **link(group), **kw)


def tcp(port: float, *cidrs: str) -> dict[str, Any]:
    return {"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": list(cidrs)}


CLUSTER_URN = b.urn("aws:eks/cluster:Cluster", "cluster-eks")
FROM_CLUSTER: dict[str, Any] = {"prop_deps": {"securityGroupId": [CLUSTER_URN]}}

CASES: list[Case] = [
    disallowed("two-ingress-rules-halves-on-one-group",
               adding(sg(), ingress_rule("a", "web-sg", HALF_A), ingress_rule("b", "web-sg", HALF_B)), RULE,
               message="merged: 11.0.0.0/8"),
    disallowed("the-internets-halves-in-two-rule-resources",
               adding(sg(), ingress_rule("a", "web-sg", "0.0.0.0/1"), sg_rule("b", "web-sg", ["128.0.0.0/1"])), RULE,
               message="merged: 0.0.0.0/0"),
    disallowed("inline-half-plus-rule-resource-half",
               adding(sg("web-sg", tcp(443.0, HALF_A)), sg_rule("b", "web-sg", [HALF_B])), RULE,
               message="SecurityGroup web-sg: ingress on tcp 443"),
    disallowed("three-kinds-together",
               adding(sg("web-sg", tcp(443.0, "11.0.0.0/10")), sg_rule("b", "web-sg", ["11.64.0.0/10"]),
                      ingress_rule("c", "web-sg", HALF_B)), RULE, message="merged: 11.0.0.0/8"),
    disallowed("ipv6-halves-on-one-group",
               adding(sg(), ingress_rule("a", "web-sg", "2001:db8::/33"),
                      ingress_rule("b", "web-sg", "2001:db8:8000::/33")), RULE, message="merged: 2001:db8::/32"),
    disallowed("same-literal-group-id",
               adding(ingress_rule("a", None, HALF_A, sg_id="sg-0abc"), ingress_rule("b", None, HALF_B, sg_id="sg-0abc")),
               RULE, message="security group sg-0abc"),
    disallowed("all-traffic-half-plus-tcp-half",
               adding(sg(), sg_rule("a", "web-sg", [HALF_A], protocol="-1", ports=(0.0, 0.0)),
                      sg_rule("b", "web-sg", [HALF_B])), RULE, message="tcp 443"),
    disallowed("wide-port-range-covers-the-other-rules-port",
               adding(sg(), sg_rule("a", "web-sg", [HALF_A], ports=(0.0, 65535.0)), sg_rule("b", "web-sg", [HALF_B])),
               RULE, message="tcp 443"),
    disallowed("protocol-number-and-name-are-one-protocol",
               adding(sg(), sg_rule("a", "web-sg", [HALF_A], protocol="6"), ingress_rule("b", "web-sg", HALF_B)), RULE),
    allowed("halves-on-different-ports",
            adding(sg(), ingress_rule("a", "web-sg", HALF_A), ingress_rule("b", "web-sg", HALF_B, ports=(22.0, 22.0))),
            RULE),
    allowed("inline-halves-on-different-ports", adding(sg("web-sg", tcp(443.0, HALF_A), tcp(8443.0, HALF_B))), RULE),
    allowed("halves-on-different-protocols",
            adding(sg(), ingress_rule("a", "web-sg", HALF_A), ingress_rule("b", "web-sg", HALF_B, protocol="udp")), RULE),
    allowed("halves-on-two-groups",
            adding(sg("web-sg"), sg("db-sg"), ingress_rule("a", "web-sg", HALF_A), ingress_rule("b", "db-sg", HALF_B)),
            RULE),
    allowed("halves-on-two-literal-ids",
            adding(ingress_rule("a", None, HALF_A, sg_id="sg-0abc"), ingress_rule("b", None, HALF_B, sg_id="sg-0def")),
            RULE),
    allowed("unknown-ids-from-another-resource-are-not-merged",
            adding(ingress_rule("a", None, HALF_A, **FROM_CLUSTER), ingress_rule("b", None, HALF_B, **FROM_CLUSTER)),
            RULE),
    allowed("ingress-half-plus-egress-half",
            adding(sg(), sg_rule("a", "web-sg", [HALF_A]), sg_rule("b", "web-sg", [HALF_B], kind="egress")), RULE),
    allowed("office-and-vpc-across-rules",
            adding(sg("web-sg", tcp(443.0, "10.0.0.0/8")), ingress_rule("a", "web-sg", "198.51.100.0/24"),
                   sg_rule("b", "web-sg", ["203.0.113.0/24"])), RULE),
    disallowed("one-rule-alone-still-judged",
               adding(ingress_rule("a", None, "0.0.0.0/0", **FROM_CLUSTER)), RULE, message="0.0.0.0/0"),
    disallowed("unknown-cidr-in-a-linked-rule",
               adding(sg(), ingress_rule("a", "web-sg", HALF_A), ingress_rule("b", "web-sg", UNKNOWN)), RULE,
               message="cannot verify cidrIpv4"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_sg_merge(pack, case):
    check(pack, case)


# --- the sweep itself, against a port-by-port oracle --------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ai_governance import network, sg_merge  # noqa: E402  (conftest puts the pack on sys.path)
from ai_governance.resources import Res  # noqa: E402

PIECES = ["11.0.0.0/9", "11.128.0.0/9", "11.0.0.0/10", "12.0.0.0/8", "10.0.0.0/8", "198.51.100.0/24"]
grant = st.tuples(st.sampled_from(["tcp", "udp", sg_merge.ALL]), st.integers(0, 12), st.integers(0, 12),
                  st.lists(st.sampled_from(PIECES), min_size=1, max_size=3))


@settings(max_examples=60, deadline=None)
@given(st.lists(grant, min_size=1, max_size=6))
def test_the_sweep_finds_exactly_the_ports_too_broad_one_by_one(grants):
    group = sg_merge.Group("SecurityGroup g", "urn:g")
    for index, (protocol, a, z, cidrs) in enumerate(grants):
        low, high = (0, sg_merge.MAX_PORT) if protocol == sg_merge.ALL else (min(a, z), max(a, z))
        res = Res(type=sg_merge.SECURITY_GROUP_RULE, name=f"r{index}", urn=f"urn:r{index}", props={})
        group.grants.append(sg_merge.Grant(res, "", protocol, low, high, cidrs))
    found = {(o.protocol, port) for o in sg_merge.too_open(group) for port in range(o.low, min(o.high, 12) + 1)}
    expected = set()
    for protocol in {g.protocol for g in group.grants}:
        for port in range(13):
            covering = [g for g in group.grants if g.protocol in (protocol, sg_merge.ALL) and g.low <= port <= g.high]
            if protocol != sg_merge.ALL and all(g.protocol == sg_merge.ALL for g in covering):
                continue
            if network.too_broad(c for g in covering for c in g.cidrs):
                expected.add((protocol, port))
    assert found == expected
