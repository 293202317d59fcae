"""Every workload shape: the GPU, placement, provenance, probe and governance rules judge every
Kubernetes kind that carries pods (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
Pod), their server-side-apply ``*Patch`` variants, Helm v3 releases of known charts through their
values, and the children of Helm v4 ``Chart`` / ``yaml/v2`` components; any other
``kubernetes:*`` kind with a pod template fails closed, and a release of an unknown chart gets an
advisory."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.conftest import config_for

GPU = ("gpu-request-valid", "gpu-workload-placement", "gpu-workload-schedulable")
GOVERNANCE = ("ethics-policy-approved", "model-card-metadata", "evaluation-gate")
ALL = (*GPU, "model-provenance", "inference-probes", *GOVERNANCE, "container-resources")
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model"
PINNED = f"{ECR}:v1.2.0@{b.SHA}"

KIND_TYPES = {
    "Deployment": "kubernetes:apps/v1:Deployment",
    "StatefulSet": "kubernetes:apps/v1:StatefulSet",
    "DaemonSet": "kubernetes:apps/v1:DaemonSet",
    "ReplicaSet": "kubernetes:apps/v1:ReplicaSet",
    "ReplicationController": "kubernetes:core/v1:ReplicationController",
    "Job": "kubernetes:batch/v1:Job",
    "CronJob": "kubernetes:batch/v1:CronJob",
    "Pod": "kubernetes:core/v1:Pod",
}


def _template(**container: Any) -> dict[str, Any]:
    """The good stack's inference pod template (GPU, governed, pinned), with container overrides."""
    template = copy.deepcopy(b.deployment("shape", "project-nova").inputs["spec"]["template"])
    template["spec"]["containers"][0].update(container)
    return template


def workload(kind: str, name: str = "shape", template: dict[str, Any] | None = None, patch: bool = False,
             **container: Any) -> RecordedResource:
    """An object of ``kind`` (or its Patch) around the good inference pod template."""
    tpl = template if template is not None else _template(**container)
    metadata = {"name": name, "namespace": "project-nova", "labels": dict(tpl["metadata"]["labels"]),
                "annotations": dict(tpl["metadata"]["annotations"])}
    selector = {"matchLabels": {"app.kubernetes.io/name": name}}
    if kind == "Pod":
        inputs: dict[str, Any] = {"metadata": metadata, "spec": tpl["spec"]}
    elif kind == "Job":
        tpl["spec"]["restartPolicy"] = "Never"
        inputs = {"metadata": metadata, "spec": {"template": tpl}}
    elif kind == "CronJob":
        tpl["spec"]["restartPolicy"] = "Never"
        inputs = {"metadata": metadata, "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": tpl}}}}
    else:
        inputs = {"metadata": metadata, "spec": {"selector": selector, "template": tpl}}
    type_ = KIND_TYPES[kind] + ("Patch" if patch else "")
    return b.k8s(type_, f"{name}-{kind.lower()}{'-patch' if patch else ''}", inputs)


def fractional() -> dict[str, Any]:
    return {"resources": {"requests": {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "0.5"},
                          "limits": {"memory": "4Gi", "nvidia.com/gpu": "1"}}}


def patch(type_: str, name: str, spec: dict[str, Any]) -> RecordedResource:
    """A server-side-apply Patch of an existing object that sets only ``spec`` (partial)."""
    return b.k8s(type_, name, {"metadata": {"name": "multimodal", "namespace": "project-nova"}, "spec": spec})


def patch_template(containers: list[dict[str, Any]], labels: dict[str, str] | None = None,
                   **pod: Any) -> dict[str, Any]:
    template: dict[str, Any] = {"spec": {"containers": containers, **pod}}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    return {"template": template}


INFERENCE = {"app.kubernetes.io/component": "inference"}
TOLERATE_GPU = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
SELECT_GPU = {"nvidia.com/gpu.present": "true"}


# --- known kinds: the same pod judged the same in every shape -----------------------------------------

