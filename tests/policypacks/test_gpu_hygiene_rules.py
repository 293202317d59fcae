"""The GPU-hygiene rules on the paths the stack cases do not reach: a GPU pod that selects no GPU
nodes (and the affinity way of selecting them), the fail-safe when a placement fact is unknown at
preview, Argo CD exposed without TLS through an Ingress, and the replicas of a Deployment without
an HPA. Each stack is ``good_stack`` with one thing changed, sent through the Analyzer gRPC path."""

from __future__ import annotations

from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import config_for, violations

TPL = ("spec", "template", "spec")
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


def pod_spec(r: RecordedResource) -> dict[str, Any]:
    return r.inputs["spec"]["template"]["spec"]


def edited(edit: Any, env: str = "prod") -> list[RecordedResource]:
    return b.replace(b.good_stack(env), "multimodal", edit)


def messages(run: Any, policy: str) -> list[str]:
    return [message for _, _, message in violations(run, policy)]


# --- gpu-workload-placement: selecting GPU nodes ---------------------------------------------------

@pytest.mark.parametrize("selector", [
    {"ai-platform.io/node-pool": "gpu"},  # a pool name is not a GPU label
    None,  # no nodeSelector at all
])
def test_a_gpu_pod_that_selects_no_gpu_nodes_is_a_violation(pack, selector):
    def edit(r: RecordedResource) -> None:
        if selector is None:
            del pod_spec(r)["nodeSelector"]
        else:
            pod_spec(r)["nodeSelector"] = selector

    run = pack.run(edited(edit), "prod")
    assert violations(run, "gpu-workload-placement") == [(
        "gpu-workload-placement", "mandatory",
        "Deployment multimodal: a GPU pod must select GPU nodes (nvidia.com/gpu) with a nodeSelector (or required "
        "node affinity) on one of nvidia.com/gpu.present, nvidia.com/gpu.product, nvidia.com/gpu.count, "
        "karpenter.k8s.aws/instance-gpu-name, karpenter.k8s.aws/instance-gpu-manufacturer, or on instance types that "
        "offer it")]


def _affinity(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(term)} for term in terms]}}}


GPU_IN = {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}
PRODUCT_EXISTS = {"key": "nvidia.com/gpu.product", "operator": "Exists"}
POOL_IN = {"key": "ai-platform.io/node-pool", "operator": "In", "values": ["gpu"]}


@pytest.mark.parametrize("affinity, selects", [
    (_affinity([GPU_IN]), True),
    (_affinity([PRODUCT_EXISTS]), True),
    (_affinity([POOL_IN, GPU_IN], [PRODUCT_EXISTS]), True),  # every term needs a GPU label: each one does
    (_affinity([GPU_IN], [POOL_IN]), False),  # the second term alone could land on a CPU node
    (_affinity([{**GPU_IN, "operator": "NotIn"}]), False),  # NotIn keeps GPU nodes out
    (_affinity(), False),  # no terms select nothing in particular
])
def test_required_node_affinity_selects_gpu_nodes_only_when_every_term_does(pack, affinity, selects):
    def edit(r: RecordedResource) -> None:
        spec = pod_spec(r)
        spec["nodeSelector"] = {"ai-platform.io/node-pool": "gpu"}
        spec["affinity"] = affinity

    found = messages(pack.run(edited(edit), "prod"), "gpu-workload-placement")
    assert (found == []) is selects, found
    if not selects:
        assert ["must select GPU nodes" in m for m in found] == [True]


# --- fail-safe: unknown placement facts --------------------------------------------------------------

@pytest.mark.parametrize("field, expected", [
    ("nodeSelector", "cannot verify spec.template.spec.nodeSelector at preview"),
    ("tolerations", "cannot verify spec.template.spec.tolerations at preview"),
])
def test_placement_cannot_verify_an_unknown_selector_or_toleration(pack, field, expected):
    run = pack.run(edited(lambda r: pod_spec(r).update({field: UNKNOWN})), "prod")
    assert violations(run, "gpu-workload-placement") == [("gpu-workload-placement", "mandatory", expected)]
    # Advisory where unknownValues is advisory: it never passes silently, never blocks there.
    dev = config_for("prod")
    dev["all"].properties["unknownValues"] = "advisory"
    advisory = violations(pack.run(edited(lambda r: pod_spec(r).update({field: UNKNOWN})), dev), "gpu-workload-placement")
    assert [(lvl, msg.endswith(expected)) for _, lvl, msg in advisory] == [("advisory", True)]


