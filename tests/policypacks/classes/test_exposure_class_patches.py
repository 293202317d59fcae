"""Exposure through server-side-apply patches of the classes an Ingress resolves through
(``IngressClassPatch``, ``IngressClassParamsPatch``): a patch's fields are laid over the object of
that name in the stack, exactly as the API server applies them; a patch of an object outside the
stack stands alone (a field it leaves out is the live object's, so the class falls back to its name).
Unknown values fail closed as they do on the classes themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_exposure import RULE, ingress
from tests.policypacks.classes.test_exposure_params import ALB, INTERNAL_, PUBLIC, class_params, ingress_class

DEFAULT = "ingressclass.kubernetes.io/is-default-class"


def class_patch(name: str = "edge", annotations: dict[str, Any] | None = None, **spec: Any) -> RecordedResource:
    metadata: dict[str, Any] = {"name": name}
    if annotations is not None:
        metadata["annotations"] = annotations
    inputs: dict[str, Any] = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": metadata}
    if spec:
        inputs["spec"] = spec
    return b.k8s("kubernetes:networking.k8s.io/v1:IngressClassPatch", f"{name}-class-patch", inputs)


def params_patch(name: str = "edge-params", **spec: Any) -> RecordedResource:
    return b.k8s("kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParamsPatch", f"{name}-patch", {
        "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": name}, "spec": spec})


def ref(name: str = "edge-params") -> dict[str, str]:
    return {"apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": name}


CASES: list[Case] = [
    # --- IngressClassPatch over an IngressClass in the stack ---
    disallowed("class-patch-names-internet-facing-params",
               adding(ingress_class(params_name=None), class_patch(parameters=ref()),
                      class_params(scheme="internet-facing"), ingress(None, "edge")), RULE,
               message="IngressClassParams edge-params spec.scheme is 'internet-facing'"),
    allowed("class-patch-names-internal-params",
            adding(ingress_class(params_name=None), class_patch(parameters=ref()), class_params(scheme="internal"),
                   ingress(PUBLIC, "edge")), RULE),
    allowed("class-patch-hands-the-class-to-another-controller",
            adding(ingress_class(params_name=None), class_patch(controller="k8s.io/ingress-nginx"),
                   ingress(PUBLIC, "edge")), RULE),
    disallowed("class-patch-hands-the-class-to-the-alb-controller",
               adding(ingress_class(controller="k8s.io/ingress-nginx", params_name=None), class_patch(controller=ALB),
                      ingress(PUBLIC, "edge")), RULE),
    disallowed("class-patch-makes-the-default-class",
               adding(ingress_class(), class_patch(annotations={DEFAULT: "true"}),
                      class_params(scheme="internet-facing"), ingress(None, None)), RULE),
    allowed("class-patch-removes-the-default-class",
            adding(ingress_class(default=True), class_patch(annotations={DEFAULT: "false"}),
                   class_params(scheme="internet-facing"), ingress(None, None)), RULE),
    # --- an IngressClassPatch of a class outside the stack ---
    disallowed("class-patch-alone-names-params-of-an-alb-class-by-name",
               adding(class_patch("alb", parameters=ref()), class_params(scheme="internet-facing"),
                      ingress(INTERNAL_, "alb")), RULE, message="IngressClassParams edge-params"),
    allowed("class-patch-alone-of-another-controllers-class-name",
            adding(class_patch("nginx", parameters=ref()), class_params(scheme="internet-facing"),
                   ingress(PUBLIC, "nginx")), RULE),
    allowed("class-patch-alone-internal-params-beat-the-annotation",
            adding(class_patch("alb", parameters=ref()), class_params(scheme="internal"), ingress(PUBLIC, "alb")), RULE),
    # --- unknown values fail closed, as on IngressClass ---
    disallowed("class-patch-controller-unknown",
               adding(ingress_class(params_name=None), class_patch(controller=UNKNOWN), ingress(None, "edge")), RULE,
               message="cannot verify spec.controller of IngressClass edge"),
    disallowed("class-patch-parameters-unknown",
               adding(ingress_class(params_name=None), class_patch(parameters=UNKNOWN), ingress(None, "edge")), RULE,
               message="cannot verify spec.parameters of IngressClass edge"),
    disallowed("class-patch-alone-parameters-name-unknown",
               adding(class_patch("alb", parameters={**ref(), "name": UNKNOWN}), ingress(None, "alb")), RULE,
               message="cannot verify spec.parameters.name of IngressClass alb"),
    # --- IngressClassParamsPatch ---
    disallowed("params-patch-sets-internet-facing",
               adding(ingress_class(), class_params(scheme="internal"), params_patch(scheme="internet-facing"),
                      ingress(None, "edge")), RULE, message="IngressClassParams edge-params spec.scheme"),
    allowed("params-patch-sets-internal",
            adding(ingress_class(), class_params(scheme="internet-facing"), params_patch(scheme="internal"),
                   ingress(PUBLIC, "edge")), RULE),
    allowed("params-patch-sets-private-inbound-cidrs",
            adding(ingress_class(), class_params(scheme="internet-facing"), params_patch(inboundCIDRs=["10.0.0.0/8"]),
                   ingress(None, "edge")), RULE),
    disallowed("params-patch-alone-sets-internet-facing",
               adding(ingress_class(), params_patch(scheme="internet-facing"), ingress(INTERNAL_, "edge")), RULE),
    disallowed("params-patch-alone-without-scheme-leaves-the-annotation-to-decide",
               adding(ingress_class(), params_patch(inboundCIDRs=["0.0.0.0/0"]), ingress(PUBLIC, "edge")), RULE),
    disallowed("params-patch-scheme-unknown",
               adding(ingress_class(), class_params(scheme="internal"), params_patch(scheme=UNKNOWN),
                      ingress(None, "edge")), RULE, message="cannot verify spec.scheme of IngressClassParams edge-params"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_exposure_class_patches(pack, case):
    check(pack, case)
