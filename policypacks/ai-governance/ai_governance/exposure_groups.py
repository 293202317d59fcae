"""IngressGroups of the AWS Load Balancer Controller: every Ingress of one group shares ONE ALB, so
an Ingress's exposure is its group's.

Source: kubernetes-sigs/aws-load-balancer-controller (``docs/guide/ingress/annotations.md``
"IngressGroup", ``pkg/ingress/group_loader.go``, ``pkg/ingress/model_build_load_balancer.go``,
``pkg/ingress/model_build_listener.go``, ``pkg/ingress/model_builder.go``):

- **Membership** (``loadGroupID``): the ``spec.group.name`` of the class's IngressClassParams, else
  the ``alb.ingress.kubernetes.io/group.name`` annotation, else an implicit group of the Ingress
  alone. A name outside ``^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$`` (or longer than 63) makes the controller
  refuse the Ingress; it is judged alone here (its own verdict, never a milder one).
- **Scheme** (``buildLoadBalancerScheme``): a member's scheme is its params' ``spec.scheme``, else its
  scheme annotation; members setting none do not count; none set: internal. Two different schemes
  are a ``conflicting scheme`` error for the whole group: no member is reconciled until it is
  resolved (the docs' "Exclusive" merge behaviour), a deployment error reported on every member
  that sets one.
- **Inbound CIDRs** (``computeIngressListenPortConfigByPort``, ``mergeListenPortConfigs``): per
  listen port, the CIDRs the members listening on it set explicitly (params, else annotation); a
  port where none sets any is open to ``0.0.0.0/0`` and ``::/0``. A member listens on its
  ``listen-ports`` (JSON), else on 443 when it names a certificate (annotation or params), else 80.
  A member whose ports cannot be read keeps its own CIDRs to itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import network
from .resources import Res

GROUP_NAME = "alb.ingress.kubernetes.io/group.name"
LISTEN_PORTS = "alb.ingress.kubernetes.io/listen-ports"
CERTIFICATE_ARN = "alb.ingress.kubernetes.io/certificate-arn"
_GROUP_NAME = re.compile(r"^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$")
_MAX_GROUP_NAME = 63
_MAX_LISTEN_PORTS = 4096
"""Longer listen-ports values are not parsed (they are read as unreadable ports)."""
INTERNAL = "internal"


def valid_group_name(name: str) -> bool:
    return len(name) <= _MAX_GROUP_NAME and _GROUP_NAME.match(name) is not None


def group_name(annotations: Mapping[str, str], params_group: str | None) -> str | None:
    """The explicit IngressGroup an Ingress joins, or None (alone: implicit, or a name the
    controller refuses)."""
    name = params_group if params_group is not None else annotations.get(GROUP_NAME)
    return name if name is not None and valid_group_name(name) else None


def listen_ports(annotations: Mapping[str, str], unknown: Iterable[str], params_certificates: bool) -> frozenset[str] | None:
    """The ports an Ingress listens on, or None when they cannot be read (unknown or invalid)."""
    unknown = set(unknown)
    if LISTEN_PORTS in unknown or (LISTEN_PORTS not in annotations and CERTIFICATE_ARN in unknown):
        return None
    raw = annotations.get(LISTEN_PORTS)
    if raw is None:
        certified = params_certificates or bool(annotations.get(CERTIFICATE_ARN, "").strip())
        return frozenset({"443" if certified else "80"})
    if len(raw) > _MAX_LISTEN_PORTS:
        return None
    try:
        entries = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entries, list) or not entries:
        return None
    ports: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            return None
        for protocol, port in entry.items():
            if protocol not in ("HTTP", "HTTPS") or not isinstance(port, int) or isinstance(port, bool) \
                    or not 1 <= port <= 65535:
                return None
            ports.add(str(port))
    return frozenset(ports)


@dataclass(frozen=True)
class Member:
    """What one ALB Ingress brings to its group."""

    res: Res
    group: str | None
    """The explicit group's name; None: the Ingress is alone."""
    scheme: str | None = None
    """The scheme it sets explicitly, and ``scheme_from`` what sets it."""
    scheme_from: str = network.ALB_SCHEME
    cidrs: tuple[str, ...] | None = None
    """The inbound CIDRs it sets explicitly (its params', else its annotation's); None: none."""
    ports: frozenset[str] | None = None
    """Its listen ports; None when they cannot be read."""

    @property
    def key(self) -> str:
        return f"group {self.group}" if self.group is not None else f"ingress {self.res.urn}"

    def port_keys(self) -> frozenset[str]:
        """Ports it shares with the group; unreadable ports are its own."""
        return self.ports if self.ports is not None else frozenset({f"? {self.res.urn}"})


