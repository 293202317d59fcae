"""The Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget specs of a service."""

from __future__ import annotations

import math
from typing import Any

import pulumi
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgsDict
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscalerSpecArgsDict
from pulumi_kubernetes.core.v1 import (
    ServiceSpecArgsDict,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgsDict

from components.config import InferenceServiceConfig
from components.inference.args import (
    GPU_CAPACITY_SECONDS,
    GPU_MIN_TIMEOUT_MINUTES,
    PORT_NAME,
    InferenceServiceArgs,
)
from components.inference.pod import pod_spec
from components.metadata import (
    PULUMI_SKIP_AWAIT,
    GovernanceFacts,
    selector_labels,
    workload_labels,
)
from components.observability.metrics import autoscaling_metric


def metadata(args: InferenceServiceArgs, *, governance: bool = False) -> ObjectMetaArgsDict:
    svc = args.service
    meta: ObjectMetaArgsDict = {
        "name": svc.name,
        "namespace": args.namespace,
        "labels": workload_labels(args.tags, svc.name, svc.model.version),
    }
    if governance:
        meta["annotations"] = GovernanceFacts.of(svc).annotations(args.governance_prefix)
    return meta


def deployment_metadata(args: InferenceServiceArgs) -> ObjectMetaArgsDict:
    """The Deployment's metadata: governance annotations and, where its pool may sit at zero, skipAwait."""
    meta = metadata(args)
    annotations = GovernanceFacts.of(args.service).annotations(args.governance_prefix)
    if args.skip_await:
        annotations[PULUMI_SKIP_AWAIT] = "true"
    meta["annotations"] = annotations
    return meta


def progress_deadline_seconds(args: InferenceServiceArgs) -> int:
    """The startup budget, plus a node and an image pull for a GPU service (at least 30 minutes)."""
    startup = args.service.probes.startup_timeout_seconds
    if args.service.resources.gpus > 0:
        return max(GPU_MIN_TIMEOUT_MINUTES * 60, startup + GPU_CAPACITY_SECONDS)
    return max(600, startup + 120)


def deployment_timeouts(args: InferenceServiceArgs) -> pulumi.CustomTimeouts | None:
    """Create/update timeouts of a GPU Deployment: no shorter than its progress deadline; None for CPU."""
    if args.service.resources.gpus == 0:
        return None
    minutes = f"{max(GPU_MIN_TIMEOUT_MINUTES, math.ceil(progress_deadline_seconds(args) / 60))}m"
    return pulumi.CustomTimeouts(create=minutes, update=minutes)


def deployment_spec(args: InferenceServiceArgs) -> DeploymentSpecArgsDict:
    svc = args.service
    return {
        # No "replicas": the HPA owns the scale (see the module docstring).
        "selector": {"match_labels": selector_labels(svc.name)},
        "revision_history_limit": 5,
        "progress_deadline_seconds": progress_deadline_seconds(args),
        # GPU: none extra, one down (a surge pod has no GPU at max replicas); CPU: one extra, none down.
        "strategy": {"type": "RollingUpdate", "rolling_update": {
            "max_surge": svc.rollout_max_surge, "max_unavailable": svc.rollout_max_unavailable}},
        "template": {
            "metadata": {
                "labels": workload_labels(args.tags, svc.name, svc.model.version),
                "annotations": GovernanceFacts.of(svc).annotations(args.governance_prefix),
            },
            "spec": pod_spec(args),
        },
    }


def service_spec(args: InferenceServiceArgs) -> ServiceSpecArgsDict:
    svc = args.service
    return {
        "type": "ClusterIP",
        "selector": selector_labels(svc.name),
        "ports": [{"name": PORT_NAME, "port": svc.port, "target_port": PORT_NAME, "protocol": "TCP"}],
    }


def hpa_metrics(svc: InferenceServiceConfig) -> list[dict[str, Any]]:
    """cpu utilisation by default (a proxy: a GPU server can be saturated at low cpu); or, through
    prometheus-adapter, GPU utilisation or requests in flight per pod (``services[].autoscaling``)."""
    custom = autoscaling_metric(svc)
    if custom is None:
        return [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "average_utilization": svc.target_cpu_utilization}}}]
    return [{"type": "Pods", "pods": {"metric": {"name": custom}, "target": {
        "type": "AverageValue", "average_value": f"{svc.autoscaling.effective_target:g}"}}}]


def hpa_spec(args: InferenceServiceArgs) -> HorizontalPodAutoscalerSpecArgsDict:
    svc = args.service
    return {
        "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": svc.name},
        "min_replicas": svc.replicas.min,
        "max_replicas": svc.replicas.max,
        "metrics": hpa_metrics(svc),  # type: ignore[typeddict-item]
        # Scale down one pod at a time after 5 minutes of calm: GPU pods are slow to come back.
        "behavior": {"scale_down": {"stabilization_window_seconds": 300,
                                    "policies": [{"type": "Pods", "value": 1, "period_seconds": 120}]}},
    }


def pdb_spec(args: InferenceServiceArgs) -> PodDisruptionBudgetSpecArgsDict | None:
    """A PDB only when there are >= 2 replicas to keep one of (with 1 it would block every drain)."""
    if args.service.replicas.min < 2:
        return None
    return {
        "max_unavailable": 1,
        "selector": {"match_labels": selector_labels(args.service.name)},
        "unhealthy_pod_eviction_policy": "AlwaysAllow",
    }
