"""InferenceService: one model behind a ClusterIP Service, placed on its node pool, governed and billed.

Children: a ServiceAccount (no token automount unless asked), a Deployment, a ClusterIP Service, an
``autoscaling/v2`` HorizontalPodAutoscaler and, when min replicas >= 2, a PodDisruptionBudget.

Every Kubernetes input is built by the pure ``render`` function below from the typed config; the
component only hands those values to the resources, and ``manifests`` serializes the very same
values the way the SDK does for the engine (the hypothesis and schema tests use it).

GPU requests: the config holds one whole number (``resources.gpus``, a StrictInt). ``nvidia.com/gpu``
is written to ``limits`` and, equal to it, to ``requests``; nothing can express a fractional GPU, a
request without a limit, or a request that differs from the limit (Kubernetes rejects all three).

The Deployment never sets ``spec.replicas``: the HPA owns the scale (``minReplicas``/``maxReplicas``).
A replica count in the Deployment would be re-applied on every update, and under server-side apply
it conflicts with the HPA's field manager (pulumi/pulumi-kubernetes#2569).

Rollouts: a GPU service rolls with ``maxSurge: 0, maxUnavailable: 1``. At max replicas a surge pod
needs one more GPU than the project's quota and the pool's max size provide, so a surge rollout
would stall; the old pod's GPU goes to the new one instead. CPU services keep ``maxSurge: 1,
maxUnavailable: 0``. A GPU rollout may wait for a node from zero, a multi-GB image pull and the
model load, longer than Pulumi's 10-minute default: GPU Deployments get ``customTimeouts`` (create and
update, at least 30 minutes) and a ``progressDeadlineSeconds`` that leaves the same room. Outside prod,
a GPU pool that can sit at zero (``minSize: 0`` or an off-peak schedule) may have no node for hours, so
its Deployments carry ``pulumi.com/skipAwait: "true"``: ``pulumi up`` does not wait for them to become
ready (check with ``kubectl rollout status``), instead of failing after the timeout at night.

Disk and memory of real model servers: a sized ``emptyDir`` model cache (``HOME`` and ``HF_HOME`` point
at it, and its size is requested as ``ephemeral-storage``), and an in-memory ``/dev/shm`` for services
with more than one GPU (or when ``sharedMemory.enabled``): NCCL needs far more than the default 64 MiB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgsDict
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscalerSpecArgsDict
from pulumi_kubernetes.core.v1 import (
    ContainerArgsDict,
    EnvVarArgsDict,
    PodSpecArgsDict,
    ProbeArgsDict,
    ResourceRequirementsArgsDict,
    ServiceSpecArgsDict,
    TolerationArgsDict,
    TopologySpreadConstraintArgsDict,
    VolumeArgsDict,
    VolumeMountArgsDict,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgsDict

from ai_platform_finops.tags import FinOpsTags

from .config import GPU_RESOURCE, InferenceServiceConfig, NodePoolConfig
from .config.services import MODEL_CACHE_ENV, ServiceResources
from .k8s_manifest import engine_form
from .observability.metrics import autoscaling_metric
from .metadata import (
    ENV_ETHICS_POLICY_ID,
    ENV_MODEL_VERSION,
    HOSTNAME_TOPOLOGY_KEY,
    PULUMI_SKIP_AWAIT,
    ZONE_TOPOLOGY_KEY,
    GovernanceFacts,
    selector_labels,
    workload_labels,
)

TYPE = "ai-platform:inference:InferenceService"
CONTAINER_NAME = "model-server"
PORT_NAME = "http"
PROBE_PERIOD_SECONDS = 10
GPU_CAPACITY_SECONDS = 1200
"""What a GPU rollout may spend before the model loads: a node from zero and a multi-GB image pull."""
GPU_MIN_TIMEOUT_MINUTES = 30
EPHEMERAL_STORAGE = "ephemeral-storage"
SHM_VOLUME, SHM_PATH = "dshm", "/dev/shm"
MODEL_CACHE_VOLUME = "model-cache"


@dataclass(frozen=True)
class InferenceServiceArgs:
    """Everything one InferenceService needs, already resolved from the stack config."""

    service: InferenceServiceConfig
    pool: NodePoolConfig
    """The node pool named by ``service.node_pool``: the source of tolerations and nodeSelector."""
    tags: FinOpsTags
    """The FinOps tags of the service's project."""
    governance_prefix: str
    namespace: pulumi.Input[str]
    """The project's namespace (pass ProjectNamespace.namespace so the Deployment waits for it)."""
    spread_across_zones: bool = False
    """Topology spread across zones and hosts (prod)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the pods need first, e.g. the namespace's quota and limit range, and metrics-server."""
    skip_await: bool = False
    """``pulumi.com/skipAwait`` on the Deployment: its pool may sit at zero (non-prod GPU pools)."""


# --- pure rendering --------------------------------------------------------------------------

def gpu_quantity(gpus: int) -> str:
    """A whole GPU count as a quantity; anything else is a programming error, never rounded."""
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise TypeError(f"GPU counts are whole numbers >= 0, got {gpus!r}")
    return str(gpus)


