"""``no-public-exposure`` as a stack rule: what puts a service on the internet often lives in another
resource (an Ingress's IngressClassParams, a Gateway's LoadBalancerConfiguration, the other rules of
a security group, the other members of an IngressGroup), so the rule reads the whole stack once per
``AnalyzeStack``, with its indexes built once (``exposure_params.classes``, ``sg_merge.groups``,
and the rule's own ``exposure_groups.Groups``, which needs the rule's settings and records its
unknowns, so it is built in the rule's one pass rather than shared through ``Stack.index``).

Resource-local judgments (LoadBalancer Services, the EKS endpoint, Argo CD's chart values, the
Argo CD Ingress's TLS) are ``exposure_checks``', applied here to each resource, except what
``exposure_local.public_everywhere`` decides: ``no-public-load-balancer`` reports that at
``Analyze``, so a finding appears once. Ingresses are judged with their IngressGroup
(``exposure_groups``). Server-side-apply ``*Patch`` variants are judged on the fields they set: a
field a patch leaves out keeps the live object's value, which the stack cannot show.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.resource_types import GATEWAYS

from . import aws, exposure_checks, exposure_groups, exposure_local, exposure_params, k8s, network, sg_merge
from .framework import Check, Setting, aws_config_rules, stack_rule
from .props import MISSING, get, short, string_map, text
from .resources import Res, Stack

SERVICE_PATCH = exposure_local.SERVICE_PATCH
INGRESS_PATCH = k8s.INGRESS + k8s.PATCH
GATEWAY_PATCHES = tuple(t + k8s.PATCH for t in GATEWAYS)
_LOCAL = (k8s.SERVICE, aws.CLUSTER, *k8s.HELM_CHARTS)
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


class _At(Check):
    """The rule's one evaluation, seen from one resource: what is reported names that resource."""

    def __init__(self, parent: Check, urn: str) -> None:  # shares the parent's state
        self.policy, self.settings, self.config = parent.policy, parent.settings, parent.config
        self._report, self._urn = parent._report, urn  # noqa: SLF001 (the same class's state)
        self.unknowns, self.advisories, self.violations = parent.unknowns, parent.advisories, 0
        self._parent = parent

    def violation(self, message: str, urn: str | None = None) -> None:
        self._parent.violation(message, urn or self._urn)

    def unknown(self, what: str, urn: str | None = None) -> None:
        self._parent.unknown(what, urn or self._urn)


def _check(stack: Stack, c: Check) -> None:
    for res in stack.of_type(*_LOCAL, SERVICE_PATCH):
        if exposure_local.public_everywhere(res) is not None:
            continue  # no-public-load-balancer's finding, reported at Analyze
        if res.type == SERVICE_PATCH:
            _service_patch(res, _At(c, res.urn))
        else:
            exposure_checks.exposure_check(res, _At(c, res.urn))
    by = exposure_params.classes(stack) if stack.of_type(k8s.INGRESS, INGRESS_PATCH, *GATEWAYS, *GATEWAY_PATCHES) else None
    if by is not None:
        _ingresses(stack, by, c)
    for res in stack.of_type(k8s.INGRESS, INGRESS_PATCH):
        if res.type == k8s.INGRESS or get(res.props, "spec", "tls") is not MISSING:
            exposure_checks.ingress_check(res, _At(c, res.urn))
    for res in stack.of_type(*GATEWAYS, *GATEWAY_PATCHES):
        assert by is not None
        _gateway(res, by, _At(c, res.urn))
    _security_groups(stack, c)


# --- Services ----------------------------------------------------------------------------------------