def test_a_cpu_pod_with_unknown_tolerations_cannot_be_verified(pack):
    cpu = b.deployment("batch", "project-nova", gpus=0, annotations={})
    cpu.inputs["spec"]["template"]["spec"]["tolerations"] = UNKNOWN
    run = pack.run(b.good_stack("prod") + [cpu], "prod")
    assert violations(run, "gpu-workload-placement") == [
        ("gpu-workload-placement", "mandatory", "cannot verify spec.template.spec.tolerations at preview")]


def _unknown_replicas(stack: list[RecordedResource]) -> list[RecordedResource]:
    return b.replace(stack, "multimodal-hpa", lambda r: r.inputs["spec"].update(minReplicas=UNKNOWN))


@pytest.mark.parametrize("make", [
    lambda: edited(lambda r: pod_spec(r).update(nodeSelector=UNKNOWN)),
    lambda: edited(lambda r: pod_spec(r).update(tolerations=UNKNOWN)),
    lambda: _unknown_replicas(b.good_stack("prod")),
], ids=["nodeSelector", "tolerations", "replicas"])
def test_schedulable_fails_safe_when_selector_tolerations_or_replicas_are_unknown(pack, make):
    # Otherwise too big for any pool: an unknown fact must not let the rule pass it, nor guess a violation.
    stack = b.replace(make(), "gpu-ng", lambda r: r.inputs["scalingConfig"].update(maxSize=1.0))
    found = [(v.level, v.message, v.urn.rsplit("::", 1)[-1]) for v in pack.run(stack, "prod").violations
             if v.policy == "gpu-workload-schedulable"]
    assert found == [("mandatory", "cannot verify nodeSelector/tolerations/replicas of Deployment multimodal at "
                                   "preview", "multimodal")]


# --- replicas without an HPA -----------------------------------------------------------------------------

def _without_hpa(replicas: float | None) -> list[RecordedResource]:
    stack = [r for r in b.good_stack("prod") if r.type != HPA]

    def edit(r: RecordedResource) -> None:
        if replicas is not None:
            r.inputs["spec"]["replicas"] = replicas

    return b.replace(stack, "multimodal", edit)


@pytest.mark.parametrize("replicas, fired", [
    (3.0, None),  # spec.replicas counts when no HPA targets the Deployment
    (2.0, None),
    (1.0, "Deployment multimodal: 1.0 min replica(s); inference in prod needs at least 2"),
    (None, "Deployment multimodal: 1 min replica(s); inference in prod needs at least 2"),  # absent: Kubernetes' 1
])
def test_availability_reads_spec_replicas_without_an_hpa(pack, replicas, fired):
    found = messages(pack.run(_without_hpa(replicas), "prod"), "inference-availability")
    assert found == ([fired] if fired else [])


def test_an_hpa_without_min_replicas_means_one(pack):
    stack = b.replace(b.good_stack("prod"), "multimodal-hpa", lambda r: r.inputs["spec"].pop("minReplicas"))
    assert messages(pack.run(stack, "prod"), "inference-availability") == [
        "Deployment multimodal: 1 min replica(s); inference in prod needs at least 2"]


def test_an_hpa_in_another_namespace_does_not_count(pack):
    stack = _without_hpa(None) + [b.hpa("multimodal", "elsewhere", 3.0)]
    assert messages(pack.run(stack, "prod"), "inference-availability") == [
        "Deployment multimodal: 1 min replica(s); inference in prod needs at least 2"]


def test_an_hpa_whose_namespace_is_unknown_may_be_the_workloads(pack):
    hpa = b.hpa("multimodal", "project-nova", 3.0)
    hpa.inputs["metadata"]["namespace"] = UNKNOWN
    assert messages(pack.run(_without_hpa(None) + [hpa], "prod"), "inference-availability") == []


def test_a_workload_whose_namespace_is_unknown_takes_an_hpa_of_its_name(pack):
    stack = b.replace(b.good_stack("prod"), "multimodal", lambda r: r.inputs["metadata"].update(namespace=UNKNOWN))
    found = messages(pack.run(stack, "prod"), "inference-availability")
    assert not any("min replica" in m for m in found), found


