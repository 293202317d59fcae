"""Exposure through server-side-apply patches (``ServicePatch``, ``IngressPatch``, a Gateway's
``CustomResourcePatch``): judged on the fields they set. A patch that makes a Service a LoadBalancer
is judged like a Service on the annotations it sets; one that leaves the type to the live object is
judged only on the deciding annotations it sets; a patch setting nothing that decides exposure passes.
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_exposure import ALB_SCHEME, BOTH_INTERNAL, INTERNAL, RULE, SCHEME
from tests.policypacks.classes.test_exposure_params import class_params, ingress_class


def service_patch(annotations: dict[str, Any] | None = None, **spec: Any) -> RecordedResource:
    metadata: dict[str, Any] = {"name": "edge", "namespace": "tenant-a"}
    if annotations is not None:
        metadata["annotations"] = annotations
    inputs: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": metadata}
    if spec:
        inputs["spec"] = spec
    return b.k8s("kubernetes:core/v1:ServicePatch", "edge-svc-patch", inputs)


def ingress_patch(annotations: dict[str, str] | None = None, **spec: Any) -> RecordedResource:
    metadata: dict[str, Any] = {"name": "app", "namespace": "tenant-a"}
    if annotations is not None:
        metadata["annotations"] = annotations
    inputs: dict[str, Any] = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata}
    if spec:
        inputs["spec"] = spec
    return b.k8s("kubernetes:networking.k8s.io/v1:IngressPatch", "app-ing-patch", inputs)


def gateway_patch(**spec: Any) -> RecordedResource:
    return b.k8s("kubernetes:gateway.networking.k8s.io/v1:GatewayPatch", "edge-gw-patch", {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": "tenant-a"}, "spec": spec})


LISTENERS = [{"name": "https", "port": 443.0, "protocol": "HTTPS"}]

CASES: list[Case] = [
    # --- ServicePatch ---
    disallowed("service-patch-makes-a-public-load-balancer", adding(service_patch(type="LoadBalancer")), RULE,
               message="the patch makes a LoadBalancer Service"),
    allowed("service-patch-makes-an-internal-load-balancer", adding(service_patch(BOTH_INTERNAL, type="LoadBalancer")),
            RULE),
    allowed("service-patch-private-source-ranges",
            adding(service_patch(type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/8"])), RULE),
    allowed("service-patch-to-cluster-ip", adding(service_patch({SCHEME: "internet-facing"}, type="ClusterIP")), RULE),
    allowed("service-patch-unrelated-annotation", adding(service_patch({"prometheus.io/scrape": "true"})), RULE),
    allowed("service-patch-sets-internal-true-only", adding(service_patch({INTERNAL: "true"})), RULE),
    allowed("service-patch-sets-scheme-internal-only", adding(service_patch({SCHEME: "internal"})), RULE),
    disallowed("service-patch-sets-scheme-internet-facing", adding(service_patch({SCHEME: "internet-facing"})), RULE,
               message="'internet-facing'"),
    disallowed("service-patch-sets-internal-false", adding(service_patch({INTERNAL: "false"})), RULE,
               message="in-tree controller"),
    disallowed("service-patch-type-unknown", adding(service_patch(type=UNKNOWN)), RULE,
               message="cannot verify spec.type"),
    disallowed("service-patch-deciding-annotation-unknown", adding(service_patch({SCHEME: UNKNOWN}, type="LoadBalancer")),
               RULE, message="cannot verify"),
    # --- IngressPatch ---
    disallowed("ingress-patch-sets-internet-facing", adding(ingress_patch({ALB_SCHEME: "internet-facing"})), RULE,
               message="internet-facing ALB Ingress"),
    disallowed("ingress-patch-alb-class-internet-facing",
               adding(ingress_patch({ALB_SCHEME: "internet-facing"}, ingressClassName="alb")), RULE),
    allowed("ingress-patch-sets-internal", adding(ingress_patch({ALB_SCHEME: "internal"})), RULE),
    allowed("ingress-patch-sets-only-rules", adding(ingress_patch(rules=[{"host": "app.example.com"}])), RULE),
    allowed("ingress-patch-another-controllers-class",
            adding(ingress_patch({ALB_SCHEME: "internet-facing"}, ingressClassName="nginx")), RULE),
    allowed("ingress-patch-class-params-say-internal",
            adding(ingress_class(), class_params(scheme="internal"),
                   ingress_patch({ALB_SCHEME: "internet-facing"}, ingressClassName="edge")), RULE),
    disallowed("ingress-patch-class-params-say-internet-facing",
               adding(ingress_class(), class_params(scheme="internet-facing"), ingress_patch(ingressClassName="edge")),
               RULE),
    # --- Gateway patches ---
    disallowed("gateway-patch-sets-a-class-without-annotations", adding(gateway_patch(gatewayClassName="eg")), RULE,
               message="Gateway class 'eg'"),
    allowed("gateway-patch-sets-internal-annotations",
            adding(gateway_patch(gatewayClassName="eg", infrastructure={"annotations": BOTH_INTERNAL})), RULE),
    allowed("gateway-patch-sets-only-listeners", adding(gateway_patch(listeners=LISTENERS)), RULE),
    disallowed("gateway-patch-sets-public-annotations",
               adding(gateway_patch(infrastructure={"annotations": {SCHEME: "internet-facing"}})), RULE),
]


@pytest.mark.parametrize("case", params(CASES))
def test_exposure_patches(pack, case):
    check(pack, case)
