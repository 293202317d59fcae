"""The AWS load balancers a stack's resources will make, found wherever they are declared.

A load balancer is billed whoever creates it: the AWS provider (``aws:lb``), Kubernetes'
service controller for a ``Service`` of type ``LoadBalancer``, the AWS Load Balancer Controller
for an ``Ingress`` or a ``Gateway``, or any of those inside a Helm release whose values show
them. Each found one is a :class:`LoadBalancer`; the estimator prices it (hourly, capacity
units at the usage assumption, and a public IPv4 address per zone when internet-facing).

Rules (AWS Load Balancer Controller and in-tree cloud provider documentation):

- Service, ``spec.loadBalancerClass: service.k8s.aws/nlb`` or annotation
  ``service.beta.kubernetes.io/aws-load-balancer-type: external``/``nlb-ip``: an NLB made by the
  AWS Load Balancer Controller, internal unless ``aws-load-balancer-scheme: internet-facing``.
- Service, ``aws-load-balancer-type: nlb``: an NLB made by the in-tree provider, internet-facing
  unless ``aws-load-balancer-internal`` (any value but "false") or scheme ``internal``.
- Any other Service of type LoadBalancer: a Classic Load Balancer (in-tree), same scheme rule.
- Ingress of class ``alb`` (``spec.ingressClassName`` or the ``kubernetes.io/ingress.class``
  annotation), or with no class at all (assumed to be the AWS Load Balancer Controller's,
  with a note): an ALB, internal unless ``alb.ingress.kubernetes.io/scheme: internet-facing``;
  Ingresses sharing ``alb.ingress.kubernetes.io/group.name`` share one ALB. Other classes
  (nginx...) reuse their controller's own load balancer, found as its Service.
- Gateway: one load balancer each; an NLB when every listener is TCP, UDP or TLS, else an ALB;
  internal (the controller's default scheme) with a note.
- Helm release values: any mapping with ``type: LoadBalancer`` is a Service (its sibling
  ``annotations``/``loadBalancerClass`` apply); any mapping under an ``ingress`` key with
  ``enabled: true`` is an Ingress (``ingressClassName``/``className``, ``annotations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .resource_types import AWS_LOAD_BALANCERS, GATEWAYS, HELM_RELEASES, INGRESS, SERVICE
from .values import known_str, mapping, seq, unwrap

READ_TYPES = (SERVICE, INGRESS, *GATEWAYS, *HELM_RELEASES, *AWS_LOAD_BALANCERS)
"""Resource types whose inputs the finder reads."""

ALB, NLB, CLB = "ALB", "NLB", "CLB"
SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
INGRESS_CLASS = "kubernetes.io/ingress.class"
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"
ALB_GROUP = "alb.ingress.kubernetes.io/group.name"
LBC_NLB_CLASS = "service.k8s.aws/nlb"
L4_PROTOCOLS = {"TCP", "UDP", "TLS"}


@dataclass(frozen=True)
class LoadBalancer:
    resource: Mapping[str, Any]
    """The resource that declares it (its URN, name and project are the load balancer's)."""
    kind: str
    """ALB, NLB or CLB."""
    internet_facing: bool
    what: str
    """How it was found, for the basis: "Service ... type LoadBalancer"."""
    note: str | None = None
    """An assumption the finding rests on, if any."""


def _annotations(value: Any) -> Mapping[str, Any]:
    return mapping(mapping(value).get("annotations"))


def _service(spec: Mapping[str, Any], annotations: Mapping[str, Any]) -> tuple[str, bool, str]:
    """(kind, internet-facing, controller) of a Service of type LoadBalancer."""
    lb_type = (known_str(annotations.get(LB_TYPE)) or "").lower()
    scheme = (known_str(annotations.get(SCHEME)) or "").lower()
    if known_str(spec.get("loadBalancerClass")) == LBC_NLB_CLASS or lb_type in ("external", "nlb-ip"):
        return NLB, scheme == "internet-facing", "AWS Load Balancer Controller"
    internal = annotations.get(INTERNAL)
    is_internal = scheme == "internal" or (internal is not None and str(unwrap(internal)).lower() != "false")
    return (NLB if lb_type == "nlb" else CLB), not is_internal, "in-tree service controller"


def _ingress_class(spec: Mapping[str, Any], annotations: Mapping[str, Any], class_key: str = "ingressClassName") -> str | None:
    return known_str(spec.get(class_key)) or known_str(annotations.get(INGRESS_CLASS))


def _walk_values(value: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Mapping[str, Any]]]:
    value = unwrap(value)
    if isinstance(value, Mapping):
        yield path, value
        for key, child in value.items():
            yield from _walk_values(child, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            yield from _walk_values(child, (*path, str(index)))


class _Finder:
    def __init__(self) -> None:
        self.found: list[LoadBalancer] = []
        self.notes: list[str] = []
        self.groups: set[str] = set()

    def ingress(self, resource: Mapping[str, Any], spec: Mapping[str, Any], annotations: Mapping[str, Any],
                ingress_class: str | None, where: str) -> None:
        name = str(resource.get("name") or "ingress")
        if ingress_class not in (None, "alb"):
            self.notes.append(f"{where}: IngressClass {ingress_class!r} reuses its controller's own load balancer "
                              "(priced where its Service is declared): no load balancer of its own.")
            return
        group = known_str(annotations.get(ALB_GROUP))
        if group is not None:
            if group in self.groups:
                return  # one ALB per Ingress group
            self.groups.add(group)
        note = None
        if ingress_class is None:
            note = (f"{name}: {where} names no IngressClass: assumed to be served by the AWS Load Balancer "
                    "Controller (an ALB).")
        internet = (known_str(annotations.get(ALB_SCHEME)) or "").lower() == "internet-facing"
        group_text = f", group {group}" if group else ""
        self.found.append(LoadBalancer(resource, ALB, internet, f"{where} (class {ingress_class or 'none'}{group_text})", note))

    def service(self, resource: Mapping[str, Any], spec: Mapping[str, Any], annotations: Mapping[str, Any], where: str) -> None:
        kind, internet, controller = _service(spec, annotations)
        self.found.append(LoadBalancer(resource, kind, internet, f"{where} type LoadBalancer ({controller})"))

    def add(self, resource: Mapping[str, Any]) -> None:
        type_ = resource.get("type")
        inputs = mapping(resource.get("inputs"))
        if type_ == SERVICE:
            spec = mapping(inputs.get("spec"))
            if known_str(spec.get("type")) == "LoadBalancer":
                self.service(resource, spec, _annotations(inputs.get("metadata")), "Service")
        elif type_ == INGRESS:
            spec, annotations = mapping(inputs.get("spec")), _annotations(inputs.get("metadata"))
            self.ingress(resource, spec, annotations, _ingress_class(spec, annotations), "Ingress")
        elif type_ in GATEWAYS:
            spec = mapping(inputs.get("spec"))
            listeners = [known_str(mapping(item).get("protocol")) for item in seq(spec.get("listeners"))]
            layer4 = bool(listeners) and all(p in L4_PROTOCOLS for p in listeners)
            gateway_class = known_str(spec.get("gatewayClassName")) or "?"
            name = str(resource.get("name") or "gateway")
            self.found.append(LoadBalancer(
                resource, NLB if layer4 else ALB, False, f"Gateway (class {gateway_class})",
                f"{name}: a Gateway's scheme is set outside it (LoadBalancerConfiguration): internal assumed, "
                "the AWS Load Balancer Controller's default.",
            ))
        elif type_ in HELM_RELEASES:
            chart = known_str(inputs.get("chart")) or "?"
            for path, node in _walk_values(inputs.get("values"), ()):
                where = f"Helm release values {'.'.join(path) or '(root)'} (chart {chart})"
                if known_str(node.get("type")) == "LoadBalancer":
                    self.service(resource, node, _annotations(node), where)
                elif path and "ingress" in path[-1].lower() and unwrap(node.get("enabled")) is True:
                    annotations = _annotations(node)
                    cls = known_str(node.get("ingressClassName")) or known_str(node.get("className")) \
                        or known_str(annotations.get(INGRESS_CLASS))
                    self.ingress(resource, node, annotations, cls, where)
        elif type_ in AWS_LOAD_BALANCERS:
            kind = {"network": NLB, "gateway": NLB}.get(known_str(inputs.get("loadBalancerType")) or "application", ALB)
            internal = unwrap(inputs.get("internal")) is True
            self.found.append(LoadBalancer(resource, kind, not internal, "aws:lb LoadBalancer"))


def find(resources: Iterable[Mapping[str, Any]]) -> tuple[list[LoadBalancer], list[str]]:
    """The load balancers ``resources`` declare, in order, and notes on what was assumed or skipped."""
    finder = _Finder()
    for resource in resources:
        if isinstance(resource, Mapping) and resource.get("type") in READ_TYPES:
            finder.add(resource)
    return finder.found, finder.notes
