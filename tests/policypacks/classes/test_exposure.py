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
from hypothesis import given
from hypothesis import strategies as st
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.conftest import config_for

from ai_governance import exposure, exposure_local, network
from ai_governance.resources import Res

RULE = "no-public-exposure"
LOCAL = "no-public-load-balancer"
BOTH = (RULE, LOCAL)
"""A Service is judged by both halves of exposure; exactly one reports it (LOCAL: public under every
controller, decided at Analyze; RULE: everything that depends on settings or on unknown values)."""
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
    allowed("internal-under-both-controllers", adding(lb(BOTH_INTERNAL)), *BOTH),
    allowed("legacy-true-alone-is-internal-under-both", adding(lb({INTERNAL: "true"})), *BOTH),
    allowed("legacy-go-bool-spelling-under-both", adding(lb({INTERNAL: "True"})), *BOTH),
    disallowed("no-annotation-is-public-in-tree", adding(lb()), *BOTH, expect=[RULE], message="in-tree controller"),
    disallowed("scheme-internal-alone-is-public-in-tree", adding(lb({SCHEME: "internal"})), *BOTH, expect=[RULE],
               message="in-tree controller"),
    allowed("scheme-internal-alone-when-only-the-lbc-takes-services", adding(lb({SCHEME: "internal"})), *BOTH,
            **LBC_ONLY),
    allowed("no-annotation-is-internal-by-lbc-default", adding(lb()), *BOTH, **LBC_ONLY),
    disallowed("legacy-false-is-public", adding(lb({INTERNAL: "false"})), *BOTH, expect=[LOCAL]),
    disallowed("legacy-empty-is-public-in-tree", adding(lb({INTERNAL: ""})), *BOTH, expect=[LOCAL], **IN_TREE_ONLY),
    # The in-tree provider treats any non-empty value but "false" as internal, the LBC parses a Go bool.
    allowed("legacy-cidr-value-is-internal-in-tree", adding(lb({INTERNAL: "0.0.0.0/0"})), *BOTH, **IN_TREE_ONLY),
    disallowed("legacy-cidr-value-is-no-bool-for-the-lbc", adding(lb({INTERNAL: "0.0.0.0/0"})), *BOTH, expect=[RULE],
               message="no bool"),
    allowed("legacy-capital-false-is-internal-in-tree", adding(lb({INTERNAL: "False"})), *BOTH, **IN_TREE_ONLY),
    disallowed("legacy-capital-false-is-false-for-the-lbc", adding(lb({INTERNAL: "False"})), *BOTH, expect=[RULE], **LBC_ONLY),
    disallowed("scheme-beats-the-legacy-annotation", adding(lb({SCHEME: "internet-facing", INTERNAL: "true"})), *BOTH, expect=[RULE],
               message="'internet-facing'"),
    disallowed("scheme-misspelled", adding(lb({SCHEME: "Internal", INTERNAL: "true"})), *BOTH, expect=[RULE], message="'Internal'"),
    # --- which controller: the class and the load-balancer type ---
    allowed("lbc-class-scheme-internal", adding(lb({SCHEME: "internal"}, loadBalancerClass="service.k8s.aws/nlb")),
            *BOTH),
    allowed("lbc-class-defaults-internal", adding(lb(loadBalancerClass="service.k8s.aws/nlb")), *BOTH),
    disallowed("lbc-class-internet-facing", adding(lb({SCHEME: "internet-facing"},
                                                      loadBalancerClass="service.k8s.aws/nlb")), *BOTH, expect=[LOCAL]),
    allowed("lbc-type-external-scheme-internal", adding(lb({LB_TYPE: "external", SCHEME: "internal"})), *BOTH),
    allowed("lbc-type-nlb-ip-defaults-internal", adding(lb({LB_TYPE: "nlb-ip"})), *BOTH),
    disallowed("in-tree-nlb-type-without-internal", adding(lb({LB_TYPE: "nlb", SCHEME: "internal"})), *BOTH, expect=[RULE]),
    disallowed("unknown-class-fails-closed", adding(lb(BOTH_INTERNAL, loadBalancerClass="example.com/lb")), *BOTH,
               expect=[LOCAL], message="example.com/lb"),
    disallowed("class-unknown-at-preview", adding(lb(BOTH_INTERNAL, loadBalancerClass=UNKNOWN)), *BOTH, expect=[RULE],
               message="cannot verify spec.loadBalancerClass"),
    disallowed("deciding-annotation-unknown", adding(lb({INTERNAL: UNKNOWN})), *BOTH, expect=[RULE], message="cannot verify"),
    allowed("unrelated-annotation-unknown", adding(lb({**BOTH_INTERNAL, "external-dns.alpha.kubernetes.io/hostname":
                                                       UNKNOWN})), *BOTH),
    # --- source ranges ---
    allowed("public-scheme-private-source-ranges", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "192.168.0.0/16"])),
            *BOTH),
    disallowed("public-scheme-mixed-source-ranges", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "8.8.8.0/24"])),
               *BOTH, expect=[RULE]),
    disallowed("public-scheme-invalid-source-range", adding(lb(loadBalancerSourceRanges=["10.0.0.0/8", "ten"])), *BOTH, expect=[RULE]),
    # --- every Service, not only Argo CD's; ClusterIP and NodePort are not load balancers ---
    allowed("cluster-ip", adding(b.service("web", "tenant-a", "ClusterIP")), *BOTH),
    allowed("node-port", adding(b.service("web", "tenant-a", "NodePort")), *BOTH),
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