def container_resources(resources: ServiceResources, model_cache_size: str | None = None) -> ResourceRequirementsArgsDict:
    """cpu/memory requests, memory limit = request; GPUs in limits with an equal request; the model
    cache's size as an ephemeral-storage request, so the scheduler picks a node with that much disk.

    No cpu limit: CFS throttling adds tail latency to inference; the quota caps cpu requests.
    """
    requests: dict[str, str] = {"cpu": resources.cpu, "memory": resources.memory}
    if model_cache_size is not None:
        requests[EPHEMERAL_STORAGE] = model_cache_size
    limits: dict[str, str] = {"memory": resources.memory}
    if resources.gpus > 0:
        gpus = gpu_quantity(resources.gpus)
        limits[GPU_RESOURCE] = gpus
        requests[GPU_RESOURCE] = gpus
    return {"requests": requests, "limits": limits}


def tolerations(pool: NodePoolConfig, gpus: int) -> list[TolerationArgsDict]:
    """The pool's taints as tolerations. A pod without GPUs never tolerates the GPU taint."""
    result: list[TolerationArgsDict] = []
    for taint in pool.effective_taints:
        if gpus == 0 and taint.key == GPU_RESOURCE:
            continue
        toleration: TolerationArgsDict = {"key": taint.key, "effect": taint.effect.value}
        if taint.value:
            toleration["operator"] = "Equal"
            toleration["value"] = taint.value
        else:
            toleration["operator"] = "Exists"
        result.append(toleration)
    return result


def node_selector(pool: NodePoolConfig) -> dict[str, str]:
    """The pool's node labels: its own, the pool label and, for GPU pools, nvidia.com/gpu.present.

    The local stack's kind node carries the pool label too (stacks/kind-cluster.yaml).
    """
    return dict(pool.effective_labels)


def _probe(path: str, period: int, failure_threshold: int, timeout: int = 5) -> ProbeArgsDict:
    return {
        "http_get": {"path": path, "port": PORT_NAME, "scheme": "HTTP"},
        "period_seconds": period,
        "timeout_seconds": timeout,
        "failure_threshold": failure_threshold,
    }


def container(args: InferenceServiceArgs) -> ContainerArgsDict:
    svc = args.service
    env: list[EnvVarArgsDict] = [
        {"name": ENV_MODEL_VERSION, "value": svc.model.version},
        {"name": ENV_ETHICS_POLICY_ID, "value": svc.ethics.policy_id},
    ]
    for name in MODEL_CACHE_ENV:
        env.append({"name": name, "value": svc.model_cache.path})
    for name, value in sorted(svc.env.items()):
        if isinstance(value, str):
            env.append({"name": name, "value": value})
        else:
            ref = value.value_from.secret_key_ref
            env.append({"name": name, "value_from": {"secret_key_ref": {"name": ref.name, "key": ref.key}}})
    mounts: list[VolumeMountArgsDict] = [{"name": MODEL_CACHE_VOLUME, "mount_path": svc.model_cache.path}]
    if svc.mounts_shared_memory:
        mounts.append({"name": SHM_VOLUME, "mount_path": SHM_PATH})
    result: ContainerArgsDict = {
        "name": CONTAINER_NAME,
        "image": svc.model.image,
        "image_pull_policy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "container_port": svc.port, "protocol": "TCP"}],
        "env": env,
        "resources": container_resources(svc.resources, svc.model_cache_size),
        "volume_mounts": mounts,
        "startup_probe": _probe(svc.probes.liveness_path, PROBE_PERIOD_SECONDS,
                                math.ceil(svc.probes.startup_timeout_seconds / PROBE_PERIOD_SECONDS)),
        "readiness_probe": _probe(svc.probes.readiness_path, PROBE_PERIOD_SECONDS, 3),
        "liveness_probe": _probe(svc.probes.liveness_path, 2 * PROBE_PERIOD_SECONDS, 3),
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": svc.run_as_user,
            "run_as_group": svc.run_as_user,
            "allow_privilege_escalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
    }
    if svc.args:
        result["args"] = list(svc.args)
    return result


def volumes(svc: InferenceServiceConfig) -> list[VolumeArgsDict]:
    """The model cache (disk, sized) and, for multi-GPU or when asked, an in-memory /dev/shm (sized).

    Docker's 64 MiB /dev/shm breaks NCCL between GPUs; a Memory emptyDir counts against the memory
    limit, so its size is bounded below resources.memory by the config contract.
    """
    result: list[VolumeArgsDict] = [{"name": MODEL_CACHE_VOLUME, "empty_dir": {"size_limit": svc.model_cache_size}}]
    if svc.mounts_shared_memory:
        result.append({"name": SHM_VOLUME, "empty_dir": {"medium": "Memory", "size_limit": svc.shared_memory_size}})
    return result


