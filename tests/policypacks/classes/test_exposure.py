"""Exposure: no-public-exposure covers every LoadBalancer Service, ALB Ingress and Gateway in the stack,
read with the controllers' real semantics (ai_governance/network.py cites them):

- in-tree AWS cloud provider: internal iff ``aws-load-balancer-internal`` is non-empty and not "false";
  it ignores ``aws-load-balancer-scheme``;
- AWS Load Balancer Controller: ``aws-load-balancer-scheme`` decides, else the legacy annotation as a
  Go bool, else internal; ALB Ingresses default to internal.

A Service naming no class must be internal under both (``serviceControllers`` narrows that).
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

RULE = "no-public-exposure"
SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"
LBC_ONLY = {"no_public_exposure": {"serviceControllers": ["aws-load-balancer-controller"]}}
IN_TREE_ONLY = {"no_public_exposure": {"serviceControllers": ["in-tree"]}}


def lb(annotations: dict[str, Any] | None = None, **spec: Any) -> RecordedResource:
    svc = b.service("edge", "tenant-a", "LoadBalancer", annotations)
    svc.inputs["spec"].update(spec)
    return svc


def ingress(annotations: dict[str, str] | None = None, class_name: str | None = "alb") -> RecordedResource:
    spec: dict[str, Any] = {"rules": [{"host": "app.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "app", "port": {"number": 80.0}}}}]}}]}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    metadata: dict[str, Any] = {"name": "app", "namespace": "tenant-a"}
    if annotations:
        metadata["annotations"] = annotations
    return b.k8s("kubernetes:networking.k8s.io/v1:Ingress", "app-ing", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec})


def gateway(class_name: str = "eg", annotations: dict[str, str] | None = None,
            version: str = "v1") -> RecordedResource:
    spec: dict[str, Any] = {"gatewayClassName": class_name,
                            "listeners": [{"name": "http", "port": 80.0, "protocol": "HTTP"}]}
    if annotations is not None:
        spec["infrastructure"] = {"annotations": annotations}
    return b.k8s(f"kubernetes:gateway.networking.k8s.io/{version}:Gateway", "edge-gw", {
        "apiVersion": f"gateway.networking.k8s.io/{version}", "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": "tenant-a"}, "spec": spec})


BOTH_INTERNAL = {SCHEME: "internal", INTERNAL: "true"}

CASES: list[Case] = [
    # --- Services: internal under every controller that may take them ---
    allowed("internal-under-both-controllers", adding(lb(BOTH_INTERNAL)), RULE),
    allowed("legacy-true-alone-is-internal-under-both", adding(lb({INTERNAL: "true"})), RULE),
    allowed("legacy-go-bool-spelling-under-both", adding(lb({INTERNAL: "True"})), RULE),
    disallowed("no-annotation-is-public-in-tree", adding(lb()), RULE, message="in-tree controller"),
    disallowed("scheme-internal-alone-is-public-in-tree", adding(lb({SCHEME: "internal"})), RULE,
               message="in-tree controller"),
    allowed("scheme-internal-alone-when-only-the-lbc-takes-services", adding(lb({SCHEME: "internal"})), RULE,
            **LBC_ONLY),
    allowed("no-annotation-is-internal-by-lbc-default", adding(lb()), RULE, **LBC_ONLY),
    disallowed("legacy-false-is-public", adding(lb({INTERNAL: "false"})), RULE),
    disallowed("legacy-empty-is-public-in-tree", adding(lb({INTERNAL: ""})), RULE, **IN_TREE_ONLY),
    # The in-tree provider treats any non-empty value but "false" as internal, the LBC parses a Go bool.
    allowed("legacy-cidr-value-is-internal-in-tree", adding(lb({INTERNAL: "0.0.0.0/0"})), RULE, **IN_TREE_ONLY),
    disallowed("legacy-cidr-value-is-no-bool-for-the-lbc", adding(lb({INTERNAL: "0.0.0.0/0"})), RULE,
               message="no bool"),
    allowed("legacy-capital-false-is-internal-in-tree", adding(lb({INTERNAL: "False"})), RULE, **IN_TREE_ONLY),
    disallowed("legacy-capital-false-is-false-for-the-lbc", adding(lb({INTERNAL: "False"})), RULE, **LBC_ONLY),
    disallowed("scheme-beats-the-legacy-annotation", adding(lb({SCHEME: "internet-facing", INTERNAL: "true"})), RULE,
               message="'internet-facing'"),
    disallowed("scheme-misspelled", adding(lb({SCHEME: "Internal", INTERNAL: "true"})), RULE, message="'Internal'"),
    # --- which controller: the class and the load-balancer type ---
    allowed("lbc-class-scheme-internal", adding(lb({SCHEME: "internal"}, loadBalancerClass="service.k8s.aws/nlb")),
            RULE),
    allowed("lbc-class-defaults-internal", adding(lb(loadBalancerClass="service.k8s.aws/nlb")), RULE),
    disallowed("lbc-class-internet-facing", adding(lb({SCHEME: "internet-facing"},
                                                      loadBalancerClass="service.k8s.aws/nlb")), RULE),
    allowed("lbc-type-external-scheme-internal", adding(lb({LB_TYPE: "external", SCHEME: "internal"})), RULE),
    allowed("lbc-type-nlb-ip-defaults-internal", adding(lb({LB_TYPE: "nlb-ip"})), RULE),
    disallowed("in-tree-nlb-type-without-internal", adding(lb({LB_TYPE: "nlb", SCHEME: "internal"})), RULE),
    disallowed("unknown-class-fails-closed", adding(lb(BOTH_INTERNAL, loadBalancerClass="example.com/lb")), RULE,
               message="example.com/lb"),
    disallowed("class-unknown-at-preview", adding(lb(BOTH_INTERNAL, loadBalancerClass=UNKNOWN)), RULE,
               message="cannot verify spec.loadBalancerClass"),
    disallowed("deciding-annotation-unknown", adding(lb({INTERNAL: UNKNOWN})), RULE, message="cannot verify"),
    allowed("unrelated-annotation-unknown", adding(lb({**BOTH_INTERNAL, "external-dns.alpha.kubernetes.io/hostname":
                                                       UNKNOWN})), RULE),
    # --- source ranges ---
    allowed("public-scheme-private-source-ranges", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "192.168.0.0/16"])),
            RULE),
    disallowed("public-scheme-mixed-source-ranges", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "8.8.8.0/24"])),
               RULE),
    disallowed("public-scheme-invalid-source-range", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "ten"])), RULE),
    # --- every Service, not only Argo CD's; ClusterIP and NodePort are not load balancers ---
    allowed("cluster-ip", adding(b.service("web", "tenant-a", "ClusterIP")), RULE),
    allowed("node-port", adding(b.service("web", "tenant-a", "NodePort")), RULE),
    # --- Ingresses ---
    disallowed("alb-ingress-internet-facing", adding(ingress({ALB_SCHEME: "internet-facing"})), RULE,
               message="internet-facing ALB Ingress"),
    allowed("alb-ingress-default-internal", adding(ingress()), RULE),
    allowed("alb-ingress-internal", adding(ingress({ALB_SCHEME: "internal"})), RULE),
    disallowed("alb-ingress-class-by-annotation", adding(ingress({"kubernetes.io/ingress.class": "alb",
                                                                  ALB_SCHEME: "internet-facing"}, None)), RULE),
    allowed("alb-ingress-private-inbound-cidrs", adding(ingress({ALB_SCHEME: "internet-facing",
                                                                 "alb.ingress.kubernetes.io/inbound-cidrs":
                                                                 "10.0.0.0/8, 172.16.0.0/12"})), RULE),
    disallowed("alb-ingress-public-inbound-cidrs", adding(ingress({ALB_SCHEME: "internet-facing",
                                                                   "alb.ingress.kubernetes.io/inbound-cidrs":
                                                                   "0.0.0.0/1,128.0.0.0/1"})), RULE),
    allowed("nginx-ingress-judged-by-its-own-service", adding(ingress({ALB_SCHEME: "internet-facing"}, "nginx")), RULE),
    disallowed("classless-ingress-with-alb-annotations", adding(ingress({ALB_SCHEME: "internet-facing"}, None)), RULE),
    disallowed("ingress-class-unknown", adding(ingress({ALB_SCHEME: "internet-facing"}, UNKNOWN)), RULE,  # type: ignore[arg-type]
               message="cannot verify spec.ingressClassName"),
    # --- Gateways ---
    disallowed("gateway-without-infrastructure-annotations", adding(gateway()), RULE, message="Gateway class 'eg'"),
    allowed("gateway-internal-infrastructure-annotations", adding(gateway(annotations=BOTH_INTERNAL)), RULE),
    disallowed("gateway-v1beta1-public", adding(gateway(annotations={SCHEME: "internet-facing"}, version="v1beta1")),
               RULE),
    allowed("gateway-internal-only-class", adding(gateway("amazon-vpc-lattice")), RULE,
            no_public_exposure={"internalGatewayClasses": ["amazon-vpc-lattice"]}),
]


@pytest.mark.parametrize("case", params(CASES))
def test_exposure(pack, case):
    check(pack, case)
