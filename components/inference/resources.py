"""A model server's resource requests and its placement on the node pool."""

from __future__ import annotations

from pulumi_kubernetes.core.v1 import (
    ResourceRequirementsArgsDict,
    TolerationArgsDict,
)

from components.config import GPU_RESOURCE, NodePoolConfig
from components.config.services import ServiceResources
from components.inference.args import EPHEMERAL_STORAGE


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