@pytest.mark.parametrize("replicas, fits", [(3.0, True), (4.0, False)])
def test_schedulable_holds_spec_replicas_against_the_pool_max_size(pack, replicas, fits):
    # good_stack's prod GPU pool: g5.2xlarge (1 GPU) x maxSize 3, one GPU per pod.
    found = messages(pack.run(_without_hpa(replicas), "prod"), "gpu-workload-schedulable")
    if fits:
        assert found == []
    else:
        assert found == ["Deployment multimodal (1 GPU(s) x 4 min replicas) fits no GPU node pool: "
                         "gpu-ng: maxSize 3 x 1 pod(s) per node < 4 min replicas"]


# --- Argo CD exposed without TLS ---------------------------------------------------------------------------

def ingress(name: str, ns: str, backend: str, tls: Any) -> RecordedResource:
    spec: dict[str, Any] = {"ingressClassName": "alb", "rules": [{"host": "argocd.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": backend, "port": {"number": 443.0}}}}]}}]}
    if tls is not None:
        spec["tls"] = tls
    return b.k8s("kubernetes:networking.k8s.io/v1:Ingress", name, {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": ns},
        "spec": spec})


TLS = [{"hosts": ["argocd.example.com"], "secretName": "argocd-tls"}]


@pytest.mark.parametrize("resource, expected", [
    (ingress("argocd-server", "argocd", "argocd-server", None),
     "Ingress argocd-server: exposes the Argo CD server without TLS (spec.tls is empty)"),
    (ingress("argocd-server", "argocd", "argocd-server", []),
     "Ingress argocd-server: exposes the Argo CD server without TLS (spec.tls is empty)"),
    # Found by its backend, wherever it lives.
    (ingress("gitops", "platform", "gitops-argocd-server", None),
     "Ingress gitops: exposes the Argo CD server without TLS (spec.tls is empty)"),
    # Found by its namespace, whatever the backend is called.
    (ingress("ui", "argocd", "ui", []), "Ingress ui: exposes the Argo CD server without TLS (spec.tls is empty)"),
    (ingress("argocd-server", "argocd", "argocd-server", TLS), None),
    (ingress("app", "project-nova", "app", None), None),  # not Argo CD: not this rule's business
    (ingress("argocd-server", "argocd", "argocd-server", UNKNOWN), "cannot verify spec.tls at preview"),
])
def test_an_ingress_to_the_argocd_server_needs_tls(pack, resource, expected):
    found = messages(pack.run(b.good_stack("prod") + [resource], "prod"), "no-public-exposure")
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize("server, expected", [
    ({"ingress": {"enabled": True, "tls": True}}, []),
    ({"ingress": {"enabled": True, "extraTls": [{"hosts": ["argocd.example.com"], "secretName": "tls"}]}}, []),
    ({"ingress": {"enabled": True, "tls": False}},
     ["Release argocd-x: the Argo CD server ingress is enabled without TLS (values.server.ingress.tls or extraTls)"]),
    ({"ingress": {"enabled": True, "tls": UNKNOWN}}, ["cannot verify values.server.ingress.tls at preview"]),
    ({"ingress": {"enabled": UNKNOWN}}, ["cannot verify values.server.ingress.enabled at preview"]),
    ({"service": {"type": UNKNOWN}}, ["cannot verify values.server.service.type at preview"]),
    ({"service": {"type": "LoadBalancer",
                  "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
                  "loadBalancerClass": "service.k8s.aws/nlb"}}, []),
])
def test_the_argocd_chart_exposes_its_server_only_with_tls(pack, server, expected):
    release = b.helm_release("argocd-x", "argo-cd", "9.1.4", protect=True, values={"server": server})
    assert messages(pack.run(b.good_stack("prod") + [release], "prod"), "no-public-exposure") == expected


@pytest.mark.parametrize("server, insecure_fires", [
    ({"ingress": {"enabled": True, "tls": True}}, True),  # TLS at the ingress, plain HTTP behind it: still exposed
    ({"service": {"type": "LoadBalancer",
                  "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}}}, True),
    ({"service": {"type": "ClusterIP"}}, False),  # plain HTTP inside the cluster only
])
def test_argocd_server_insecure_only_matters_when_exposed(pack, server, insecure_fires):
    values = {"server": server, "configs": {"params": {"server.insecure": True}}}
    release = b.helm_release("argocd-x", "argo-cd", "9.1.4", protect=True, values=values)
    found = messages(pack.run(b.good_stack("prod") + [release], "prod"), "no-public-exposure")
    insecure = [m for m in found if "server.insecure (plain HTTP)" in m]
    assert len(insecure) == (1 if insecure_fires else 0), found
