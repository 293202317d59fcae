"""The model server's container, volumes and pod spec."""

from __future__ import annotations

import math

from pulumi_kubernetes.core.v1 import (
    ContainerArgsDict,
    EnvVarArgsDict,
    PodSpecArgsDict,
    ProbeArgsDict,
    TopologySpreadConstraintArgsDict,
    VolumeArgsDict,
    VolumeMountArgsDict,
)

from components.config import InferenceServiceConfig
from components.config.services import MODEL_ARTIFACT_ENV, MODEL_CACHE_ENV
from components.inference.args import (
    CONTAINER_NAME,
    MODEL_CACHE_VOLUME,
    PORT_NAME,
    PROBE_PERIOD_SECONDS,
    SHM_PATH,
    SHM_VOLUME,
    InferenceServiceArgs,
)
from components.inference.resources import (
    container_resources,
    node_selector,
    tolerations,
)
from components.metadata import (
    ENV_ETHICS_POLICY_ID,
    ENV_MODEL_VERSION,
    HOSTNAME_TOPOLOGY_KEY,
    ZONE_TOPOLOGY_KEY,
    selector_labels,
)


def _probe(path: str, period: int, failure_threshold: int, timeout: int = 5) -> ProbeArgsDict:
    return {
        "http_get": {"path": path, "port": PORT_NAME, "scheme": "HTTP"},
        "period_seconds": period,
        "timeout_seconds": timeout,
        "failure_threshold": failure_threshold,
    }


def artifact_env(args: InferenceServiceArgs) -> list[EnvVarArgsDict]:
    """The weights contract: MODEL_ARTIFACT_URI (an s3:// prefix) and AWS_REGION, for services with
    model.artifactUri. The server reads the prefix itself with the pod's EKS Pod Identity credentials
    (e.g. vLLM's Run:ai streamer loads s3:// directly; others sync it into the model cache at start),
    so no second image is pulled, pinned and governed, and the weights are not copied twice."""
    uri = args.service.model.artifact_uri
    if uri is None:
        return []
    uri_name, region_name = MODEL_ARTIFACT_ENV
    env: list[EnvVarArgsDict] = [{"name": uri_name, "value": uri}]
    if args.artifact_region is not None:
        env.append({"name": region_name, "value": args.artifact_region})
    return env


def container(args: InferenceServiceArgs) -> ContainerArgsDict:
    svc = args.service
    env: list[EnvVarArgsDict] = [
        {"name": ENV_MODEL_VERSION, "value": svc.model.version},
        {"name": ENV_ETHICS_POLICY_ID, "value": svc.ethics.policy_id},
    ]
    for name in MODEL_CACHE_ENV:
        env.append({"name": name, "value": svc.model_cache.path})
    env.extend(artifact_env(args))
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
