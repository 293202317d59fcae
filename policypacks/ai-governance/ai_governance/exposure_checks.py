"""Resource-local exposure checks: a Service, Ingress, Gateway, security group (rule), EKS endpoint or
Argo CD release judged on its own fields. ``exposure`` combines them with what other resources in the
stack decide (class parameters, a group's other rules)."""

from __future__ import annotations

from typing import Any

from ai_platform_finops.resource_types import GATEWAYS

from . import aws, k8s, network
from .sg_merge import SECURITY_GROUP, SECURITY_GROUP_INGRESS_RULE, SECURITY_GROUP_RULE
from .framework import Check
from .props import MISSING, UNKNOWN, elements, flag, get, short, string_map, text
from .resources import Res

REMEDIATION = ("Use ClusterIP Services behind an ingress, or make the load balancer internal under every controller "
               "that may take it: annotate service.beta.kubernetes.io/aws-load-balancer-internal: \"true\" and "
               "service.beta.kubernetes.io/aws-load-balancer-scheme: internal (or set loadBalancerClass "
               "service.k8s.aws/nlb with scheme internal). In prod keep cluster.endpointAccess private (or "
               "bootstrap, limited to runnerCidrs); expose Argo CD only through argocd.ingress, which requires a TLS "
               "secret. docs/policies.md explains the semantics.")


def unrestricted_endpoint(res: Res, c: Check, field_prefix: str = "") -> str | None:
    """Why an EKS cluster's API endpoint is open to the internet, or None (unknowns recorded)."""
    vpc = get(res.props, "vpcConfig")
    public = get(vpc, "endpointPublicAccess")
    if public is UNKNOWN or vpc is UNKNOWN:
        c.unknown(f"{field_prefix}vpcConfig.endpointPublicAccess")
        return None
    if public is not MISSING and flag(public) is False:
        return None
    cidrs_raw = get(vpc, "publicAccessCidrs")
    if cidrs_raw is UNKNOWN:
        c.unknown(f"{field_prefix}vpcConfig.publicAccessCidrs")
        return None
    cidrs = [x for x in elements(cidrs_raw) if isinstance(x, str)]
    default = " (the AWS default)" if public is MISSING else ""
    if not cidrs:
        return f"the public API endpoint is on{default} and open to 0.0.0.0/0 (no publicAccessCidrs)"
    broad = network.too_broad(cidrs)
    if broad is not None:
        return f"the public API endpoint is open to {broad.describe()}"
    return None


def read_annotations(raw: Any, c: Check, where: str) -> dict[str, str] | None:
    if raw is UNKNOWN:
        c.unknown(where)
        return None
    annotations, unknown = string_map(raw)
    deciding = [k for k in unknown if k in network.DECIDING_ANNOTATIONS]
    if deciding:
        c.unknown(f"{where} {', '.join(deciding)}")
        return None
    return annotations


def service_exposure(spec: Any, annotations: dict[str, str], c: Check, where: str = "spec") -> network.Exposure | None:
    lb_class, ranges = get(spec, "loadBalancerClass"), get(spec, "loadBalancerSourceRanges")
    if not c.known(lb_class, f"{where}.loadBalancerClass") or not c.known(ranges, f"{where}.loadBalancerSourceRanges"):
        return None
    if UNKNOWN in elements(ranges):  # one unknown range may be the one that opens it
        c.unknown(f"{where}.loadBalancerSourceRanges")
        return None
    return network.service_exposure(annotations, text(lb_class), elements(ranges), c.config.strings("serviceControllers"))


def exposure_check(res: Res, c: Check) -> None:
    if res.type == k8s.SERVICE:
        kind = get(res.props, "spec", "type")
        if not c.known(kind, "spec.type"):
            return
        if kind != "LoadBalancer":
            return
        annotations = read_annotations(get(res.props, "metadata", "annotations"), c, "metadata.annotations")
        exposure = service_exposure(get(res.props, "spec"), annotations, c) if annotations is not None else None
        if exposure is not None and exposure.public:
            c.violation(f"{res.label}: a LoadBalancer Service is reachable from the internet: "
                        f"{'; '.join(exposure.reasons)}")
        return
    if res.type == aws.CLUSTER:
        if c.settings.environment not in c.config.strings("privateEndpointEnvironments"):
            return
        why = unrestricted_endpoint(res, c)
        if why:
            c.violation(f"{res.label}: {why}; in {c.settings.environment} keep it private or limit publicAccessCidrs")
        return
    if res.type in GATEWAYS:
        gateway_check(res, c)
        return
    if res.type in (SECURITY_GROUP, SECURITY_GROUP_RULE, SECURITY_GROUP_INGRESS_RULE):
        _ingress_cidrs_check(res, c)
        return
    if res.type in k8s.HELM_CHARTS and k8s.chart_name(res) in c.config.strings("argoCdCharts"):
        _argocd_check(res, c)