def _service_patch(res: Res, c: Check) -> None:
    """A ServicePatch that makes the Service a LoadBalancer is judged like a Service on the annotations
    it sets; one that leaves the type to the live object is judged only on the deciding annotations
    it sets (an annotation it does not set is not read as absent)."""
    kind = get(res.props, "spec", "type")
    if not c.known(kind, "spec.type") or (kind is not MISSING and kind != "LoadBalancer"):
        return
    annotations = exposure_checks.read_annotations(get(res.props, "metadata", "annotations"), c, "metadata.annotations")
    if annotations is None:
        return
    if kind is MISSING:
        reasons = []
        if network.INTERNAL in annotations:
            reasons.append(network.in_tree_public(annotations))
        reasons.append(network.lbc_public(annotations))
        found = [r for r in reasons if r]
        if found:
            c.violation(f"{res.label}: the patch sets annotations that make the Service's load balancer reachable "
                        f"from the internet: {'; '.join(found)}")
        return
    exposure = exposure_checks.service_exposure(get(res.props, "spec"), annotations, c)
    if exposure is not None and exposure.public:
        c.violation(f"{res.label}: the patch makes a LoadBalancer Service reachable from the internet: "
                    f"{'; '.join(exposure.reasons)}")


# --- Ingresses ---------------------------------------------------------------------------------------

def _member(res: Res, by: exposure_params.Classes, c: Check) -> exposure_groups.Member | None:
    """The Ingress as a member of an ALB IngressGroup; None when no ALB of the AWS Load Balancer
    Controller serves it, or something deciding is unknown (recorded)."""
    patch = res.type == INGRESS_PATCH
    raw = get(res.props, "metadata", "annotations")
    annotations = exposure_checks.read_annotations(raw, c, "metadata.annotations")
    spec_class = get(res.props, "spec", "ingressClassName")
    if annotations is None or not c.known(spec_class, "spec.ingressClassName"):
        return None
    unknown = string_map(raw)[1]
    if exposure_groups.GROUP_NAME in unknown:
        c.unknown(f"metadata.annotations {exposure_groups.GROUP_NAME}")
        return None
    by_field = text(spec_class) or None
    name = network.ingress_class(spec_class, annotations)
    if name is None and not patch:
        name = by_field = exposure_params.default_ingress_class(by)
    view = None
    if by_field is not None:  # the older annotation names no IngressClass: no parameters
        view = exposure_params.ingress_class_view(by_field, by, c, res.urn)
        if view is None:
            return None
    if view is not None and view.alb is not None:
        if not view.alb or view.refused:
            return None  # another controller's (its own Service is judged), or refused by the controller
    elif name is not None and name not in c.config.strings("albIngressClasses"):
        return None  # another controller's exposure is its own LoadBalancer Service's
    # No class (or, for a patch, the live object's): judged by the ALB annotations it carries.
    if view is None:
        return exposure_groups.member(res, annotations, unknown, None)
    return exposure_groups.member(res, annotations, unknown, view.params, view.group, view.certificates)


def _ingresses(stack: Stack, by: exposure_params.Classes, c: Check) -> None:
    """Every ALB Ingress judged with its IngressGroup (one ALB for all its members), the groups
    indexed once per call."""
    members = [m for res in stack.of_type(k8s.INGRESS, INGRESS_PATCH)
               if (m := _member(res, by, _At(c, res.urn))) is not None]
    groups = exposure_groups.Groups(members)
    for m in members:
        found = groups.judge(m)
        if found is None:
            continue
        if found.conflict:
            c.violation(f"{m.res.label}: {'; '.join(found.reasons)}", m.res.urn)
        else:
            c.violation(f"{m.res.label}: an internet-facing ALB Ingress: {'; '.join(found.reasons)}; use scheme "
                        f"internal (on the IngressClassParams when it sets one) or {network.ALB_INBOUND_CIDRS} inside "
                        "private address space", m.res.urn)


# --- Gateways ----------------------------------------------------------------------------------------

_GATEWAY_FIELDS = (("spec", "gatewayClassName"), ("spec", "infrastructure"))


