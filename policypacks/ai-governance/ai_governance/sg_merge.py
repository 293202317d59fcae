"""Security-group ingress judged per security group and port, across every resource that adds to it.

A group's ingress may come from its own inline ``ingress`` blocks, ``aws:ec2/securityGroupRule``
(``type: ingress``) resources and ``aws:vpc/securityGroupIngressRule`` resources (one
``cidrIpv4``/``cidrIpv6`` each). AWS allows a packet when any rule allows it, so what a port is open
to is the union of the CIDRs of every rule of the group that covers it: ``0.0.0.0/1`` in one rule
resource and ``128.0.0.0/1`` in another is the whole internet.

Which group a rule resource adds to is its ``securityGroupId``. At preview the ID of a group made in
the same stack is unknown; the engine still says where it comes from (``propertyDependencies``). A
rule is linked to a group only when that is certain: its ``securityGroupId`` depends on exactly one
resource and that resource is an ``aws:ec2/securityGroup`` in the stack, or (no such dependency) it
is a known literal ID. Any other rule (an unknown ID taken from, say, the EKS cluster's outputs) is
judged on its own. Nothing is merged by guess.

Ports: protocol ``-1``/``all`` covers every protocol and port; otherwise each protocol's
``fromPort``..``toPort`` range. One sweep per group and protocol over the ranges' ends: linear in
the rules after a sort.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ai_platform_finops.values import number

from . import network
from .framework import Check
from .props import UNKNOWN, elements, get, text
from .resources import Res, Stack

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TYPES = (SECURITY_GROUP, SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE)

ALL = "all"
_PROTOCOLS = {"-1": ALL, "all": ALL, "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
MAX_PORT = 65535


@dataclass
class Grant:
    """CIDRs one rule lets in on ``protocol`` ports ``low``..``high``."""

    res: Res
    where: str
    protocol: str
    low: int
    high: int
    cidrs: list[str]


@dataclass
class Group:
    """Everything the stack adds to one security group."""

    label: str
    urn: str
    grants: list[Grant] = field(default_factory=list)


def _protocol(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    name = str(value).strip().lower()
    return _PROTOCOLS.get(name, name)


def _port(value: Any, default: int) -> int:
    found = number(value)
    return int(found) if found is not None else default


def _grant(res: Res, where: str, rule: Any, proto_key: str, blocks: list[tuple[str, Any]], c: Check
           ) -> Grant | None:
    cidrs: list[str] = []
    for field_, raw in blocks:
        items = [raw] if raw is UNKNOWN else elements(raw)
        if UNKNOWN in items:
            c.unknown(f"{where}{field_}", res.urn)
            continue
        cidrs.extend(x for x in items if isinstance(x, str))
    if not cidrs:
        return None
    protocol = _protocol(get(rule, proto_key))
    if protocol == ALL:
        return Grant(res, where, ALL, 0, MAX_PORT, cidrs)
    low, high = _port(get(rule, "fromPort"), 0), _port(get(rule, "toPort"), MAX_PORT)
    if low < 0 or high < 0:  # -1: every ICMP type/code
        low, high = 0, MAX_PORT
    return Grant(res, where, protocol, min(low, high), max(low, high), cidrs)


def _link(res: Res, by_urn: dict[str, Res]) -> tuple[str, str] | None:
    """(group key, label) of the group a rule resource certainly adds to, else None."""
    deps = res.property_dependencies.get("securityGroupId") or []
    if len(set(deps)) == 1 and by_urn.get(deps[0]) is not None and by_urn[deps[0]].type == SECURITY_GROUP:
        group = by_urn[deps[0]]
        return f"urn:{group.urn}", group.label
    if not deps:
        literal = text(get(res.props, "securityGroupId"))
        if literal:
            return f"id:{literal}", f"security group {literal}"
    return None


def groups(stack: Stack, c: Check) -> list[Group]:
    """Every group with the grants the stack adds to it (unknown CIDRs recorded on ``c``)."""
    found: dict[str, Group] = {}

    def group(key: str, label: str, urn: str) -> Group:
        if key not in found:
            found[key] = Group(label, urn)
        return found[key]

    for res in stack.of_type(*TYPES):
        if res.type == SECURITY_GROUP:
            target = group(f"urn:{res.urn}", res.label, res.urn)
            rules = get(res.props, "ingress")
            if not c.known(rules, "ingress", res.urn):
                continue
            for index, rule in enumerate(elements(rules)):
                grant = _grant(res, f"ingress[{index}].", rule, "protocol",
                               [("cidrBlocks", get(rule, "cidrBlocks")), ("ipv6CidrBlocks", get(rule, "ipv6CidrBlocks"))], c)
                if grant is not None:
                    target.grants.append(grant)
            continue
        if res.type == SECURITY_GROUP_RULE:
            kind = get(res.props, "type")
            if not c.known(kind, "type", res.urn) or kind != "ingress":
                continue
            grant = _grant(res, "", res.props, "protocol",
                           [("cidrBlocks", get(res.props, "cidrBlocks")), ("ipv6CidrBlocks", get(res.props, "ipv6CidrBlocks"))], c)
        else:
            grant = _grant(res, "", res.props, "ipProtocol",
                           [("cidrIpv4", [get(res.props, "cidrIpv4")]), ("cidrIpv6", [get(res.props, "cidrIpv6")])], c)
        if grant is None:
            continue
        link = _link(res, stack.by_urn)
        key, label = link if link is not None else (f"own:{res.urn}", res.label)
        group(key, label, res.urn).grants.append(grant)
    return list(found.values())


@dataclass(frozen=True)
class Open:
    """A port range of one protocol open to too broad a set of networks."""

    protocol: str
    low: int
    high: int
    cidrs: network.CidrSet
    sources: tuple[Res, ...]


def too_open(group: Group) -> Iterator[Open]:
    """The port ranges of ``group`` whose merged sources are too broad (adjacent ranges with the same
    sources reported once)."""
    for protocol in sorted({g.protocol for g in group.grants}):
        grants = [g for g in group.grants if g.protocol in (protocol, ALL)]
        cuts = sorted({g.low for g in grants} | {g.high + 1 for g in grants})
        last: Open | None = None
        for low, nxt in zip(cuts, cuts[1:]):
            covering = [g for g in grants if g.low <= low <= g.high]
            if not covering or (protocol != ALL and all(g.protocol == ALL for g in covering)):
                continue  # an all-traffic grant on its own is judged once, as all traffic
            merged = network.too_broad(c for g in covering for c in g.cidrs)
            if merged is None:
                continue
            sources = tuple(dict.fromkeys(g.res for g in covering))
            if last is not None and last.high + 1 == low and last.sources == sources:
                last = Open(protocol, last.low, nxt - 1, last.cidrs, sources)
                continue
            if last is not None:
                yield last
            last = Open(protocol, low, nxt - 1, merged, sources)
        if last is not None:
            yield last


def describe_ports(item: Open) -> str:
    if item.protocol == ALL:
        return "all traffic"
    ports = f"{item.low}" if item.low == item.high else f"{item.low}-{item.high}"
    return f"{item.protocol} {ports}" if not (item.low == 0 and item.high == MAX_PORT) else f"all {item.protocol}"


__all__ = ["TYPES", "Group", "Open", "describe_ports", "groups", "too_open"]
