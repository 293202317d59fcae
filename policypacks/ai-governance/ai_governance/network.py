"""Networks as sets, and what puts a service on the internet.

**CIDR sets.** Every rule about address ranges (the EKS public endpoint's ``publicAccessCidrs``,
security-group ingress) parses the listed prefixes and merges them (``ipaddress.collapse_addresses``)
before judging, so ``0.0.0.0/1`` plus ``128.0.0.0/1`` is the whole internet. What is *too broad* is
defined once, here: a set whose merged prefixes hold at least ``TOO_BROAD`` public addresses of one
family (a /8 of IPv4, a /32 of IPv6); addresses in ``PRIVATE_NETWORKS`` never count.

**Load balancers.** Who makes a ``LoadBalancer`` Service, and with what scheme, follows the real
controllers:

- The in-tree AWS cloud provider (kubernetes/cloud-provider-aws, ``pkg/providers/v1/aws.go``,
  ``EnsureLoadBalancer``): internal exactly when ``service.beta.kubernetes.io/aws-load-balancer-internal``
  is non-empty and not ``"false"`` (so ``"False"``, ``"0"`` and ``"0.0.0.0/0"`` all mean internal). It
  ignores ``aws-load-balancer-scheme`` and every Service that names a ``loadBalancerClass`` or the
  load-balancer type ``external``/``nlb-ip``.
- The AWS Load Balancer Controller (kubernetes-sigs/aws-load-balancer-controller,
  ``pkg/service/model_build_load_balancer.go``): takes Services with ``loadBalancerClass:
  service.k8s.aws/nlb`` or type ``external``/``nlb-ip`` (and, with its Service webhook on, new
  Services without a class). ``aws-load-balancer-scheme`` decides (``internal`` or
  ``internet-facing``, anything else is an error); without it the legacy ``aws-load-balancer-internal``
  is parsed as a Go bool (``1 t T TRUE true True`` / ``0 f F FALSE false False``); without either the
  scheme is internal. Ingresses of its class read ``alb.ingress.kubernetes.io/scheme`` (default
  internal) unless their class's IngressClassParams sets ``spec.scheme`` (``ClassParams``; resolved
  across the stack by ``exposure_params``); its Gateways read only their LoadBalancerConfiguration.

A Service naming no class counts as internal only when every controller that may take it
(``serviceControllers``) makes it internal. ``spec.loadBalancerSourceRanges`` inside private address
space keeps an internet-facing load balancer unreachable from the internet (both controllers turn
them into its security group's only sources), so it counts as not public.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

PRIVATE_NETWORKS: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # RFC 6598 shared address space (carrier-grade NAT)
    "127.0.0.0/8", "169.254.0.0/16",  # loopback, link-local
    "fc00::/7", "fe80::/10", "::1/128",  # unique local, link-local, loopback
))
"""Addresses the internet cannot reach a VPC from."""

TOO_BROAD = {4: 2 ** 24, 6: 2 ** 96}
"""Public addresses (per IP version) at which a CIDR set is too broad: a /8 of IPv4, a /32 of IPv6."""


@dataclass(frozen=True)
class CidrSet:
    """Listed CIDRs, merged per IP version."""

    listed: tuple[str, ...]
    merged: tuple[Network, ...]
    invalid: tuple[str, ...] = ()

    def public_addresses(self, version: int) -> int:
        """Addresses of ``version`` in the set outside ``PRIVATE_NETWORKS`` (merged prefixes are
        disjoint, and two CIDRs overlap only when one holds the other)."""
        total = 0
        for net in self.merged:
            if net.version != version:
                continue
            private = sum(min(net.num_addresses, p.num_addresses) for p in PRIVATE_NETWORKS
                          if p.version == version and net.overlaps(p))
            total += net.num_addresses - private
        return total

    def too_broad(self) -> bool:
        return any(self.public_addresses(v) >= limit for v, limit in TOO_BROAD.items())

    def all_private(self) -> bool:
        """Every listed prefix lies in private address space (an empty set is not private)."""
        return bool(self.merged) and not self.invalid and all(
            any(net.subnet_of(p) for p in PRIVATE_NETWORKS if p.version == net.version)  # type: ignore[arg-type]
            for net in self.merged)

    def describe(self) -> str:
        shown = ", ".join(self.listed)
        merged = ", ".join(str(n) for n in self.merged)
        return shown if merged == shown else f"{shown} (merged: {merged})"


def cidr_set(values: Iterable[Any]) -> CidrSet:
    """The strings of ``values`` as one merged set; unparsable entries are kept apart as invalid."""
    listed: list[str] = []
    invalid: list[str] = []
    nets: list[Network] = []
    for value in values:
        if not isinstance(value, str):
            continue
        listed.append(value)
        try:
            nets.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            invalid.append(value)
    merged: list[Network] = []
    for version in (4, 6):
        merged.extend(ipaddress.collapse_addresses([n for n in nets if n.version == version]))  # type: ignore[misc]
    return CidrSet(tuple(listed), tuple(merged), tuple(invalid))


def too_broad(values: Iterable[Any]) -> CidrSet | None:
    """The merged set when it is too broad, else None."""
    found = cidr_set(values)
    return found if found.too_broad() else None


# --- load balancers ---------------------------------------------------------------------------------

SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
LBC_SERVICE_CLASS = "service.k8s.aws/nlb"
LBC_SERVICE_TYPES = ("external", "nlb-ip")
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"
ALB_INBOUND_CIDRS = "alb.ingress.kubernetes.io/inbound-cidrs"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

DECIDING_ANNOTATIONS = frozenset({SCHEME, INTERNAL, LB_TYPE, ALB_SCHEME, ALB_INBOUND_CIDRS, INGRESS_CLASS_ANNOTATION})
"""The annotations whose value decides exposure (one unknown at preview leaves it undecided)."""

IN_TREE = "in-tree"
LBC = "aws-load-balancer-controller"
CONTROLLERS = (IN_TREE, LBC)

_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def go_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool, which the AWS Load Balancer Controller parses bool annotations with."""
    return True if value in _GO_TRUE else False if value in _GO_FALSE else None