def _gateway(res: Res, by: exposure_params.Classes, c: Check) -> None:
    if res.type in GATEWAY_PATCHES and all(get(res.props, *f) is MISSING for f in _GATEWAY_FIELDS):
        return  # sets nothing that decides exposure: the live Gateway's is unchanged
    gateway_class = get(res.props, "spec", "gatewayClassName")
    if not c.known(gateway_class, "spec.gatewayClassName"):
        return
    if isinstance(gateway_class, str) and gateway_class in c.config.strings("internalGatewayClasses"):
        return
    view = exposure_params.gateway_class_view(gateway_class, res, by, c) if isinstance(gateway_class, str) else None
    if isinstance(gateway_class, str) and view is None:
        return  # something deciding is unknown (recorded)
    if view is not None and view.lbc:
        if view.unreadable is not None:
            c.violation(f"{res.label}: Gateway class {short(gateway_class)} takes its scheme from {view.unreadable}, "
                        "which is not in the stack, so whether its load balancer is internet-facing cannot be read")
            return
        assert view.params is not None
        exposure = network.lbc_gateway_exposure(view.params)
        if exposure.public:
            c.violation(f"{res.label}: the load balancer the AWS Load Balancer Controller provisions for Gateway class "
                        f"{short(gateway_class)} is reachable from the internet: {'; '.join(exposure.reasons)} (set "
                        "scheme internal, or sourceRanges inside private address space)")
        return
    exposure_checks.gateway_check(res, c)


# --- security groups ---------------------------------------------------------------------------------

def _security_groups(stack: Stack, c: Check) -> None:
    for group in sg_merge.groups(stack, c):
        for item in sg_merge.too_open(group):
            sources = [r for r in item.sources if r.label != group.label]
            across = f" (rules: {', '.join(r.label for r in sources)})" if sources else ""
            c.violation(f"{group.label}: ingress on {sg_merge.describe_ports(item)} is open to {item.cidrs.describe()}"
                        f"{across}, too broad a part of the internet; allow specific networks (or a prefix list / "
                        "security group) instead", group.urn)


NO_PUBLIC_EXPOSURE = stack_rule(
    name="no-public-exposure",
    description="No LoadBalancer Service, ALB Ingress or Gateway (nor a Patch of one) reachable from the internet, read "
                "with the in-tree and AWS Load Balancer Controller semantics, including IngressClassParams and "
                "LoadBalancerConfiguration schemes in the stack and each IngressGroup's one shared ALB (conflicting "
                "schemes refuse the group); a Service public under every controller is no-public-load-balancer's; "
                "no security-group ingress from too broad a set of "
                "networks on any port, merged across the group's inline rules and rule resources; no unrestricted "
                "public EKS endpoint in prod; the Argo CD server never exposed without TLS.",
    severity=Severity.CRITICAL,
    remediation=exposure_checks.REMEDIATION,
    check=_check,
    settings_=(Setting("privateEndpointEnvironments", _STRINGS, ["prod"],
                       "Environments where the EKS API endpoint must not be open to the internet."),
               Setting("argoCdCharts", _STRINGS, ["argo-cd"], "Helm chart names that install Argo CD."),
               Setting("serviceControllers", _STRINGS, list(network.CONTROLLERS),
                       "Controllers that may reconcile a LoadBalancer Service naming no loadBalancerClass: 'in-tree' "
                       "(the cloud provider's) and 'aws-load-balancer-controller' (its Service webhook claims such "
                       "Services); it must be internal under each."),
               Setting("albIngressClasses", _STRINGS, ["alb"],
                       "Ingress classes the AWS Load Balancer Controller serves when the stack holds no IngressClass "
                       "of that name (one in the stack is judged by its spec.controller)."),
               Setting("internalGatewayClasses", _STRINGS, [],
                       "Gateway classes that only ever provision internal load balancers (e.g. VPC Lattice's).")),
    framework=aws_config_rules("EKS_ENDPOINT_NO_PUBLIC_ACCESS, RESTRICTED_INCOMING_TRAFFIC, INCOMING_SSH_DISABLED"),
    tags=["security", "network"],
)

POLICIES = [*exposure_local.POLICIES, NO_PUBLIC_EXPOSURE]

__all__ = ["POLICIES"]