def _with_spec(template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    template["spec"].update(spec)
    return template


def _without_annotations(template: dict[str, Any]) -> dict[str, Any]:
    template["metadata"]["annotations"] = {}
    return template



KIND_CASES = [
    case
    for kind in KIND_TYPES
    for case in (
        allowed(f"{kind}-governed-gpu-pod", adding(workload(kind)), *ALL),
        disallowed(f"{kind}-fractional-gpu", adding(workload(kind, **fractional())), *GPU,
                   expect=["gpu-request-valid"], message="not a whole number"),
        disallowed(f"{kind}-latest-image", adding(workload(kind, image=f"{ECR}:latest")), "model-provenance",
                   message="latest"),
        disallowed(f"{kind}-gpu-pod-without-toleration",
                   adding(workload(kind, template=_with_spec(_template(), tolerations=[]))),
                   "gpu-workload-placement", message="must tolerate the GPU taint"),
    )
]


GOVERNANCE_CASES = [
    disallowed(f"{kind}-ungoverned-gpu-pod",
               adding(workload(kind, template=_without_annotations(_template()))),
               *GOVERNANCE, "model-provenance")
    for kind in KIND_TYPES
]


PROBE_CASES = [
    *(disallowed(f"{kind}-no-readiness-probe", adding(workload(kind, readinessProbe=None)), "inference-probes",
                 message="no readiness probe")
      for kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")),
    # Jobs, CronJobs, DaemonSets and bare Pods take no traffic through a rollout: no probe needed.
    *(allowed(f"{kind}-no-readiness-probe", adding(workload(kind, readinessProbe=None)), "inference-probes")
      for kind in ("Job", "CronJob", "DaemonSet", "Pod")),
]


# --- server-side-apply Patches: judged on the fields they set -------------------------------------------

PATCH_CASES = [
    allowed("DeploymentPatch-replicas-only", adding(patch("kubernetes:apps/v1:DeploymentPatch", "scale",
                                                          {"replicas": 3.0})), *ALL),
    allowed("DeploymentPatch-pinned-image-of-an-inference-workload", adding(patch(
        "kubernetes:apps/v1:DeploymentPatch", "bump",
        patch_template([{"name": "model-server", "image": PINNED}], INFERENCE))), *ALL),
    allowed("DeploymentPatch-cpu-sidecar-of-a-non-inference-workload", adding(patch(
        "kubernetes:apps/v1:DeploymentPatch", "sidecar",
        patch_template([{"name": "proxy", "image": "envoyproxy/envoy:v1.31.0"}],
                       {"app.kubernetes.io/component": "gateway"}))), *ALL),
    disallowed("DeploymentPatch-latest-image-of-an-inference-workload", adding(patch(
        "kubernetes:apps/v1:DeploymentPatch", "bump",
        patch_template([{"name": "model-server", "image": f"{ECR}:latest"}], INFERENCE))), "model-provenance",
        message="latest"),
    disallowed("DeploymentPatch-image-of-a-workload-it-does-not-say-serves-a-model", adding(patch(
        "kubernetes:apps/v1:DeploymentPatch", "sneaky", patch_template([{"name": "model-server",
                                                                        "image": "evil.example.com/x:1"}]))),
        "model-provenance", *GOVERNANCE, "inference-probes", message="cannot verify whether"),
    disallowed("DeploymentPatch-gpu-without-tolerations-left-to-the-live-object", adding(patch(
        "kubernetes:apps/v1:DeploymentPatch", "gpu", patch_template(
            [{"name": "model-server", "resources": {"limits": {"nvidia.com/gpu": "1"}}}], INFERENCE,
            nodeSelector=SELECT_GPU))), "gpu-workload-placement", message="cannot verify"),
    *(disallowed(f"{kind}Patch-fractional-gpu", adding(workload(kind, patch=True, **fractional())),
                 "gpu-request-valid", message="not a whole number") for kind in KIND_TYPES),
    *(allowed(f"{kind}Patch-governed-gpu-pod", adding(workload(kind, patch=True)), *ALL) for kind in KIND_TYPES),
]


# --- kinds the pack does not read: fail closed --------------------------------------------------------

def custom(type_: str, spec: dict[str, Any]) -> RecordedResource:
    return b.k8s(type_, type_.rsplit(":", 1)[-1].lower(), {"metadata": {"name": "x", "namespace": "project-nova"},
                                                           "spec": spec})


UNKNOWN_KIND_CASES = [
    disallowed("argo-rollout-with-a-pod-template", adding(custom(
        "kubernetes:argoproj.io/v1alpha1:Rollout", {"template": _template()})),
        "gpu-request-valid", "gpu-workload-placement", "model-provenance", "inference-probes", *GOVERNANCE,
        message="cannot verify Rollout"),
    disallowed("custom-kind-with-a-job-template", adding(custom(
        "kubernetes:example.com/v1:NightlyBatch", {"jobTemplate": {"spec": {"template": _template()}}})),
        "gpu-request-valid", "model-provenance", message="a pod template in a kind this pack does not read"),
    allowed("custom-kind-without-a-pod-template", adding(custom(
        "kubernetes:cert-manager.io/v1:Certificate", {"secretName": "tls", "dnsNames": ["a.example.com"]})), *ALL),
    allowed("core-kinds-carry-no-pods", adding(
        b.k8s("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"name": "cm"}, "data": {"template": "x"}}),
        b.k8s("kubernetes:core/v1:PodTemplate", "pt", {"metadata": {"name": "pt"}, "template": _template()})), *ALL),
]


# --- Helm: v3 releases through their values; v4 Chart and yaml/v2 children as ordinary resources ------

def release(chart: str, values: dict[str, Any] | Any, name: str | None = None) -> RecordedResource:
    return b.k8s("kubernetes:helm.sh/v3:Release", name or chart, {
        "chart": chart, "version": "1.0.0", "namespace": "project-nova",
        "repositoryOpts": {"repo": "https://charts.example.com"}, "values": values})


SYSTEM = {"ai-platform.io/node-pool": "system"}
GOVERNED_OLLAMA = {
    "image": {"repository": ECR, "tag": f"v1.2.0@{b.SHA}"},
    "ollama": {"gpu": {"enabled": True, "number": 1}},
    "nodeSelector": {"ai-platform.io/node-pool": "gpu", **SELECT_GPU},
    "podAnnotations": b.governance(),
    "podLabels": {**b.tags(), **INFERENCE},
    "extraEnv": [{"name": "MODEL_VERSION", "value": "v1.2.0"}, {"name": "ETHICS_POLICY_ID", "value": "policy-2026-001"}],
}


def ollama(**over: Any) -> dict[str, Any]:
    values = copy.deepcopy(GOVERNED_OLLAMA)
    for dotted, value in over.items():
        node = values
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return values


def component_child(parent_type: str, child: RecordedResource) -> Callable[[list[RecordedResource]], list[RecordedResource]]:
    """A Helm v4 Chart / yaml/v2 ConfigGroup component and one rendered child under it."""
    component = b.k8s(parent_type, "rendered", {"chart": "inference", "version": "1.0.0"}
                      if "helm" in parent_type else {"files": ["manifests/*.yaml"]}, custom=False)
    child = copy.deepcopy(child)
    child.parent = component.urn
    return adding(component, child)


DEVICE_PLUGIN_DS = b.k8s("kubernetes:apps/v1:DaemonSet", "nvidia-device-plugin", {
    "metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
    "spec": {"selector": {"matchLabels": {"name": "nvidia-device-plugin"}}, "template": {
        "metadata": {"labels": {"name": "nvidia-device-plugin"}},
        "spec": {"tolerations": TOLERATE_GPU, "priorityClassName": "system-node-critical",
                 "containers": [{"name": "nvidia-device-plugin-ctr", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.19.3",
                                 "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                               "limits": {"memory": "128Mi"}}}]}}}})

HELM_CASES = [
    # The charts this project installs, with the values the program gives them.
    allowed("device-plugin-release-tolerates-the-gpu-taint-as-a-daemonset", adding(release("nvidia-device-plugin", {
        "nodeSelector": {"ai-platform.io/nvidia-device-plugin": "chart"}, "tolerations": TOLERATE_GPU,
        "gfd": {"enabled": False}, "nfd": {"enabled": False}})), *GPU, "model-provenance"),
    allowed("dcgm-exporter-release", adding(release("dcgm-exporter", {
        "nodeSelector": SELECT_GPU, "tolerations": TOLERATE_GPU, "serviceMonitor": {"enabled": False}})), *GPU),
    allowed("metrics-server-release", adding(release("metrics-server", {"nodeSelector": SYSTEM})), *GPU,
            "inference-probes"),
    allowed("cluster-autoscaler-release", adding(release("cluster-autoscaler", {
        "nodeSelector": SYSTEM, "image": {"tag": "v1.34.0"}})), *GPU),
    disallowed("metrics-server-release-tolerating-the-gpu-taint", adding(release("metrics-server", {
        "nodeSelector": SYSTEM, "tolerations": TOLERATE_GPU})), "gpu-workload-placement",
        message="(values): a pod without GPUs tolerates the GPU taint"),
    disallowed("argo-cd-release-whose-global-tolerations-squat-on-gpu-nodes", adding(release("argo-cd", {
        "global": {"tolerations": TOLERATE_GPU}, "dex": {"enabled": False}}, name="argocd2")),
        "gpu-workload-placement", message="tolerates the GPU taint"),
    # A GPU-serving chart of the table: its GPU amount, image and governance come from the values.
    allowed("ollama-governed-gpu-release", adding(release("ollama", ollama())), *ALL),
    disallowed("ollama-gpu-release-selecting-no-gpu-nodes", adding(release("ollama", ollama(nodeSelector={}))),
               "gpu-workload-placement", message="must select GPU nodes"),
    disallowed("ollama-fractional-gpu-number", adding(release("ollama", ollama(ollama__gpu__number=0.5))),
               "gpu-request-valid", message="not a whole number"),
    disallowed("ollama-two-gpus-on-one-gpu-nodes", adding(release("ollama", ollama(ollama__gpu__number=2))),
               "gpu-workload-schedulable", message="1 GPU(s) per instance < 2 per pod"),
    disallowed("ollama-latest-image", adding(release("ollama", ollama(image={"repository": ECR, "tag": "latest"}))),
               "model-provenance", message="latest"),
    disallowed("ollama-default-image-is-not-digest-pinned", adding(release("ollama", ollama(image={}))),
               "model-provenance", message="(ollama)"),
    disallowed("ollama-without-governance-annotations", adding(release("ollama", ollama(podAnnotations={}))),
               *GOVERNANCE),
    disallowed("ollama-readiness-probe-off", adding(release("ollama", ollama(readinessProbe={"enabled": False}))),
               "inference-probes"),
    disallowed("ollama-amd-gpu-without-amd-toleration", adding(release("ollama", ollama(
        ollama__gpu__type="amd"))), "gpu-workload-placement", message="amd.com/gpu"),
    disallowed("release-with-unknown-values", adding(release("ollama", UNKNOWN)), "gpu-request-valid",
               message="cannot verify values"),
    disallowed("release-of-an-unknown-chart-is-an-advisory", adding(release("vllm-stack", {
        "servingEngineSpec": {"modelSpec": [{"requestGPU": 1}]}})), "gpu-request-valid", message="cannot be inspected"),
    # Helm v4 Chart and yaml/v2 render children: those are judged like any other resource.
    disallowed("helm-v4-chart-child-with-a-fractional-gpu", component_child(
        "kubernetes:helm.sh/v4:Chart", workload("Deployment", "child", **fractional())), "gpu-request-valid",
        message="not a whole number"),
    allowed("helm-v4-chart-child-governed", component_child("kubernetes:helm.sh/v4:Chart", workload("Deployment", "child")),
            *ALL),
    allowed("yaml-v2-device-plugin-daemonset", component_child("kubernetes:yaml/v2:ConfigGroup", DEVICE_PLUGIN_DS),
            *GPU),
    disallowed("yaml-v2-cpu-deployment-tolerating-gpus", component_child(
        "kubernetes:yaml/v2:ConfigGroup", workload("Deployment", "cpu", template=_with_spec(_template(resources={
            "requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}), nodeSelector=SYSTEM))),
        "gpu-workload-placement", message="without GPUs"),
]

CASES: list[Case] = [*KIND_CASES, *GOVERNANCE_CASES, *PROBE_CASES, *PATCH_CASES, *UNKNOWN_KIND_CASES, *HELM_CASES]


@pytest.mark.parametrize("case", params(CASES))
def test_workload_shape(pack, case: Case):
    check(pack, case)


def test_the_unknown_chart_note_is_an_advisory_even_in_prod(pack):
    sample = adding(release("vllm-stack", {"servingEngineSpec": {}}))
    run = pack.run(sample(b.good_stack("prod")), config_for("prod"))
    notes = [v for v in run.violations if "cannot be inspected" in v.message]
    assert [(v.policy, v.level) for v in notes] == [("gpu-request-valid", "advisory")], notes
    assert "vllm-stack" in notes[0].message


def test_every_kind_and_patch_is_covered_by_the_table():
    from ai_governance import k8s

    covered = {KIND_TYPES[k] for k in KIND_TYPES} | {KIND_TYPES[k] + "Patch" for k in KIND_TYPES}
    assert covered == set(k8s.WORKLOAD_TYPES)


SECRET_CASES = [
    disallowed("helm-extra-env-literal-token", adding(release("ollama", ollama(
        extraEnv=[{"name": "HF_TOKEN", "value": "hf_abc"}]))), "no-literal-secrets-in-env", message="HF_TOKEN"),
    disallowed("cronjob-patch-literal-password", adding(patch("kubernetes:batch/v1:CronJobPatch", "pw", {
        "jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"name": "job", "env": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]}}}}})),
        "no-literal-secrets-in-env", message="DB_PASSWORD"),
    allowed("secret-from-a-secret-ref-in-helm-values", adding(release("ollama", ollama(extraEnv=[
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}]))),
        "no-literal-secrets-in-env"),
]


@pytest.mark.parametrize("case", params(SECRET_CASES))
def test_literal_secrets_in_every_shape(pack, case: Case):
    check(pack, case)
