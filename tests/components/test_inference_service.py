"""InferenceService on the fixture stacks: the recorded ServiceAccount, Deployment, Service, HPA and PDB inputs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from preflight.engine import Recording
from tests.support.fixtures import P, preview, recorded
from tests.support.recordings import one

COMPONENT = "ai-platform:inference:InferenceService"
SA = "kubernetes:core/v1:ServiceAccount"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
MMS = "multimodal-inference-service"
CLAIMS = "claims-triage-assistant"
FINOPS = "finops.apexlogic.com/"
GOV = "governance.apexlogic.com/"


def pod(recording: Recording, name: str) -> dict[str, Any]:
    return one(recording, DEPLOYMENT, name).inputs["spec"]["template"]


def main_container(recording: Recording, name: str) -> dict[str, Any]:
    containers = pod(recording, name)["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_every_service_is_a_component_whose_kubernetes_children_use_the_cluster_provider(every_stack):
    rec = every_stack
    providers = rec.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    components = rec.of_type(COMPONENT)
    assert components, f"{rec.stack}: no InferenceService"
    for component in components:
        children = [r for r in rec.resources if r.parent == component.urn]
        assert {c.type for c in children} >= {SA, DEPLOYMENT, SERVICE, HPA}
        for child in children:
            assert child.options["provider"].startswith(providers[0].urn + "::"), child.urn
    # ...and so does every Kubernetes object in the stack, whoever made it.
    for resource in rec.resources:
        if resource.custom and resource.type.startswith("kubernetes:"):
            assert resource.options["provider"].startswith(providers[0].urn + "::"), resource.urn


def test_deployment_carries_finops_labels_and_governance_annotations_on_itself_and_its_pods(dev):
    deployment = one(dev, DEPLOYMENT, MMS)
    labels = {
        FINOPS + "cost-center": "ai-innovation",
        FINOPS + "project": "project-nova",
        FINOPS + "environment": "dev",
        FINOPS + "tier": "development",
        FINOPS + "owner": "ml-platform-team",
        "app.kubernetes.io/name": MMS,
        "app.kubernetes.io/instance": MMS,
        "app.kubernetes.io/component": "inference",
        "app.kubernetes.io/version": "v1.2.0",
        "app.kubernetes.io/part-of": "ai-platform",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    annotations = {
        GOV + "ethics-policy-id": "policy-2026-001",
        GOV + "model-card": "https://models.apexlogic.com/multimodal-model/v1.2.0/model-card",
        GOV + "model-name": "multimodal-model",
        GOV + "model-version": "v1.2.0",
        GOV + "risk-tier": "limited",
        GOV + "data-classification": "internal",
        GOV + "owner": "ml-oversight@apexlogic.com",
        GOV + "intended-use": "Captioning and visual question answering on internal product imagery.",
        GOV + "eval-date": "2026-11-02",
        GOV + "eval-report": "s3://apexlogic-model-evals/multimodal-model/v1.2.0/report.json",
        GOV + "eval-accuracy": "0.91",
        GOV + "eval-demographic-parity-difference": "0.04",
        GOV + "audit-logging": "false",
    }
    # dev's GPU pool sleeps off-peak: pulumi does not await the Deployment (see the skipAwait test).
    assert deployment.inputs["metadata"] == {"name": MMS, "namespace": "project-nova", "labels": labels,
                                             "annotations": {**annotations, "pulumi.com/skipAwait": "true"}}
    assert pod(dev, MMS)["metadata"] == {"labels": labels, "annotations": annotations}


def test_high_risk_service_carries_its_safeguards_and_its_projects_cost_center(prod):
    meta = one(prod, DEPLOYMENT, CLAIMS).inputs["metadata"]
    assert meta["annotations"][GOV + "risk-tier"] == "high"
    assert meta["annotations"][GOV + "data-classification"] == "pii"
    assert meta["annotations"][GOV + "explainability"] == (
        "https://models.apexlogic.com/claims-triage-llm/v2.3.1/explainability")
    assert meta["annotations"][GOV + "audit-logging"] == "true"
    assert meta["labels"][FINOPS + "cost-center"] == "claims-analytics"
    assert meta["namespace"] == "project-atlas"


def test_governance_prefix_is_one_configurable_prefix():
    rec = preview("sandbox", lambda c: c[P + "finops"].update(governancePrefix="ai-governance.example.org"))
    annotations = one(rec, DEPLOYMENT, MMS).inputs["metadata"]["annotations"]
    governance = [k for k in annotations if not k.startswith("pulumi.com/")]  # Pulumi's own await control
    assert governance and all(k.startswith("ai-governance.example.org/") for k in governance)


def test_env_carries_model_version_and_ethics_policy_then_the_configured_env():
    rec = preview("sandbox", lambda c: c[P + "services"][0].update(env={"LOG_LEVEL": "info", "BATCH": "8"}))
    assert main_container(rec, MMS)["env"] == [
        {"name": "MODEL_VERSION", "value": "v1.2.0"},
        {"name": "ETHICS_POLICY_ID", "value": "policy-2026-001"},
        {"name": "HOME", "value": "/model-cache"},
        {"name": "HF_HOME", "value": "/model-cache"},
        {"name": "BATCH", "value": "8"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]


def test_a_secret_env_var_is_a_secret_key_ref_never_a_value():
    ref = {"valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}
    rec = preview("sandbox", lambda c: c[P + "services"][0].update(env={"HF_TOKEN": ref, "LOG_LEVEL": "info"}))
    assert main_container(rec, MMS)["env"][4:] == [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}},
        {"name": "LOG_LEVEL", "value": "info"},
    ]


def test_gpus_go_in_limits_with_an_equal_request(dev, prod):
    assert main_container(dev, MMS)["resources"] == {
        "requests": {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "1", "ephemeral-storage": "50Gi"},
        "limits": {"memory": "12Gi", "nvidia.com/gpu": "1"},
    }
    claims = main_container(prod, CLAIMS)["resources"]
    assert claims["limits"]["nvidia.com/gpu"] == claims["requests"]["nvidia.com/gpu"] == "2"


def test_cpu_only_service_has_no_gpu_resource_no_gpu_toleration_and_runs_as_configured(local):
    container = main_container(local, "echo-model")
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "2Gi"},
                                      "limits": {"memory": "128Mi"}}
    assert container["image"] == "registry.k8s.io/e2e-test-images/agnhost:2.52"
    assert container["args"] == ["netexec", "--http-port=8080", "--udp-port=8081"]
    spec = pod(local, "echo-model")["spec"]
    assert "tolerations" not in spec
    # The kind node is labelled as the system pool (stacks/kind-cluster.yaml), like an EKS node.
    assert spec["nodeSelector"] == {"ai-platform.io/node-pool": "system"}


def test_gpu_pods_tolerate_the_pools_taint_and_select_its_nodes(dev):
    spec = pod(dev, MMS)["spec"]
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    assert spec["nodeSelector"] == {"ai-platform.io/node-pool": "gpu-a10g", "nvidia.com/gpu.present": "true",
                                    "k8s.amazonaws.com/accelerator": "nvidia-a10g",
                                    "ai-platform.io/nvidia-device-plugin": "chart"}


def test_placement_follows_the_pool_definition_not_a_retyped_copy():
    def custom_pool(c: dict[str, Any]) -> None:
        c[P + "nodePools"][1].update(labels={"accelerator": "a10g"},
                                     taints=[{"key": "dedicated", "value": "inference", "effect": "NoExecute"},
                                             {"key": "nvidia.com/gpu", "effect": "NoSchedule"}])

    spec = pod(preview("sandbox", custom_pool), MMS)["spec"]
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "inference", "effect": "NoExecute"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert spec["nodeSelector"] == {"accelerator": "a10g", "ai-platform.io/node-pool": "gpu-a10g",
                                    "nvidia.com/gpu.present": "true", "k8s.amazonaws.com/accelerator": "nvidia-a10g",
                                    "ai-platform.io/nvidia-device-plugin": "chart"}


def test_cpu_service_on_an_aws_system_pool_selects_it_without_tolerating_gpus():
    def add_cpu_service(c: dict[str, Any]) -> None:
        svc = copy.deepcopy(c[P + "services"][0])
        svc.update(name="tokenizer", nodePool="system", resources={"gpus": 0, "cpu": "1", "memory": "2Gi"})
        c[P + "services"].append(svc)

    spec = pod(preview("sandbox", add_cpu_service), "tokenizer")["spec"]
    assert spec["nodeSelector"] == {"ai-platform.io/node-pool": "system"}
    assert "tolerations" not in spec
    assert "nvidia.com/gpu" not in str(spec["containers"][0]["resources"])


def test_security_context_is_non_root_without_privileges(dev):
    spec = pod(dev, MMS)["spec"]
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                       "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    assert main_container(dev, MMS)["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "allowPrivilegeEscalation": False,
        "privileged": False, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == MMS
    assert spec["enableServiceLinks"] is False


def test_probes_use_the_configured_paths_and_a_startup_budget_for_model_loading(dev, local):
    container = main_container(dev, MMS)
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"] == {"httpGet": {"path": "/health/ready", "port": "http", "scheme": "HTTP"},
                                           "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 600
    echo = main_container(local, "echo-model")
    assert echo["readinessProbe"]["httpGet"]["path"] == echo["livenessProbe"]["httpGet"]["path"] == "/"
    assert echo["startupProbe"]["failureThreshold"] == 6


def test_deployment_spec_leaves_replicas_to_the_hpa_and_rolls_one_pod_at_a_time(dev, local):
    spec = one(dev, DEPLOYMENT, MMS).inputs["spec"]
    assert "replicas" not in spec
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": MMS, "app.kubernetes.io/component": "inference"}}
    # GPU: no surge pod (at max replicas it needs a GPU that quota and pool do not have), one down instead.
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    # CPU: one extra pod, none down.
    assert one(local, DEPLOYMENT, "echo-model").inputs["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    # The selector selects the pods the template makes.
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("stack", ["sandbox", "preprod", "live"])
def test_gpu_deployments_get_30_minute_timeouts_and_a_progress_deadline_to_match(stack):
    recording = recorded(stack)
    gpu = [d for d in recording.of_type(DEPLOYMENT) if COMPONENT in d.parent]
    assert gpu
    for deployment in gpu:
        assert deployment.options["customTimeouts"] == {"create": "30m", "update": "30m"}, deployment.name
        assert deployment.inputs["spec"]["progressDeadlineSeconds"] == 1800
        assert deployment.inputs["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_a_longer_model_load_stretches_the_gpu_timeouts(dev):
    rec = preview("sandbox", lambda c: c[P + "services"][0].update(probes={"startupTimeoutSeconds": 1500}))
    deployment = one(rec, DEPLOYMENT, MMS)
    assert deployment.inputs["spec"]["progressDeadlineSeconds"] == 1500 + 1200
    assert deployment.options["customTimeouts"] == {"create": "45m", "update": "45m"}


def test_cpu_deployments_keep_the_default_timeouts_and_wait(local):
    deployment = one(local, DEPLOYMENT, "echo-model")
    assert "customTimeouts" not in deployment.options
    assert deployment.inputs["spec"]["progressDeadlineSeconds"] == 600
    assert "pulumi.com/skipAwait" not in deployment.inputs["metadata"].get("annotations", {})


@pytest.mark.parametrize("stack, skip", [("sandbox", True), ("preprod", True), ("live", False)])
def test_skip_await_only_outside_prod_on_gpu_pools_that_sit_at_zero(stack, skip):
    # dev and staging GPU pools sleep off-peak (and dev's min size is 0): no node for hours, so
    # `pulumi up` must not wait for the rollout. prod pools never sit at zero: wait.
    for deployment in recorded(stack).of_type(DEPLOYMENT):
        if COMPONENT not in deployment.parent:
            continue
        annotations = deployment.inputs["metadata"]["annotations"]
        assert (annotations.get("pulumi.com/skipAwait") == "true") is skip, deployment.name
        # The pod template never carries it (it is about the Deployment object).
        assert "pulumi.com/skipAwait" not in deployment.inputs["spec"]["template"]["metadata"]["annotations"]


def test_a_dev_gpu_pool_that_never_sits_at_zero_is_awaited():
    def edit(c):
        gpu = next(p for p in c[P + "nodePools"] if p["name"] == "gpu-a10g")
        gpu.update(minSize=1, offPeak=False)

    annotations = one(preview("sandbox", edit), DEPLOYMENT, MMS).inputs["metadata"]["annotations"]
    assert "pulumi.com/skipAwait" not in annotations


def test_prod_spreads_pods_across_zones_and_dev_does_not(dev, prod):
    assert "topologySpreadConstraints" not in pod(dev, MMS)["spec"]
    constraints = pod(prod, MMS)["spec"]["topologySpreadConstraints"]
    selector = {"matchLabels": {"app.kubernetes.io/name": MMS, "app.kubernetes.io/component": "inference"}}
    assert constraints == [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"]},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"]},
    ]


def test_deployment_waits_for_its_service_account_namespace_quota_and_limit_range(dev):
    deployment = one(dev, DEPLOYMENT, MMS)
    expected = {one(dev, t, n).urn for t, n in [(SA, MMS), ("kubernetes:core/v1:Namespace", "project-nova"),
                                                 ("kubernetes:core/v1:ResourceQuota", "project-nova"),
                                                 ("kubernetes:core/v1:LimitRange", "project-nova")]}
    assert expected <= set(deployment.dependencies)


def test_service_is_cluster_ip_on_the_named_port(dev):
    service = one(dev, SERVICE, MMS)
    assert service.inputs["metadata"]["namespace"] == "project-nova"
    assert service.inputs["metadata"]["labels"][FINOPS + "project"] == "project-nova"
    assert service.inputs["spec"] == {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": MMS, "app.kubernetes.io/component": "inference"},
        "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
    }


def test_hpa_scales_the_deployment_between_min_and_max(dev, prod):
    spec = one(dev, HPA, MMS).inputs["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": MMS}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 2)
    assert spec["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    prod_spec = one(prod, HPA, CLAIMS).inputs["spec"]
    assert (prod_spec["minReplicas"], prod_spec["maxReplicas"]) == (2, 6)
    assert one(dev, HPA, MMS).inputs["apiVersion"] == "autoscaling/v2"


def test_pdb_only_when_min_replicas_is_at_least_two(dev, prod):
    assert dev.of_type(PDB) == []
    for name in (MMS, CLAIMS):
        pdb = one(prod, PDB, name)
        assert pdb.inputs["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "inference"}},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        }
    rec = preview("sandbox", lambda c: c[P + "services"][0]["replicas"].update(min=2, max=2))
    assert one(rec, PDB, MMS).inputs["metadata"]["namespace"] == "project-nova"


def test_service_account_token_is_not_mounted_unless_asked(dev):
    assert one(dev, SA, MMS).inputs["automountServiceAccountToken"] is False
    rec = preview("sandbox", lambda c: c[P + "services"][0].update(automountServiceAccountToken=True))
    assert one(rec, SA, MMS).inputs["automountServiceAccountToken"] is True
    assert pod(rec, MMS)["spec"]["automountServiceAccountToken"] is True


def test_service_urls_are_exported(prod):
    assert prod.outputs["inferenceServices"] == {
        MMS: f"http://{MMS}.project-nova.svc.cluster.local:8080",
        CLAIMS: f"http://{CLAIMS}.project-atlas.svc.cluster.local:8080",
    }