# --- the Service half, decided at Analyze: every finding once ------------------------------------------

def service_patch(annotations: dict[str, Any], **spec: Any) -> RecordedResource:
    return b.k8s("kubernetes:core/v1:ServicePatch", "edge-svc-patch", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge", "namespace": "tenant-a",
                                                           "annotations": annotations}, "spec": spec})


LOCAL_CASES: list[Case] = [
    disallowed("patch-public-under-both", adding(service_patch({INTERNAL: "false"}, type="LoadBalancer")), *BOTH,
               expect=[LOCAL], message="the patch makes a LoadBalancer Service reachable from the internet"),
    disallowed("patch-public-in-tree-only", adding(service_patch({SCHEME: "internal"}, type="LoadBalancer")), *BOTH,
               expect=[RULE], message="in-tree controller"),
    disallowed("patch-leaving-the-type-to-the-live-object", adding(service_patch({INTERNAL: "false"})), *BOTH,
               expect=[RULE]),
    disallowed("public-under-both-but-a-source-range-unknown",
               adding(lb({INTERNAL: "false"}, loadBalancerSourceRanges=["10.0.0.0/8", UNKNOWN])), *BOTH, expect=[RULE],
               message="cannot verify spec.loadBalancerSourceRanges"),
    disallowed("public-under-both-but-the-scheme-unknown", adding(lb({INTERNAL: "false", SCHEME: UNKNOWN})), *BOTH,
               expect=[RULE], message="cannot verify"),
    disallowed("annotations-unknown", adding(lb(UNKNOWN)), *BOTH, expect=[RULE], message="cannot verify"),
    allowed("public-under-both-with-private-source-ranges",
            adding(lb({INTERNAL: "false"}, loadBalancerSourceRanges=["10.0.0.0/8"])), *BOTH),
    allowed("cluster-ip-with-public-annotations", adding(b.service("web", "tenant-a", "ClusterIP",
                                                                   {INTERNAL: "false"})), *BOTH),
]


@pytest.mark.parametrize("case", params(LOCAL_CASES))
def test_the_service_half(pack, case):
    check(pack, case)


@pytest.mark.parametrize("shape", ["outputs", "inputs"])
def test_a_public_service_is_reported_once_on_its_own_urn(pack, shape):
    public = lb({SCHEME: "internet-facing", INTERNAL: "false"})
    run = pack.analyzer.run([*b.good_stack("prod"), public], config_for("prod"), stack_shape=shape)
    found = [(v.policy, v.urn) for v in run.violations if v.policy in BOTH]
    assert found == [(LOCAL, public.urn)], found


def test_the_service_half_is_a_resource_rule_and_the_rest_a_stack_rule():
    assert isinstance(exposure_local.NO_PUBLIC_LOAD_BALANCER, ResourceValidationPolicy)
    assert isinstance(exposure.NO_PUBLIC_EXPOSURE, StackValidationPolicy)


ANNOTATION_VALUES = st.fixed_dictionaries({}, optional={
    SCHEME: st.sampled_from(["internal", "internet-facing", "Internal", ""]),
    INTERNAL: st.sampled_from(["true", "false", "False", "0", "", "0.0.0.0/0"]),
    LB_TYPE: st.sampled_from(["external", "nlb-ip", "nlb"])})


@given(ANNOTATION_VALUES, st.sampled_from([None, "service.k8s.aws/nlb", "example.com/lb"]),
       st.sampled_from([[], ["10.0.0.0/8"], ["10.0.0.0/8", "8.8.8.0/24"]]),
       st.sampled_from(["kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch"]))
def test_the_service_half_decides_only_what_every_setting_would(annotations, lb_class, ranges, type_):
    """What the Service half reports, the stack rule would report under any serviceControllers: its
    skipping never loses a finding."""
    spec: dict[str, Any] = {"type": "LoadBalancer", "loadBalancerSourceRanges": ranges}
    if lb_class is not None:
        spec["loadBalancerClass"] = lb_class
    res = Res(type=type_, name="edge", urn="urn:pulumi:s::p::svc::edge",
              props={"metadata": {"annotations": annotations}, "spec": spec})
    found = exposure_local.public_everywhere(res)
    verdicts = [network.service_exposure(annotations, lb_class, ranges, controllers).public
                for controllers in ([network.IN_TREE], [network.LBC], list(network.CONTROLLERS))]
    assert (found is not None) == all(verdicts)
