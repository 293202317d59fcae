"""components/inference/workload.py: Deployment, Service, HPA and PDB specs, from minimal Args."""

from __future__ import annotations

import tests.support.builders as b
from components.inference.workload import (
    deployment_metadata,
    deployment_spec,
    deployment_timeouts,
    hpa_spec,
    pdb_spec,
    progress_deadline_seconds,
    service_spec,
)

CPU = {"gpus": 0, "cpu": "1", "memory": "1Gi"}


def cpu_args():
    return b.inference_args(b.stack("dev", services=[b.service(nodePool=b.SYSTEM_POOL, resources=CPU)]))


def test_gpu_rollouts_get_at_least_30_minutes_and_cpu_rollouts_the_defaults():
    gpu = b.inference_args()
    assert progress_deadline_seconds(gpu) >= 1800
    timeouts = deployment_timeouts(gpu)
    assert timeouts is not None and timeouts.create == timeouts.update
    assert int(str(timeouts.create).removesuffix("m")) * 60 >= progress_deadline_seconds(gpu)
    assert deployment_timeouts(cpu_args()) is None


def test_a_gpu_deployment_rolls_without_surge_and_leaves_the_scale_to_the_hpa():
    spec = deployment_spec(b.inference_args())
    assert "replicas" not in spec
    assert spec["strategy"]["rolling_update"] == {"max_surge": 0, "max_unavailable": 1}
    assert deployment_spec(cpu_args())["strategy"]["rolling_update"] == {"max_surge": 1, "max_unavailable": 0}


def test_skip_await_is_annotated_only_when_the_args_say_so():
    dev = b.inference_args(b.stack("dev"))
    prod = b.inference_args(b.stack("prod"))
    assert dev.skip_await and deployment_metadata(dev)["annotations"]["pulumi.com/skipAwait"] == "true"
    assert not prod.skip_await and "pulumi.com/skipAwait" not in deployment_metadata(prod)["annotations"]


def test_the_service_is_cluster_ip_and_the_hpa_scales_between_the_configured_bounds():
    args = b.inference_args(b.stack("dev", services=[b.service(replicas={"min": 1, "max": 2})]))
    assert service_spec(args)["type"] == "ClusterIP"
    hpa = hpa_spec(args)
    assert (hpa["min_replicas"], hpa["max_replicas"]) == (1, 2)
    assert hpa["scale_target_ref"]["name"] == b.SERVICE


def test_a_pdb_only_from_two_replicas():
    assert pdb_spec(b.inference_args()) is None
    two = b.inference_args(b.stack("dev", nodePools=[b.system_pool(), b.gpu_pool(maxSize=3)],
                                   projects=[b.project(quota={"gpus": 3, "cpu": "16", "memory": "64Gi"})],
                                   services=[b.service(replicas={"min": 2, "max": 3})]))
    pdb = pdb_spec(two)
    assert pdb is not None and pdb["max_unavailable"] == 1
