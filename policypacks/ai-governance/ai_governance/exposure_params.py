"""Class-level load-balancer parameters of the AWS Load Balancer Controller, resolved across the stack.

Source: kubernetes-sigs/aws-load-balancer-controller (``pkg/ingress/class_loader.go``,
``pkg/ingress/model_build_load_balancer.go``, ``controllers/gateway/config_resolver.go``,
``pkg/gateway/lb_config_merger.go``, ``config/crd``):

- **Ingress.** An Ingress's class is ``spec.ingressClassName``, else the IngressClass annotated
  ``ingressclass.kubernetes.io/is-default-class: "true"``. When that IngressClass's controller is
  ``ingress.k8s.aws/alb`` and its ``spec.parameters`` names ``elbv2.k8s.aws``/``IngressClassParams``
  (cluster-scoped), the params' ``spec.scheme`` beats every Ingress's scheme annotation and a
  non-empty ``spec.inboundCIDRs`` beats the inbound-cidrs annotation. Parameters of another group or
  kind make the controller refuse the Ingress (no load balancer).
- **Gateway.** A GatewayClass whose ``controllerName`` is ``gateway.k8s.aws/alb`` or ``/nlb`` may name
  a ``gateway.k8s.aws`` ``LoadBalancerConfiguration`` in ``spec.parametersRef`` (namespace required),
  a Gateway one in ``spec.infrastructure.parametersRef`` (in its own namespace). Set fields merge;
  on a conflict the class's config wins unless its ``mergingMode`` is ``prefer-gateway``. Without a
  scheme the load balancer is internal.

IngressClass and IngressClassParams ``*Patch`` objects are laid over the object of their name in the
stack (the API server's server-side apply: maps merge, set fields win); one whose object is outside
the stack stands alone. The params' ``spec.group.name`` and ``spec.certificateArn`` feed the
IngressGroup judgment (``exposure_groups``).

Parameters the stack does not hold cannot be read: an Ingress then keeps its annotations' verdict
(the rule judged it so before it looked at classes), a Gateway of a controller class fails closed
(as a Gateway whose load balancer the rule cannot read always has).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import k8s, network
from .k8s import helm_files
from .framework import Check
from .props import MISSING, UNKNOWN, elements, get, string_map, text
from .resources import Res, Stack

INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
INGRESS_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
GATEWAY_CLASSES = ("kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
                   "kubernetes:gateway.networking.k8s.io/v1beta1:GatewayClass")
LB_CONFIGURATIONS = ("kubernetes:gateway.k8s.aws/v1:LoadBalancerConfiguration",
                     "kubernetes:gateway.k8s.aws/v1beta1:LoadBalancerConfiguration")
ALB_INGRESS_CONTROLLER = "ingress.k8s.aws/alb"
LBC_GATEWAY_CONTROLLERS = ("gateway.k8s.aws/alb", "gateway.k8s.aws/nlb")
PARAMS_GROUP, PARAMS_KIND = "elbv2.k8s.aws", "IngressClassParams"
LB_CONFIG_GROUP, LB_CONFIG_KIND = "gateway.k8s.aws", "LoadBalancerConfiguration"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
PREFER_GATEWAY = "prefer-gateway"


@dataclass
class Classes:
    """The stack's IngressClasses, IngressClassParams, GatewayClasses and LoadBalancerConfigurations by name."""

    ingress_classes: dict[str, Res] = field(default_factory=dict)
    default_ingress_classes: list[str] = field(default_factory=list)
    params: dict[str, Res] = field(default_factory=dict)
    gateway_classes: dict[str, Res] = field(default_factory=dict)
    lb_configs: dict[tuple[str, str], Res] = field(default_factory=dict)


def _name(res: Res) -> str | None:
    return text(get(res.props, "metadata", "name"))


def _by_name(stack: Stack, type_: str) -> dict[str, Res]:
    """The objects of ``type_`` by name, each with the fields of its server-side-apply Patches in the
    stack laid over it (maps merge key by key, anything else the patch sets wins). A Patch of an
    object the stack does not hold stands alone: a field it leaves out keeps the live object's value,
    which reads as unset here (a class then falls back to its name, parameters to the annotations)."""
    found: dict[str, Res] = {}
    for res in stack.of_type(type_):
        name = _name(res)
        if name is not None:
            found[name] = res
    for res in stack.of_type(type_ + k8s.PATCH):
        name = _name(res)
        if name is None:
            continue
        base = found.get(name)
        found[name] = res if base is None else replace(base, props=helm_files.merge(base.props, res.props))
    return found