def gateway_check(res: Res, c: Check) -> None:
    gateway_class = get(res.props, "spec", "gatewayClassName")
    if not c.known(gateway_class, "spec.gatewayClassName"):
        return
    if isinstance(gateway_class, str) and gateway_class in c.config.strings("internalGatewayClasses"):
        return
    # Gateway implementations provision a LoadBalancer Service carrying spec.infrastructure.annotations:
    # it is judged as that Service, whose class and source ranges the Gateway cannot set.
    annotations = read_annotations(get(res.props, "spec", "infrastructure", "annotations"), c,
                               "spec.infrastructure.annotations")
    if annotations is None:
        return
    exposure = network.service_exposure(annotations, None, [], c.config.strings("serviceControllers"))
    if exposure.public:
        c.violation(f"{res.label}: the load balancer Gateway class {short(gateway_class)} provisions is reachable from "
                    f"the internet: {'; '.join(exposure.reasons)} (set spec.infrastructure.annotations, or list an "
                    "internal-only class in internalGatewayClasses)")


def _ingress_cidrs_check(res: Res, c: Check) -> None:
    """Security-group ingress from a too-broad set of networks (every listed prefix merged)."""
    if res.type == SECURITY_GROUP:
        rules = get(res.props, "ingress")
        if not c.known(rules, "ingress"):
            return
        blocks: list[tuple[str, Any]] = []
        for index, rule in enumerate(elements(rules)):
            blocks += [(f"ingress[{index}].cidrBlocks", get(rule, "cidrBlocks")),
                       (f"ingress[{index}].ipv6CidrBlocks", get(rule, "ipv6CidrBlocks"))]
    elif res.type == SECURITY_GROUP_RULE:
        kind = get(res.props, "type")
        if not c.known(kind, "type") or kind != "ingress":
            return
        blocks = [("cidrBlocks", get(res.props, "cidrBlocks")), ("ipv6CidrBlocks", get(res.props, "ipv6CidrBlocks"))]
    else:
        blocks = [("cidrIpv4", [get(res.props, "cidrIpv4")]), ("cidrIpv6", [get(res.props, "cidrIpv6")])]
    cidrs: list[Any] = []
    for where, raw in blocks:
        items = [raw] if raw is UNKNOWN else elements(raw)
        if UNKNOWN in items:
            c.unknown(where)
            continue
        cidrs.extend(items)
    broad = network.too_broad(cidrs)
    if broad is not None:
        c.violation(f"{res.label}: ingress is open to {broad.describe()}, too broad a part of the internet; allow "
                    "specific networks (or a prefix list / security group) instead")


def ingress_check(res: Res, c: Check) -> None:
    namespace = k8s.namespace_of(res)
    backends = []
    for rule in elements(get(res.props, "spec", "rules")):
        for path in elements(get(rule, "http", "paths")):
            backends.append(get(path, "backend", "service", "name"))
    backends.append(get(res.props, "spec", "defaultBackend", "service", "name"))
    argocd = namespace == "argocd" or any(isinstance(b, str) and b.endswith("argocd-server") for b in backends)
    if not argocd:
        return
    tls = get(res.props, "spec", "tls")
    if not c.known(tls, "spec.tls"):
        return
    if not elements(tls):
        c.violation(f"{res.label}: exposes the Argo CD server without TLS (spec.tls is empty)")


def _argocd_check(res: Res, c: Check) -> None:
    values = get(res.props, "values")
    if values is UNKNOWN:
        c.unknown("values")
        return
    server = get(values, "server")
    service_type = get(server, "service", "type")
    if service_type is UNKNOWN:
        c.unknown("values.server.service.type")
    elif service_type == "LoadBalancer":
        annotations = read_annotations(get(server, "service", "annotations"), c, "values.server.service.annotations")
        exposure = (service_exposure(get(server, "service"), annotations, c, "values.server.service")
                    if annotations is not None else None)
        if exposure is not None and exposure.public:
            c.violation(f"{res.label}: the Argo CD server Service is a public LoadBalancer: {'; '.join(exposure.reasons)}")
    ingress_enabled = get(server, "ingress", "enabled")
    if ingress_enabled is UNKNOWN:
        c.unknown("values.server.ingress.enabled")
        return
    if flag(ingress_enabled):
        tls = get(server, "ingress", "tls")
        extra = get(server, "ingress", "extraTls")
        if UNKNOWN in (tls, extra):
            c.unknown("values.server.ingress.tls")
            return
        if not flag(tls) and not elements(extra):
            c.violation(f"{res.label}: the Argo CD server ingress is enabled without TLS "
                        "(values.server.ingress.tls or extraTls)")
    insecure = get(values, "configs", "params", "server.insecure")
    if flag(insecure) and (service_type == "LoadBalancer" or flag(ingress_enabled)):
        c.violation(f"{res.label}: server.insecure (plain HTTP) with the server exposed outside the cluster; "
                    "terminate TLS at the ingress and keep it off the LoadBalancer")
