"""``no-public-load-balancer``: the part of exposure a resource decides on its own, blocked at
``Analyze``, before the engine creates the resource (a stack rule reports only once the stack is
done, after creation under ``pulumi up --skip-preview``).

A LoadBalancer Service (or a ServicePatch that makes one) whose own fields put its load balancer
on the internet under *every* controller that may reconcile it (``network.service_exposure`` with
each of ``network.CONTROLLERS``): no setting (``serviceControllers`` only narrows the controllers)
and no other resource can change that verdict. ``no-public-exposure`` skips exactly what
``public_everywhere`` decides (the one shared predicate, which reads the same fields in the inputs
``Analyze`` gets and the outputs ``AnalyzeStack`` gets), so a finding appears once. Everything else
stays with the stack rule: a verdict that depends on ``serviceControllers`` (no annotation is public
only in-tree), any value unknown at preview, and Ingresses and Gateways, whose controller is always
a setting (``albIngressClasses``) or another object (IngressClass, IngressClassParams, IngressGroup,
GatewayClass).
"""

from __future__ import annotations

from pulumi_policy import Severity

from . import exposure_checks, k8s, network
from .framework import Check, resource_rule
from .props import UNKNOWN, elements, get, string_map, text
from .resources import Res

SERVICE_PATCH = k8s.SERVICE + k8s.PATCH
TYPES = (k8s.SERVICE, SERVICE_PATCH)


def public_everywhere(res: Res) -> network.Exposure | None:
    """Why a Service's (or a ServicePatch's) own fields make its load balancer reachable from the
    internet under every controller that may take it; None when they do not, or when a deciding
    value is unknown (the stack rule then judges it, unknowns included)."""
    if res.type not in TYPES or get(res.props, "spec", "type") != "LoadBalancer":
        return None
    raw = get(res.props, "metadata", "annotations")
    if raw is UNKNOWN:
        return None
    annotations, unknown = string_map(raw)
    lb_class, ranges = get(res.props, "spec", "loadBalancerClass"), get(res.props, "spec", "loadBalancerSourceRanges")
    if (any(k in network.DECIDING_ANNOTATIONS for k in unknown) or UNKNOWN in (lb_class, ranges)
            or UNKNOWN in elements(ranges)):
        return None
    listed = elements(ranges)
    if not all(network.service_exposure(annotations, text(lb_class), listed, [c]).public for c in network.CONTROLLERS):
        return None
    return network.service_exposure(annotations, text(lb_class), listed, network.CONTROLLERS)


def _check(res: Res, c: Check) -> None:
    exposure = public_everywhere(res)
    if exposure is None:
        return
    what = "the patch makes a LoadBalancer Service reachable" if res.type == SERVICE_PATCH else \
        "a LoadBalancer Service is reachable"
    c.violation(f"{res.label}: {what} from the internet: {'; '.join(exposure.reasons)}")


NO_PUBLIC_LOAD_BALANCER = resource_rule(
    name="no-public-load-balancer",
    description="No LoadBalancer Service (nor a ServicePatch making one) whose own fields make its load balancer "
                "internet-facing under every controller that may reconcile it (the in-tree cloud provider and the AWS "
                "Load Balancer Controller), blocked before the resource is created; no-public-exposure judges "
                "everything that depends on settings or on other resources.",
    severity=Severity.CRITICAL,
    remediation=exposure_checks.REMEDIATION,
    types=TYPES,
    check=_check,
    tags=["security", "network"],
)

POLICIES = [NO_PUBLIC_LOAD_BALANCER]