def build_classes(stack: Stack) -> Classes:
    found = Classes()
    found.ingress_classes = _by_name(stack, INGRESS_CLASS)
    for name, res in found.ingress_classes.items():
        annotations, _ = string_map(get(res.props, "metadata", "annotations"))
        if annotations.get(DEFAULT_CLASS) == "true":
            found.default_ingress_classes.append(name)
    found.params = _by_name(stack, INGRESS_CLASS_PARAMS)
    for res in stack.of_type(*GATEWAY_CLASSES):
        name = _name(res)
        if name is not None:
            found.gateway_classes[name] = res
    for res in stack.of_type(*LB_CONFIGURATIONS):
        name = _name(res)
        if name is not None:
            found.lb_configs[(k8s.namespace_of(res) or "default", name)] = res
    return found


def classes(stack: Stack) -> Classes:
    """Built once per AnalyzeStack call."""
    return stack.index("exposure-classes", build_classes)


# --- Ingress ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IngressClassView:
    """What the stack says about an Ingress's class."""

    alb: bool | None
    """The class is the AWS Load Balancer Controller's (None: the stack has no IngressClass of that name)."""
    params: network.ClassParams | None = None
    refused: str | None = None
    """Why the controller refuses every Ingress of the class (no load balancer), else None."""
    group: str | None = None
    """The IngressGroup the params put every Ingress of the class in (``spec.group.name``; it beats
    the Ingress's group.name annotation)."""
    certificates: bool = False
    """The params name certificates (``spec.certificateArn``): an Ingress without listen-ports then
    listens on 443 instead of 80."""


def ingress_class_view(name: str, by: Classes, c: Check, urn: str) -> IngressClassView | None:
    """The class ``name`` as the stack declares it; None when a deciding field is unknown (recorded)."""
    cls = by.ingress_classes.get(name)
    if cls is None:
        return IngressClassView(alb=None)
    where = f"IngressClass {name}"
    controller = get(cls.props, "spec", "controller")
    if not c.known(controller, f"spec.controller of {where}", urn):
        return None
    if controller is MISSING and cls.type == INGRESS_CLASS + k8s.PATCH:
        alb: bool | None = None  # the live object's controller: the class's name decides (albIngressClasses)
    elif controller != ALB_INGRESS_CONTROLLER:
        return IngressClassView(alb=False)
    else:
        alb = True
    ref = get(cls.props, "spec", "parameters")
    if not c.known(ref, f"spec.parameters of {where}", urn):
        return None
    if ref is MISSING:
        return IngressClassView(alb=alb)
    group, kind, params_name = get(ref, "apiGroup"), get(ref, "kind"), get(ref, "name")
    for value, what in ((group, "apiGroup"), (kind, "kind"), (params_name, "name")):
        if not c.known(value, f"spec.parameters.{what} of {where}", urn):
            return None
    if group != PARAMS_GROUP or kind != PARAMS_KIND:
        return IngressClassView(alb=alb, refused=f"{where} names parameters the controller does not know")
    params = by.params.get(params_name) if isinstance(params_name, str) else None
    if params is None:
        return IngressClassView(alb=alb)  # outside the stack: the annotations' verdict stands
    source = f"IngressClassParams {params_name}"
    scheme, cidrs, group, certs = (get(params.props, "spec", *f) for f in (
        ("scheme",), ("inboundCIDRs",), ("group", "name"), ("certificateArn",)))
    for value, what in ((scheme, "scheme"), (cidrs, "inboundCIDRs"), (group, "group.name"), (certs, "certificateArn")):
        if not c.known(value, f"spec.{what} of {source}", urn):
            return None
    listed = elements(cidrs)
    if UNKNOWN in listed:
        c.unknown(f"spec.inboundCIDRs of {source}", urn)
        return None
    return IngressClassView(alb=alb, params=network.ClassParams(
        source, text(scheme), tuple(x for x in listed if isinstance(x, str))), group=text(group) or None,
        certificates=bool(elements(certs)))


def default_ingress_class(by: Classes) -> str | None:
    """The one default IngressClass (several make the controller refuse classless Ingresses: none counts)."""
    return by.default_ingress_classes[0] if len(by.default_ingress_classes) == 1 else None


