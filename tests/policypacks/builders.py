"""Recorded resources, built by hand, in the engine form the program records them in.

``good_stack(env)`` is a small stack that passes every ai-governance policy under that
environment's shipped config; tests break one thing at a time and send the result through the
Analyzer gRPC path. Shapes follow what the components register (see components/node_pool.py,
components/inference_service.py): camelCase keys, numbers as floats, computed values as the
engine's unknown marker.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from preflight.engine import UNKNOWN, RecordedResource

PROJECT, STACK = "ai-platform", "test"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
PREFIX = "finops.apexlogic.com"
GOV = "governance.apexlogic.com"
K8S_PROVIDER = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:kubernetes::k8s::{UNKNOWN}"
SHA = "sha256:" + "ab" * 32
ENV_TIER = {"prod": "production", "staging": "staging", "dev": "development", "local": "development"}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def res(type_: str, name: str, inputs: dict[str, Any], *, protect: bool = False, deps: Iterable[str] = (),
        prop_deps: dict[str, list[str]] | None = None, provider: str = "", custom: bool = True) -> RecordedResource:
    deps = list(deps)
    return RecordedResource(
        urn=urn(type_, name), type=type_, name=name, parent=STACK_URN, custom=custom, inputs=inputs,
        options={"protect": protect, "ignoreChanges": [], "dependsOn": deps, "provider": provider,
                 "retainOnDelete": False, "deleteBeforeReplace": False},
        provider=provider, dependencies=deps, property_dependencies=dict(prop_deps or {}),
    )


def tags(env: str = "prod", project: str = "project-nova", **extra: str) -> dict[str, str]:
    return {f"{PREFIX}/cost-center": "ai-innovation", f"{PREFIX}/project": project, f"{PREFIX}/environment": env,
            f"{PREFIX}/tier": ENV_TIER[env], f"{PREFIX}/owner": "ml-platform-team", **extra}


# --- AWS --------------------------------------------------------------------------------------------

def cluster(env: str = "prod", **over: Any) -> RecordedResource:
    inputs = {
        "name": f"ai-platform-{env}", "version": "1.34", "roleArn": UNKNOWN, "tags": tags(env),
        "vpcConfig": {"subnetIds": UNKNOWN, "endpointPrivateAccess": True, "endpointPublicAccess": env != "prod",
                      **({"publicAccessCidrs": ["203.0.113.0/24"]} if env != "prod" else {})},
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "encryptionConfig": {"provider": {"keyArn": UNKNOWN}, "resources": ["secrets"]},
        "upgradePolicy": {"supportType": "STANDARD"},
    }
    inputs.update(over)
    return res("aws:eks/cluster:Cluster", "cluster-eks", inputs, protect=env == "prod")


def launch_template(name: str, env: str = "prod", project: str = "project-nova", **over: Any) -> RecordedResource:
    t = tags(env, project)
    inputs = {
        "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1.0},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100.0, "volumeType": "gp3",
                                                                   "encrypted": "true"}}],
        "tagSpecifications": [{"resourceType": k, "tags": dict(t)} for k in ("instance", "volume", "network-interface")],
        "tags": dict(t),
    }
    inputs.update(over)
    return res("aws:ec2/launchTemplate:LaunchTemplate", f"{name}-lt", inputs)


def node_group(name: str, lt: RecordedResource, *, env: str = "prod", types: list[str] | None = None,
               min_size: float = 1.0, max_size: float = 2.0, desired: float = 1.0, capacity: str = "ON_DEMAND",
               gpu: bool = True, project: str = "project-nova", **over: Any) -> RecordedResource:
    labels = {"ai-platform.io/node-pool": name}
    taints: list[dict[str, str]] = []
    if gpu:
        labels["nvidia.com/gpu.present"] = "true"
        taints = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    inputs = {
        "clusterName": "ai-platform", "instanceTypes": types or (["g5.2xlarge"] if gpu else ["m6i.large"]),
        "amiType": "AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD", "capacityType": capacity,
        "scalingConfig": {"minSize": min_size, "maxSize": max_size, "desiredSize": desired},
        "labels": labels, "taints": taints, "tags": tags(env, project),
        "launchTemplate": {"id": UNKNOWN, "version": UNKNOWN}, "nodeRoleArn": UNKNOWN, "subnetIds": UNKNOWN,
    }
    inputs.update(over)
    return res("aws:eks/nodeGroup:NodeGroup", f"{name}-ng", inputs, deps=[lt.urn],
               prop_deps={"launchTemplate": [lt.urn]})


def schedule(name: str, ng: RecordedResource, down: bool = True) -> RecordedResource:
    size = 0.0 if down else 2.0
    inputs = {"autoscalingGroupName": UNKNOWN, "scheduledActionName": name, "recurrence": "0 20 * * MON-FRI" if down
              else "0 8 * * MON-FRI", "timeZone": "UTC", "minSize": 0.0, "maxSize": size, "desiredCapacity": size / 2}
    return res("aws:autoscaling/schedule:Schedule", name, inputs, deps=[ng.urn],
               prop_deps={"autoscalingGroupName": [ng.urn]})


def budget(project: str, limit: float, env: str = "prod", emails: list[str] | None = None) -> RecordedResource:
    notifications = [{"comparisonOperator": "GREATER_THAN", "notificationType": kind, "threshold": pct,
                      "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": emails if emails is not None
                      else ["finops@apexlogic.com"], "subscriberSnsTopicArns": []}
                     for kind, pct in (("ACTUAL", 80.0), ("FORECASTED", 100.0))]
    inputs = {"budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": f"{limit:.2f}", "limitUnit": "USD",
              "costFilters": [{"name": "TagKeyValue", "values": [f"user:{PREFIX}/project${project}"]}],
              "notifications": notifications, "tags": tags(env, project)}
    return res("aws:budgets/budget:Budget", f"budget-{project}", inputs, protect=env == "prod")


def cost_allocation_tags() -> list[RecordedResource]:
    return [res("aws:costexplorer/costAllocationTag:CostAllocationTag", f"cat-{k}",
                {"tagKey": f"{PREFIX}/{k}", "status": "Active"})
            for k in ("cost-center", "project", "environment", "tier", "owner")]


# --- Kubernetes -------------------------------------------------------------------------------------

def k8s(type_: str, name: str, inputs: dict[str, Any], **kw: Any) -> RecordedResource:
    return res(type_, name, inputs, provider=K8S_PROVIDER, **kw)


def namespace(name: str, env: str = "prod", project: str = "project-nova") -> RecordedResource:
    return k8s("kubernetes:core/v1:Namespace", name, {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": name, "labels": tags(env, project)}})


def governance(risk: str = "limited", classification: str = "internal", policy: str = "policy-2026-001",
               version: str = "v1.2.0", **over: str) -> dict[str, str]:
    facts = {
        "ethics-policy-id": policy, "model-card": "https://models.apexlogic.com/multimodal-model/v1.2.0/model-card",
        "model-name": "multimodal-model", "model-version": version, "risk-tier": risk,
        "data-classification": classification, "owner": "ml-oversight@apexlogic.com",
        "intended-use": "Captioning and visual question answering on internal product imagery.",
        "eval-date": "2026-11-02", "eval-report": "s3://apexlogic-model-evals/report.json",
        "eval-accuracy": "0.95", "eval-demographic-parity-difference": "0.02", "audit-logging": "false",
    }
    if risk == "high":
        facts.update({"audit-logging": "true", "explainability": "https://models.apexlogic.com/x/explainability"})
    facts.update(over)
    return {f"{GOV}/{k}": v for k, v in facts.items() if v is not None}


def container(image: str, gpus: int | str | None = 1, version: str = "v1.2.0", policy: str = "policy-2026-001",
              **over: Any) -> dict[str, Any]:
    requests: dict[str, Any] = {"cpu": "3", "memory": "12Gi"}
    limits: dict[str, Any] = {"memory": "12Gi"}
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
        limits["nvidia.com/gpu"] = str(gpus)
    value = {
        "name": "model-server", "image": image, "ports": [{"name": "http", "containerPort": 8080.0}],
        "env": [{"name": "MODEL_VERSION", "value": version}, {"name": "ETHICS_POLICY_ID", "value": policy},
                {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}],
        "resources": {"requests": requests, "limits": limits},
        "readinessProbe": {"httpGet": {"path": "/health/ready", "port": "http"}, "periodSeconds": 10.0},
    }
    value.update(over)
    return value


def deployment(name: str, ns: str, *, env: str = "prod", gpus: int = 1, image: str | None = None,
               annotations: dict[str, str] | None = None, pool: str = "gpu", project: str = "project-nova",
               containers: list[dict[str, Any]] | None = None, replicas: float | None = None) -> RecordedResource:
    image = image or (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model:v1.2.0@{SHA}")
    select = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "inference"}
    labels = {**tags(env, project), **select, "app.kubernetes.io/version": "v1.2.0"}
    notes = governance() if annotations is None else annotations
    spec: dict[str, Any] = {"containers": containers or [container(image, gpus)]}
    if gpus:
        spec["nodeSelector"] = {"ai-platform.io/node-pool": pool, "nvidia.com/gpu.present": "true"}
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    else:
        spec["nodeSelector"] = {"ai-platform.io/node-pool": "system"}
    inputs: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": notes},
        "spec": {"selector": {"matchLabels": select},
                 "template": {"metadata": {"labels": labels, "annotations": copy.deepcopy(notes)}, "spec": spec}},
    }
    if replicas is not None:
        inputs["spec"]["replicas"] = replicas
    return k8s("kubernetes:apps/v1:Deployment", name, inputs)


def hpa(name: str, ns: str, min_replicas: float = 2.0) -> RecordedResource:
    return k8s("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"{name}-hpa", {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                 "minReplicas": min_replicas, "maxReplicas": 4.0}})


def pdb(name: str, ns: str) -> RecordedResource:
    return k8s("kubernetes:policy/v1:PodDisruptionBudget", f"{name}-pdb", {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": ns},
        "spec": {"maxUnavailable": 1.0, "selector": {"matchLabels": {"app.kubernetes.io/name": name,
                                                                      "app.kubernetes.io/component": "inference"}}}})


def service(name: str, ns: str, type_: str = "ClusterIP", annotations: dict[str, str] | None = None) -> RecordedResource:
    metadata: dict[str, Any] = {"name": name, "namespace": ns}
    if annotations:
        metadata["annotations"] = annotations
    return k8s("kubernetes:core/v1:Service", f"{name}-svc", {
        "apiVersion": "v1", "kind": "Service", "metadata": metadata,
        "spec": {"type": type_, "selector": {"app.kubernetes.io/name": name}, "ports": [{"port": 8080.0}]}})


def helm_release(name: str, chart: str, version: str | None, *, protect: bool = False,
                 values: dict[str, Any] | None = None) -> RecordedResource:
    inputs: dict[str, Any] = {"chart": chart, "namespace": "argocd" if chart == "argo-cd" else "kube-system",
                              "repositoryOpts": {"repo": "https://argoproj.github.io/argo-helm"},
                              "values": values or {"server": {"service": {"type": "ClusterIP"}}}}
    if version is not None:
        inputs["version"] = version
    return k8s("kubernetes:helm.sh/v3:Release", name, inputs, protect=protect)


def monitoring(projects: Iterable[str] = ("project-nova",)) -> RecordedResource:
    """kube-prometheus-stack whose Alertmanager routes each project to a receiver that notifies someone."""
    config = {
        "route": {"receiver": "platform", "group_by": ["project", "service", "alertname"],
                  "routes": [{"receiver": f"project-{p}", "matchers": [f'project="{p}"']} for p in projects]},
        "receivers": [{"name": "platform"},
                      *({"name": f"project-{p}", "webhook_configs": [{"url": f"https://hooks.example.org/{p}"}]}
                        for p in projects)],
    }
    release = helm_release("kube-prometheus-stack", "kube-prometheus-stack", "88.5.3",
                           values={"alertmanager": {"config": config}})
    release.inputs.update(namespace="monitoring",
                          repositoryOpts={"repo": "https://prometheus-community.github.io/helm-charts"})
    return release


def prometheus_rule(services: Iterable[tuple[str, str]] = (("project-nova", "multimodal"),),
                    alerts: Iterable[str] = ("SloErrorBudgetBurnFast", "ModelQualityBelowMinimum")) -> RecordedResource:
    """The generated PrometheusRule, reduced to the alerts and labels the coverage policy reads."""
    rules = [{"alert": a, "expr": "vector(1)", "labels": {"project": p, "service": s, "severity": "critical"}}
             for p, s in services for a in alerts]
    return k8s("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "observability-rules", {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "metadata": {"name": "ai-platform-generated", "namespace": "monitoring"},
        "spec": {"groups": [{"name": "ai-platform", "rules": rules}]}})


# --- whole stacks -------------------------------------------------------------------------------------

def good_stack(env: str = "prod") -> list[RecordedResource]:
    """A stack that passes every policy under ``config/<env>.json`` (asOf pinned by the tests)."""
    prod = env == "prod"
    system_lt = launch_template("system", env)
    system_ng = node_group("system", system_lt, env=env, types=["m6i.large"], gpu=False, min_size=2.0, max_size=3.0,
                           desired=2.0)
    gpu_lt = launch_template("gpu", env)
    gpu_ng = node_group("gpu", gpu_lt, env=env, types=["g5.2xlarge"] if prod else ["g5.xlarge"],
                        min_size=2.0 if prod else 0.0, max_size=3.0 if prod else 2.0, desired=2.0 if prod else 1.0,
                        capacity="ON_DEMAND" if prod else "SPOT")
    resources = [cluster(env), system_lt, system_ng, gpu_lt, gpu_ng]
    if not prod:
        resources += [schedule("gpu-down", gpu_ng, True), schedule("gpu-up", gpu_ng, False)]
    resources += [budget("project-nova", 20000.0 if prod else 3000.0, env), *cost_allocation_tags(),
                  namespace("project-nova", env)]
    image = (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model:v1.2.0@{SHA}" if prod
             else "apexlogic/multimodal-model:v1.2.0")
    resources += [deployment("multimodal", "project-nova", env=env, image=image),
                  hpa("multimodal", "project-nova", 2.0 if prod else 1.0), service("multimodal", "project-nova")]
    if prod:
        resources.append(pdb("multimodal", "project-nova"))
    resources.append(helm_release("argocd", "argo-cd", "9.1.4", protect=prod,
                                  values={"server": {"service": {"type": "ClusterIP"}},
                                          "configs": {"cm": {"admin.enabled": False}}}))
    resources += [monitoring(), prometheus_rule()]
    from tests.policypacks.store_builders import good_store  # it builds on this module

    return [*resources, *good_store(env)]


def replace(resources: list[RecordedResource], name: str, edit: Callable[[RecordedResource], Any]
            ) -> list[RecordedResource]:
    """A deep copy of ``resources`` with ``edit`` applied to the one named ``name``."""
    copied = copy.deepcopy(resources)
    found = [r for r in copied if r.name == name]
    assert len(found) == 1, f"no single resource named {name}: {[r.name for r in copied]}"
    edit(found[0])
    return copied


def without(resources: list[RecordedResource], *names: str) -> list[RecordedResource]:
    return [copy.deepcopy(r) for r in resources if r.name not in names]


def handwritten_deployment(env: str = "prod") -> RecordedResource:
    """A hand-written manifest as a Kubernetes Deployment: request 0.5 GPU under a limit of 1,
    image apexlogic/multimodal-model:v1.2.0 (no digest). Config validation cannot express it
    (GPUs are a StrictInt), so it is built directly, as a hand-written manifest would be."""
    manifest = container("apexlogic/multimodal-model:v1.2.0", None)
    manifest["resources"] = {"requests": {"nvidia.com/gpu": "0.5", "cpu": "3", "memory": "12Gi"},
                             "limits": {"nvidia.com/gpu": "1", "memory": "12Gi"}}
    return deployment("multimodal-inference-service", "project-nova", env=env, containers=[manifest])
