"""components/inference/pod.py: the container, its volumes and the pod spec, from minimal Args."""

from __future__ import annotations

import tests.support.builders as b
from components.inference.args import MODEL_CACHE_VOLUME, SHM_VOLUME
from components.inference.pod import container, pod_spec, volumes


def test_one_gpu_gets_the_model_cache_only_and_two_gpus_add_shared_memory():
    one = b.inference_args()
    assert [v["name"] for v in volumes(one.service)] == [MODEL_CACHE_VOLUME]
    two = b.inference_args(b.stack("dev", nodePools=[b.system_pool(), b.gpu_pool(instanceTypes=["g5.12xlarge"])],
                                   projects=[b.project(quota={"gpus": 4, "cpu": "32", "memory": "128Gi"})],
                                   services=[b.service(resources={"gpus": 2, "cpu": "8", "memory": "32Gi"})]))
    shm = [v for v in volumes(two.service) if v["name"] == SHM_VOLUME]
    assert len(shm) == 1 and shm[0]["empty_dir"]["medium"] == "Memory"
    assert {m["name"] for m in container(two)["volume_mounts"]} == {MODEL_CACHE_VOLUME, SHM_VOLUME}


def test_the_container_is_unprivileged_and_carries_the_model_version_and_policy():
    spec = container(b.inference_args())
    assert spec["security_context"]["run_as_non_root"] is True
    assert spec["security_context"]["allow_privilege_escalation"] is False
    assert spec["security_context"]["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e.get("value") for e in spec["env"]}
    assert env["MODEL_VERSION"] == "1.0.0" and env["ETHICS_POLICY_ID"] == "policy-2026-001"


def test_pods_spread_over_zones_in_prod_only():
    assert "topology_spread_constraints" not in pod_spec(b.inference_args(b.stack("dev")))
    spread = pod_spec(b.inference_args(b.stack("prod")))["topology_spread_constraints"]
    assert [c["topology_key"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert {c["when_unsatisfiable"] for c in spread} == {"ScheduleAnyway"}