# --- Gateway ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GatewayClassView:
    lbc: bool | None
    """The class is the AWS Load Balancer Controller's (None: no GatewayClass of that name in the stack)."""
    params: network.ClassParams | None = None
    unreadable: str | None = None
    """A referenced LoadBalancerConfiguration the stack does not hold."""


def _lb_config(ref: Any, namespace: str | None, where: str, by: Classes, c: Check, urn: str
               ) -> tuple[bool, Res | None, str | None]:
    """(decided, config, unreadable) for one parametersRef; decided False when something is unknown."""
    if not c.known(ref, where, urn):
        return False, None, None
    if ref is MISSING:
        return True, None, None
    name = get(ref, "name")
    ns = get(ref, "namespace") if namespace is None else namespace
    if not c.known(name, f"{where}.name", urn) or not c.known(ns, f"{where}.namespace", urn):
        return False, None, None
    if not isinstance(name, str) or not isinstance(ns, str):
        return True, None, None  # the controller rejects a class reference without a namespace
    found = by.lb_configs.get((ns, name))
    return True, found, None if found is not None else f"LoadBalancerConfiguration {ns}/{name}"


def gateway_class_view(name: str, gateway: Res, by: Classes, c: Check) -> GatewayClassView | None:
    cls = by.gateway_classes.get(name)
    if cls is None:
        return GatewayClassView(lbc=None)
    urn = gateway.urn
    controller = get(cls.props, "spec", "controllerName")
    if not c.known(controller, f"spec.controllerName of GatewayClass {name}", urn):
        return None
    if controller not in LBC_GATEWAY_CONTROLLERS:
        return GatewayClassView(lbc=False)
    ok_class, class_config, missing_class = _lb_config(
        get(cls.props, "spec", "parametersRef"), None, f"spec.parametersRef of GatewayClass {name}", by, c, urn)
    ok_gw, gw_config, missing_gw = _lb_config(
        get(gateway.props, "spec", "infrastructure", "parametersRef"), k8s.namespace_of(gateway) or "default",
        "spec.infrastructure.parametersRef", by, c, urn)
    if not ok_class or not ok_gw:
        return None
    unreadable = missing_class or missing_gw
    if unreadable is not None:
        return GatewayClassView(lbc=True, unreadable=unreadable)
    return _merged(class_config, gw_config, c, urn)


def _spec_fields(config: Res | None, c: Check, urn: str) -> tuple[bool, Any, Any, Any]:
    if config is None:
        return True, MISSING, MISSING, MISSING
    what = f"LoadBalancerConfiguration {config.name}"
    scheme, ranges, mode = (get(config.props, "spec", f) for f in ("scheme", "sourceRanges", "mergingMode"))
    known = all([c.known(scheme, f"spec.scheme of {what}", urn), c.known(ranges, f"spec.sourceRanges of {what}", urn),
                 c.known(mode, f"spec.mergingMode of {what}", urn)])
    if known and UNKNOWN in elements(ranges):
        c.unknown(f"spec.sourceRanges of {what}", urn)
        known = False
    return known, scheme, ranges, mode


def _merged(class_config: Res | None, gw_config: Res | None, c: Check, urn: str) -> GatewayClassView | None:
    ok_c, scheme_c, ranges_c, mode = _spec_fields(class_config, c, urn)
    ok_g, scheme_g, ranges_g, _ = _spec_fields(gw_config, c, urn)
    if not ok_c or not ok_g:
        return None
    first, second = (gw_config, class_config) if mode == PREFER_GATEWAY else (class_config, gw_config)
    fields = {id(class_config): (scheme_c, ranges_c), id(gw_config): (scheme_g, ranges_g)}
    (scheme_hi, ranges_hi), (scheme_lo, ranges_lo) = fields[id(first)], fields[id(second)]
    scheme_from = first if scheme_hi is not MISSING else second
    scheme = scheme_hi if scheme_hi is not MISSING else scheme_lo
    ranges = ranges_hi if ranges_hi is not MISSING else ranges_lo
    source = (f"LoadBalancerConfiguration {_name(scheme_from) or scheme_from.name}" if scheme_from is not None
              else "the controller default")
    return GatewayClassView(lbc=True, params=network.ClassParams(
        source, text(scheme), tuple(x for x in elements(ranges) if isinstance(x, str))))