def topology_spread(args: InferenceServiceArgs) -> list[TopologySpreadConstraintArgsDict]:
    """Spread over zones, then hosts. ScheduleAnyway: a zone out of GPU capacity must not stop serving."""
    constraints: list[TopologySpreadConstraintArgsDict] = []
    for key in (ZONE_TOPOLOGY_KEY, HOSTNAME_TOPOLOGY_KEY):
        constraints.append({
            "max_skew": 1, "topology_key": key, "when_unsatisfiable": "ScheduleAnyway",
            "label_selector": {"match_labels": selector_labels(args.service.name)},
            "match_label_keys": ["pod-template-hash"],
        })
    return constraints


def pod_spec(args: InferenceServiceArgs) -> PodSpecArgsDict:
    svc = args.service
    spec: PodSpecArgsDict = {
        "service_account_name": svc.name,
        "automount_service_account_token": svc.automount_service_account_token,
        "enable_service_links": False,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": svc.run_as_user,
            "run_as_group": svc.run_as_user,
            "fs_group": svc.run_as_user,
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "containers": [container(args)],
        "volumes": volumes(svc),
    }
    spec["node_selector"] = node_selector(args.pool)
    tolerated = tolerations(args.pool, svc.resources.gpus)
    if tolerated:
        spec["tolerations"] = tolerated
    if args.spread_across_zones:
        spec["topology_spread_constraints"] = topology_spread(args)
    return spec


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


@dataclass(frozen=True)
class Rendered:
    """The typed inputs of every child, as the component passes them."""

    metadata: ObjectMetaArgsDict
    deployment_metadata: ObjectMetaArgsDict
    automount_service_account_token: bool
    deployment: DeploymentSpecArgsDict
    service: ServiceSpecArgsDict
    hpa: HorizontalPodAutoscalerSpecArgsDict
    pdb: PodDisruptionBudgetSpecArgsDict | None


def render(args: InferenceServiceArgs) -> Rendered:
    return Rendered(
        metadata=metadata(args),
        deployment_metadata=deployment_metadata(args),
        automount_service_account_token=args.service.automount_service_account_token,
        deployment=deployment_spec(args),
        service=service_spec(args),
        hpa=hpa_spec(args),
        pdb=pdb_spec(args),
    )


def manifests(args: InferenceServiceArgs) -> list[dict[str, Any]]:
    """The children as the engine receives them (camelCase), serialized by the SDK from ``render``."""
    r = render(args)
    objects = [
        engine_form(k8s.core.v1.ServiceAccountArgs, "v1", "ServiceAccount",
                    {"metadata": r.metadata, "automount_service_account_token": r.automount_service_account_token}),
        engine_form(k8s.apps.v1.DeploymentArgs, "apps/v1", "Deployment",
                    {"metadata": r.deployment_metadata, "spec": r.deployment}),
        engine_form(k8s.core.v1.ServiceArgs, "v1", "Service", {"metadata": r.metadata, "spec": r.service}),
        engine_form(k8s.autoscaling.v2.HorizontalPodAutoscalerArgs, "autoscaling/v2", "HorizontalPodAutoscaler",
                    {"metadata": r.metadata, "spec": r.hpa}),
    ]
    if r.pdb is not None:
        objects.append(engine_form(k8s.policy.v1.PodDisruptionBudgetArgs, "policy/v1", "PodDisruptionBudget",
                                   {"metadata": r.metadata, "spec": r.pdb}))
    return objects


# --- the component ---------------------------------------------------------------------------

class InferenceService(pulumi.ComponentResource):
    """One governed model server. Pass the cluster's Kubernetes provider in ``opts``; children inherit it."""

    service_account: k8s.core.v1.ServiceAccount
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler
    pdb: k8s.policy.v1.PodDisruptionBudget | None
    url: pulumi.Output[str]
    """The in-cluster URL, http://<service>.<namespace>.svc.cluster.local:<port>."""

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        r = render(args)
        child = pulumi.ResourceOptions(parent=self)
        svc = args.service

        self.service_account = k8s.core.v1.ServiceAccount(
            name, metadata=r.metadata, automount_service_account_token=r.automount_service_account_token, opts=child)
        self.deployment = k8s.apps.v1.Deployment(
            name, metadata=r.deployment_metadata, spec=r.deployment,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_account, *args.depends_on],
                                        custom_timeouts=deployment_timeouts(args)))
        self.service = k8s.core.v1.Service(name, metadata=r.metadata, spec=r.service, opts=child)
        self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name, metadata=r.metadata, spec=r.hpa, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]))
        self.pdb = None
        if r.pdb is not None:
            self.pdb = k8s.policy.v1.PodDisruptionBudget(name, metadata=r.metadata, spec=r.pdb, opts=child)

        # One apply on the namespace (the only Output in it), not a six-part Output.concat per service.
        self.url = pulumi.Output.from_input(args.namespace).apply(
            lambda namespace: f"http://{svc.name}.{namespace}.svc.cluster.local:{svc.port}")
        self.register_outputs({"deployment": svc.name, "namespace": args.namespace, "url": self.url})