def in_tree_public(annotations: Mapping[str, str]) -> str | None:
    """Why the in-tree controller makes the load balancer internet-facing, or None (internal)."""
    value = annotations.get(INTERNAL, "")
    if value != "" and value != "false":
        return None
    shown = "unset" if INTERNAL not in annotations else repr(value)
    return f"the in-tree controller reads only {INTERNAL} ({shown}; internal needs any value but 'false')"


def lbc_public(annotations: Mapping[str, str]) -> str | None:
    """Why the AWS Load Balancer Controller makes the load balancer internet-facing (or refuses the
    Service), or None (internal, its default)."""
    if SCHEME in annotations:
        scheme = annotations[SCHEME]
        if scheme == "internal":
            return None
        return f"the AWS Load Balancer Controller reads {SCHEME} {scheme!r}"
    if INTERNAL in annotations:
        parsed = go_bool(annotations[INTERNAL])
        if parsed is True:
            return None
        return f"the AWS Load Balancer Controller reads {INTERNAL} {annotations[INTERNAL]!r} as " + (
            "false" if parsed is False else "no bool (an error, fixed only by editing the Service)")
    return None


@dataclass(frozen=True)
class Exposure:
    """Why a load balancer is reachable from the internet (empty: it is not)."""

    reasons: list[str] = field(default_factory=list)

    @property
    def public(self) -> bool:
        return bool(self.reasons)


def service_exposure(annotations: Mapping[str, str], lb_class: str | None, source_ranges: Sequence[Any],
                     controllers: Sequence[str]) -> Exposure:
    """Whether a LoadBalancer Service (or what a Gateway provisions) is public, under every
    controller that may reconcile it."""
    if lb_class is not None and lb_class != LBC_SERVICE_CLASS:
        return Exposure([f"loadBalancerClass {lb_class!r} is reconciled by a controller whose scheme this rule "
                         "cannot read"])
    if lb_class == LBC_SERVICE_CLASS or annotations.get(LB_TYPE) in LBC_SERVICE_TYPES:
        takers = [LBC]
    else:
        takers = [c for c in controllers if c in CONTROLLERS] or list(CONTROLLERS)
    reasons = [why for why in ((in_tree_public if c == IN_TREE else lbc_public)(annotations) for c in takers) if why]
    if reasons:
        ranges = cidr_set(source_ranges)
        if ranges.all_private():
            return Exposure()
    return Exposure(reasons)


def ingress_class(spec_class: Any, annotations: Mapping[str, str]) -> str | None:
    """``spec.ingressClassName``, else the older ``kubernetes.io/ingress.class`` annotation."""
    if isinstance(spec_class, str) and spec_class:
        return spec_class
    return annotations.get(INGRESS_CLASS_ANNOTATION) or None


def alb_ingress_exposure(annotations: Mapping[str, str], params: ClassParams | None = None) -> Exposure:
    """An ALB Ingress: internet-facing only by its scheme; inbound CIDRs all private keep it off the
    internet. Its class's IngressClassParams, when set, override both annotations (the controller's
    ``buildLoadBalancerScheme`` and ``computeIngressExplicitInboundCIDRs``)."""
    if params is not None and params.scheme is not None:
        scheme, said = params.scheme, f"{params.source} spec.scheme"
    else:
        scheme, said = annotations.get(ALB_SCHEME), ALB_SCHEME
    if scheme is None or scheme == "internal":
        return Exposure()
    if params is not None and params.inbound_cidrs:
        listed: list[str] = list(params.inbound_cidrs)
    else:
        listed = [x.strip() for x in annotations.get(ALB_INBOUND_CIDRS, "").split(",") if x.strip()]
    if cidr_set(listed).all_private():
        return Exposure()
    return Exposure([f"{said} is {scheme!r}"])


@dataclass(frozen=True)
class ClassParams:
    """What a class-level parameters object (IngressClassParams, LoadBalancerConfiguration) sets for
    every load balancer of its class: ``None``/empty means it leaves the choice to the object."""

    source: str
    scheme: str | None = None
    inbound_cidrs: tuple[str, ...] = ()


def lbc_gateway_exposure(params: ClassParams) -> Exposure:
    """A Gateway of an AWS Load Balancer Controller class (``gateway.k8s.aws/alb``/``nlb``): its merged
    LoadBalancerConfiguration's ``scheme`` (default internal; the controller ignores the Gateway's
    infrastructure annotations), with ``sourceRanges`` all private keeping it off the internet."""
    if params.scheme is None or params.scheme == "internal":
        return Exposure()
    if cidr_set(params.inbound_cidrs).all_private():
        return Exposure()
    return Exposure([f"{params.source} spec.scheme is {params.scheme!r}"])