def member(res: Res, annotations: Mapping[str, str], unknown: Iterable[str], params: network.ClassParams | None,
           params_group: str | None = None, params_certificates: bool = False) -> Member:
    """One ALB Ingress as a group member (its class's IngressClassParams beat its annotations)."""
    unknown = list(unknown)
    if params is not None and params.scheme is not None:
        scheme, scheme_from = params.scheme, f"{params.source} spec.scheme"
    else:
        scheme, scheme_from = annotations.get(network.ALB_SCHEME), network.ALB_SCHEME
    if params is not None and params.inbound_cidrs:
        cidrs: tuple[str, ...] | None = params.inbound_cidrs
    else:
        listed = tuple(x.strip() for x in annotations.get(network.ALB_INBOUND_CIDRS, "").split(",") if x.strip())
        cidrs = listed or None
    return Member(res, group_name(annotations, params_group), scheme, scheme_from, cidrs,
                  listen_ports(annotations, unknown, params_certificates))


@dataclass(frozen=True)
class Finding:
    """Why a member's ALB is reachable from the internet, or its group refused (``conflict``)."""

    reasons: list[str]
    conflict: bool = False


@dataclass
class _Group:
    members: list[Member] = field(default_factory=list)
    schemes: dict[str, list[Member]] = field(default_factory=dict)
    """Explicit scheme -> the members setting it."""
    cidrs: dict[str, list[Member]] = field(default_factory=dict)
    """Port -> the members listening on it that set inbound CIDRs."""
    private: dict[str, bool] = field(default_factory=dict)
    conflict: Finding | None = None


class Groups:
    """Every ALB Ingress of the stack by IngressGroup, each group summarised once (linear)."""

    def __init__(self, members: Sequence[Member]) -> None:
        self._groups: dict[str, _Group] = {}
        for m in members:
            group = self._groups.setdefault(m.key, _Group())
            group.members.append(m)
            if m.scheme is not None:
                group.schemes.setdefault(m.scheme, []).append(m)
            if m.cidrs is not None:
                for port in m.port_keys():
                    group.cidrs.setdefault(port, []).append(m)

    def judge(self, m: Member) -> Finding | None:
        group = self._groups[m.key]
        if len(group.schemes) > 1:
            if m.scheme is None:
                return None  # reported on the members that set a scheme
            if group.conflict is None:  # once per group: the members' reports share it
                said = "; ".join(f"{o.res.label}: {o.scheme_from} {s!r}" for s, found in sorted(group.schemes.items())
                                 for o in found)
                group.conflict = Finding([
                    f"IngressGroup {m.group} has conflicting schemes ({said}): the AWS Load Balancer Controller refuses "
                    "the whole group, reconciling none of its members; give every member the same scheme (internal)"],
                    conflict=True)
            return group.conflict
        if not group.schemes:
            return None  # the controller's default: internal
        scheme, setters = next(iter(group.schemes.items()))
        if scheme == INTERNAL:
            return None
        # Named by URN, not stack order, so the message is the same whatever order the stack lists them in.
        setter = m if m.scheme is not None else min(setters, key=lambda s: s.res.urn)
        said = f"{setter.scheme_from} is {scheme!r}"
        if setter is not m:
            said = f"IngressGroup {m.group} shares one ALB whose scheme {setter.res.label} sets ({said})"
        open_ports = [p for p in sorted(m.port_keys()) if not self._private(group, p)]
        if not open_ports:
            return None
        return Finding([said])

    @staticmethod
    def _private(group: _Group, port: str) -> bool:
        """The port's merged inbound CIDRs lie in private address space (none set: open), once per port."""
        if port not in group.private:
            setters = group.cidrs.get(port, [])
            listed = [cidr for s in setters for cidr in s.cidrs or ()]
            group.private[port] = bool(setters) and network.cidr_set(listed).all_private()
        return group.private[port]
