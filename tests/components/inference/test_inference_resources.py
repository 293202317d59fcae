"""components/inference/resources.py: requests, limits and placement from the pool."""

from __future__ import annotations

import pytest

import tests.support.builders as b
from components.config import NodePoolConfig
from components.config.services import ServiceResources
from components.inference.resources import (
    container_resources,
    gpu_quantity,
    node_selector,
    tolerations,
)


def test_a_pod_without_gpus_never_tolerates_the_gpu_taint_even_if_its_pool_has_it():
    pool = NodePoolConfig.model_validate({
        "name": "mixed", "role": "system", "instanceTypes": ["m6i.large"], "maxSize": 2,
        "taints": [{"key": "nvidia.com/gpu", "value": "true"}, {"key": "dedicated", "value": "batch"}]})
    assert tolerations(pool, 0) == [{"key": "dedicated", "effect": "NoSchedule", "operator": "Equal", "value": "batch"}]
    assert [t.get("key") for t in tolerations(pool, 1)] == ["nvidia.com/gpu", "dedicated"]


def test_gpu_quantities_are_whole_numbers_by_construction():
    assert gpu_quantity(2) == "2"
    for bad in (0.5, 1.0, "1", True, -1):
        with pytest.raises(TypeError):
            gpu_quantity(bad)  # type: ignore[arg-type]
    # Even a model built around validation cannot smuggle a fractional GPU into a manifest.
    smuggled = ServiceResources.model_construct(gpus=0.5, cpu="1", memory="1Gi")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        container_resources(smuggled)


def test_gpus_are_limited_and_requested_equally_and_cpu_only_pods_have_none():
    gpu = container_resources(ServiceResources(gpus=2, cpu="4", memory="16Gi"))
    assert gpu["limits"]["nvidia.com/gpu"] == gpu["requests"]["nvidia.com/gpu"] == "2"
    cpu = container_resources(ServiceResources(gpus=0, cpu="1", memory="1Gi"))
    assert "nvidia.com/gpu" not in {**cpu.get("limits", {}), **cpu.get("requests", {})}


def test_the_node_selector_is_the_pools_own_labels():
    cfg = b.build()
    pool = cfg.pool(b.GPU_POOL)
    assert pool is not None
    assert node_selector(pool) == pool.effective_labels
    assert node_selector(pool)["ai-platform.io/node-pool"] == b.GPU_POOL
