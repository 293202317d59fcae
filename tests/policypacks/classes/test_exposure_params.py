"""Exposure decided by class-level parameters of the AWS Load Balancer Controller
(ai_governance/exposure_params.py cites the controller's source):

- an IngressClass of controller ``ingress.k8s.aws/alb`` naming an ``elbv2.k8s.aws/v1beta1``
  IngressClassParams: its ``spec.scheme`` beats every Ingress's scheme annotation, a non-empty
  ``spec.inboundCIDRs`` the inbound-cidrs annotation; the default IngressClass serves classless Ingresses;
- a GatewayClass of controller ``gateway.k8s.aws/alb``/``nlb``: the ``gateway.k8s.aws``
  LoadBalancerConfigurations of the class and of the Gateway merge (the class wins unless its
  ``mergingMode`` is ``prefer-gateway``), default internal; infrastructure annotations are not read.
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_exposure import ALB_SCHEME, BOTH_INTERNAL, RULE, SCHEME, gateway, ingress

INBOUND = "alb.ingress.kubernetes.io/inbound-cidrs"
ALB = "ingress.k8s.aws/alb"
PUBLIC, INTERNAL_ = {ALB_SCHEME: "internet-facing"}, {ALB_SCHEME: "internal"}


def ingress_class(name: str = "edge", controller: Any = ALB, params_name: str | None = "edge-params",
                  group: str = "elbv2.k8s.aws", kind: str = "IngressClassParams", default: bool = False
                  ) -> RecordedResource:
    spec: dict[str, Any] = {"controller": controller}
    if params_name is not None:
        spec["parameters"] = {"apiGroup": group, "kind": kind, "name": params_name}
    metadata: dict[str, Any] = {"name": name}
    if default:
        metadata["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return b.k8s("kubernetes:networking.k8s.io/v1:IngressClass", f"{name}-class", {
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": metadata, "spec": spec})


def class_params(name: str = "edge-params", **spec: Any) -> RecordedResource:
    return b.k8s("kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams", name, {
        "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": name},
        "spec": spec})


def gateway_class(name: str = "aws-alb", controller: str = "gateway.k8s.aws/alb",
                  config: str | None = None, namespace: str | None = "lb-config") -> RecordedResource:
    spec: dict[str, Any] = {"controllerName": controller}
    if config is not None:
        ref: dict[str, Any] = {"group": "gateway.k8s.aws", "kind": "LoadBalancerConfiguration", "name": config}
        if namespace is not None:
            ref["namespace"] = namespace
        spec["parametersRef"] = ref
    return b.k8s("kubernetes:gateway.networking.k8s.io/v1:GatewayClass", f"{name}-gwc", {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": name},
        "spec": spec})


def lb_config(name: str, namespace: str, version: str = "v1", **spec: Any) -> RecordedResource:
    return b.k8s(f"kubernetes:gateway.k8s.aws/{version}:LoadBalancerConfiguration", f"{namespace}-{name}-lbc", {
        "apiVersion": f"gateway.k8s.aws/{version}", "kind": "LoadBalancerConfiguration",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def lbc_gateway(config: str | None = None, annotations: dict[str, str] | None = None,
                class_name: str = "aws-alb") -> RecordedResource:
    gw = gateway(class_name, annotations)
    if config is not None:
        gw.inputs["spec"].setdefault("infrastructure", {})["parametersRef"] = {
            "group": "gateway.k8s.aws", "kind": "LoadBalancerConfiguration", "name": config}
    return gw


HALVES = ["0.0.0.0/1", "128.0.0.0/1"]

INGRESS_CASES: list[Case] = [
    disallowed("params-internet-facing-without-annotation",
               adding(ingress_class(), class_params(scheme="internet-facing"), ingress(None, "edge")), RULE,
               message="IngressClassParams edge-params spec.scheme is 'internet-facing'"),
    disallowed("params-internet-facing-beat-an-internal-annotation",
               adding(ingress_class(), class_params(scheme="internet-facing"), ingress(INTERNAL_, "edge")), RULE),
    allowed("params-internal-beat-an-internet-facing-annotation",
            adding(ingress_class(), class_params(scheme="internal"), ingress(PUBLIC, "edge")), RULE),
    allowed("params-internal-without-annotation",
            adding(ingress_class(), class_params(scheme="internal"), ingress(None, "edge")), RULE),
    allowed("params-without-scheme-default-internal",
            adding(ingress_class(), class_params(group={"name": "shared"}), ingress(None, "edge")), RULE),
    disallowed("params-without-scheme-leave-the-annotation-to-decide",
               adding(ingress_class(), class_params(), ingress(PUBLIC, "edge")), RULE, message=f"{ALB_SCHEME}"),
    allowed("params-private-inbound-cidrs-beat-public-annotation-cidrs",
            adding(ingress_class(), class_params(scheme="internet-facing", inboundCIDRs=["10.0.0.0/8"]),
                   ingress({INBOUND: "0.0.0.0/0"}, "edge")), RULE),
    disallowed("params-public-inbound-cidrs-beat-private-annotation-cidrs",
               adding(ingress_class(), class_params(scheme="internet-facing", inboundCIDRs=HALVES),
                      ingress({INBOUND: "10.0.0.0/8"}, "edge")), RULE),
    allowed("params-scheme-with-private-annotation-cidrs",
            adding(ingress_class(), class_params(scheme="internet-facing"), ingress({INBOUND: "10.0.0.0/8"}, "edge")),
            RULE),
    disallowed("class-outside-alb-ingress-classes-but-alb-controller",
               adding(ingress_class("edge", params_name=None), ingress(PUBLIC, "edge")), RULE),
    allowed("class-named-alb-but-another-controller",
            adding(ingress_class("alb", controller="k8s.io/ingress-nginx", params_name=None), ingress(PUBLIC, "alb")),
            RULE),
    disallowed("default-class-params-serve-a-classless-ingress",
               adding(ingress_class(default=True), class_params(scheme="internet-facing"), ingress(None, None)), RULE),
    allowed("default-class-internal-params-beat-classless-annotation",
            adding(ingress_class(default=True), class_params(scheme="internal"), ingress(PUBLIC, None)), RULE),
    allowed("parameters-of-another-kind-are-refused-by-the-controller",
            adding(ingress_class(kind="ConfigMap", group=""), ingress(PUBLIC, "edge")), RULE),
    disallowed("params-outside-the-stack-leave-the-annotation-to-decide",
               adding(ingress_class(params_name="elsewhere"), ingress(PUBLIC, "edge")), RULE),
    allowed("params-outside-the-stack-no-invented-finding",
            adding(ingress_class(params_name="elsewhere"), ingress(None, "edge")), RULE),
    disallowed("params-scheme-unknown-at-preview",
               adding(ingress_class(), class_params(scheme=UNKNOWN), ingress(None, "edge")), RULE,
               message="cannot verify spec.scheme of IngressClassParams edge-params"),
    disallowed("class-controller-unknown-at-preview",
               adding(ingress_class(controller=UNKNOWN), ingress(None, "edge")), RULE,
               message="cannot verify spec.controller of IngressClass edge"),
]

GATEWAY_CASES: list[Case] = [
    allowed("lbc-class-defaults-internal", adding(gateway_class(), lbc_gateway()), RULE),
    allowed("lbc-nlb-class-defaults-internal", adding(gateway_class("aws-nlb", "gateway.k8s.aws/nlb"),
                                                      lbc_gateway(class_name="aws-nlb")), RULE),
    disallowed("class-config-internet-facing",
               adding(gateway_class(config="public"), lb_config("public", "lb-config", scheme="internet-facing"),
                      lbc_gateway()), RULE, message="LoadBalancerConfiguration public spec.scheme is 'internet-facing'"),
    disallowed("class-config-v1beta1-internet-facing",
               adding(gateway_class(config="public"),
                      lb_config("public", "lb-config", "v1beta1", scheme="internet-facing"), lbc_gateway()), RULE),
    disallowed("gateway-config-internet-facing",
               adding(gateway_class(), lb_config("mine", "tenant-a", scheme="internet-facing"), lbc_gateway("mine")),
               RULE),
    allowed("class-config-internal-wins-by-default",
            adding(gateway_class(config="private"), lb_config("private", "lb-config", scheme="internal"),
                   lb_config("mine", "tenant-a", scheme="internet-facing"), lbc_gateway("mine")), RULE),
    disallowed("prefer-gateway-lets-the-gateway-config-win",
               adding(gateway_class(config="private"),
                      lb_config("private", "lb-config", scheme="internal", mergingMode="prefer-gateway"),
                      lb_config("mine", "tenant-a", scheme="internet-facing"), lbc_gateway("mine")), RULE),
    allowed("class-without-scheme-leaves-it-to-the-gateway",
            adding(gateway_class(config="shared"), lb_config("shared", "lb-config", ipAddressType="dualstack"),
                   lb_config("mine", "tenant-a", scheme="internal"), lbc_gateway("mine")), RULE),
    allowed("internet-facing-with-private-source-ranges",
            adding(gateway_class(), lb_config("mine", "tenant-a", scheme="internet-facing",
                                              sourceRanges=["10.0.0.0/8"]), lbc_gateway("mine")), RULE),
    disallowed("internet-facing-with-split-internet-source-ranges",
               adding(gateway_class(), lb_config("mine", "tenant-a", scheme="internet-facing", sourceRanges=HALVES),
                      lbc_gateway("mine")), RULE),
    allowed("lbc-ignores-infrastructure-annotations",
            adding(gateway_class(), lbc_gateway(annotations={SCHEME: "internet-facing"})), RULE),
    disallowed("config-in-another-namespace-is-not-the-gateways",
               adding(gateway_class(), lb_config("mine", "other", scheme="internal"), lbc_gateway("mine")), RULE,
               message="not in the stack"),
    disallowed("class-config-outside-the-stack-fails-closed",
               adding(gateway_class(config="elsewhere"), lbc_gateway()), RULE, message="not in the stack"),
    disallowed("config-scheme-unknown-at-preview",
               adding(gateway_class(config="public"), lb_config("public", "lb-config", scheme=UNKNOWN), lbc_gateway()),
               RULE, message="cannot verify spec.scheme of LoadBalancerConfiguration"),
    disallowed("another-controllers-class-is-judged-by-annotations",
               adding(gateway_class("eg", "gateway.envoyproxy.io/gatewayclass-controller"), gateway("eg")), RULE,
               message="Gateway class 'eg'"),
    allowed("another-controllers-class-internal-annotations",
            adding(gateway_class("eg", "gateway.envoyproxy.io/gatewayclass-controller"), gateway("eg", BOTH_INTERNAL)),
            RULE),
]


@pytest.mark.parametrize("case", params(INGRESS_CASES))
def test_ingress_class_params(pack, case):
    check(pack, case)


@pytest.mark.parametrize("case", params(GATEWAY_CASES))
def test_load_balancer_configuration(pack, case):
    check(pack, case)
