"""Every accelerator: the GPU rules match every extended resource of the accelerator table
(``nvidia.com/gpu``, ``nvidia.com/mig-*``, ``amd.com/gpu``, ``aws.amazon.com/neuron``,
``neuroncore``, ``neurondevice``), with each one's taint and node labels from that one table, and a
pod's need computed as Kubernetes computes it (init containers, sidecars). Table-driven through
gRPC, plus the pure helpers (hypothesis for the per-pod arithmetic)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_governance import k8s  # at import: a first import inside a hypothesis example can pass its deadline
from ai_platform_finops import accelerators
from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

GPU = ("gpu-request-valid", "gpu-workload-placement", "gpu-workload-schedulable")
NEURON = ("aws.amazon.com/neuron", "aws.amazon.com/neuroncore", "aws.amazon.com/neurondevice")
EVERY = ("nvidia.com/gpu", "nvidia.com/mig-1g.5gb", "amd.com/gpu", *NEURON)


def toleration(key: str) -> dict[str, str]:
    return {"key": key, "operator": "Exists", "effect": "NoSchedule"}


def pod(name: str, resource: str | None = None, amount: str = "1", *, select: dict[str, str] | None = None,
        tolerate: list[str] = (), init: list[dict[str, Any]] = (), request_only: bool = False,
        kind: str = "kubernetes:apps/v1:Deployment") -> RecordedResource:
    """A CPU/accelerator workload (not an inference one: no GPU-less governance noise)."""
    resources: dict[str, Any] = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    if resource is not None:
        resources["requests"][resource] = amount
        if not request_only:
            resources["limits"][resource] = amount
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "registry.example.com/app:1.0",
                                            "resources": resources}]}
    if init:
        spec["initContainers"] = list(init)
    if select is not None:
        spec["nodeSelector"] = select
    if tolerate:
        spec["tolerations"] = [toleration(k) for k in tolerate]
    labels = {"app.kubernetes.io/name": name}
    return b.k8s(kind, name, {"metadata": {"name": name, "namespace": "project-nova", "labels": labels},
                              "spec": {"selector": {"matchLabels": labels},
                                       "template": {"metadata": {"labels": labels}, "spec": spec}}})


def init_container(resource: str, amount: str, sidecar: bool = False) -> dict[str, Any]:
    value: dict[str, Any] = {"name": f"init-{amount}-{sidecar}", "image": "registry.example.com/init:1.0",
                             "resources": {"requests": {"cpu": "100m", "memory": "64Mi", resource: amount},
                                           "limits": {"memory": "64Mi", resource: amount}}}
    if sidecar:
        value["restartPolicy"] = "Always"
    return value


def pool(name: str, types: list[str], taint_key: str, labels: dict[str, str], max_size: float = 2.0
         ) -> list[RecordedResource]:
    lt = b.launch_template(name)
    ng = b.node_group(name, lt, types=types, gpu=False, min_size=0.0, max_size=max_size, desired=0.0,
                      labels={"ai-platform.io/node-pool": name, **labels},
                      taints=[{"key": taint_key, "value": "true", "effect": "NO_SCHEDULE"}],
                      amiType="AL2023_x86_64_NEURON" if taint_key.startswith("aws.") else "AL2023_x86_64_STANDARD")
    return [lt, ng]


AMD_POOL = pool("amd", ["g4ad.xlarge"], "amd.com/gpu", {"amd.com/gpu.family": "NV"})
NEURON_POOL = pool("inf", ["inf2.xlarge"], "aws.amazon.com/neuron", {})
A100_POOL = pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", {"nvidia.com/gpu.present": "true",
                                                              "nvidia.com/mig.strategy": "mixed"})
NVIDIA = {"ai-platform.io/node-pool": "gpu", "nvidia.com/gpu.present": "true"}


def with_pools(*pools: list[RecordedResource], add: list[RecordedResource] = ()):
    return adding(*(r for p in pools for r in p), *add)


CASES: list[Case] = [
    # gpu-request-valid: whole numbers in limits, for every accelerator.
    *(disallowed(f"{r}-fractional", adding(pod("frac", r, "0.5", tolerate=[accelerators.accelerator(r).taint_key])),
                 "gpu-request-valid", message="not a whole number") for r in EVERY),
    *(disallowed(f"{r}-request-without-limit", adding(pod("req", r, request_only=True, tolerate=[
        accelerators.accelerator(r).taint_key])), "gpu-request-valid", message="without a limit") for r in EVERY),
    allowed("unrelated-extended-resource", adding(pod("hugepages", "hugepages-2Mi", "0.5", select={"x": "y"})),
            "gpu-request-valid", "gpu-workload-placement"),
    # gpu-workload-placement: each accelerator's own taint and node labels.
    allowed("amd-pod-on-amd-labels", with_pools(AMD_POOL, add=[pod("amd", "amd.com/gpu", select={
        "amd.com/gpu.family": "NV"}, tolerate=["amd.com/gpu"])]), *GPU),
    allowed("amd-pod-selecting-its-instance-type", with_pools(AMD_POOL, add=[pod("amd", "amd.com/gpu", select={
        "node.kubernetes.io/instance-type": "g4ad.xlarge"}, tolerate=["amd.com/gpu"])]), *GPU),
    disallowed("amd-pod-tolerating-only-the-nvidia-taint", with_pools(AMD_POOL, add=[pod(
        "amd", "amd.com/gpu", select={"amd.com/gpu.family": "NV"}, tolerate=["nvidia.com/gpu"])]),
        "gpu-workload-placement", "gpu-workload-schedulable", message="amd.com/gpu"),
    disallowed("amd-pod-selecting-nvidia-nodes", with_pools(AMD_POOL, add=[pod(
        "amd", "amd.com/gpu", select=NVIDIA, tolerate=["amd.com/gpu", "nvidia.com/gpu"])]),
        "gpu-workload-placement", "gpu-workload-schedulable", message="amd.com/gpu"),
    disallowed("amd-pod-selecting-an-nvidia-instance-type", with_pools(AMD_POOL, add=[pod(
        "amd", "amd.com/gpu", select={"node.kubernetes.io/instance-type": "g5.2xlarge"}, tolerate=["amd.com/gpu"])]),
        "gpu-workload-placement", message="must select GPU nodes (amd.com/gpu)"),
    *(allowed(f"{r}-pod-on-inf2", with_pools(NEURON_POOL, add=[pod("neuron", r, select={
        "node.kubernetes.io/instance-type": "inf2.xlarge"}, tolerate=["aws.amazon.com/neuron"])]),
        "gpu-request-valid", "gpu-workload-placement") for r in NEURON),
    # Neuron devices per instance come from the Neuron catalog (test_accelerator_counts has more).
    allowed("neuron-capacity-is-counted", with_pools(NEURON_POOL, add=[pod(
        "neuron", "aws.amazon.com/neuron", select={"node.kubernetes.io/instance-type": "inf2.xlarge"},
        tolerate=["aws.amazon.com/neuron"])]), "gpu-workload-schedulable"),
    disallowed("neuron-pod-without-its-toleration", with_pools(NEURON_POOL, add=[pod(
        "neuron", "aws.amazon.com/neuroncore", "2", select={"karpenter.k8s.aws/instance-family": "inf2"})]),
        "gpu-workload-placement", message="aws.amazon.com/neuron=true:NoSchedule"),
    disallowed("neuron-pod-on-a-pool-without-neuron", adding(pod(
        "neuron", "aws.amazon.com/neuron", select=NVIDIA, tolerate=["aws.amazon.com/neuron", "nvidia.com/gpu"])),
        "gpu-workload-schedulable", message="0 aws.amazon.com/neuron per instance"),
    allowed("mig-slice-on-mig-labelled-nodes", with_pools(A100_POOL, add=[pod(
        "mig", "nvidia.com/mig-1g.5gb", select={"nvidia.com/mig.strategy": "mixed"}, tolerate=["nvidia.com/gpu"])]),
        "gpu-request-valid", "gpu-workload-placement"),
    disallowed("mig-slice-on-a-gpu-without-mig", adding(pod(
        "mig", "nvidia.com/mig-1g.5gb", select=NVIDIA, tolerate=["nvidia.com/gpu"])),
        "gpu-workload-schedulable", message="0 nvidia.com/mig-1g.5gb per instance"),
    # Pods without accelerators tolerate no accelerator's taint, bar DaemonSets (node agents).
    *(disallowed(f"cpu-pod-tolerating-{key}", adding(pod("squat", select={"ai-platform.io/node-pool": "system"},
                                                         tolerate=[key])),
                 "gpu-workload-placement", message=key) for key in accelerators.TAINT_KEYS),
    allowed("cpu-daemonset-tolerating-every-accelerator", adding(pod(
        "agent", tolerate=list(accelerators.TAINT_KEYS), kind="kubernetes:apps/v1:DaemonSet")), *GPU),
    # The per-pod need as Kubernetes computes it, against the 1-GPU g5.2xlarge pool of the good stack.
    allowed("plain-init-gpu-is-released-before-the-app-starts", adding(pod(
        "init", "nvidia.com/gpu", select=NVIDIA, tolerate=["nvidia.com/gpu"],
        init=[init_container("nvidia.com/gpu", "1")])), *GPU),
    disallowed("plain-init-needing-two-gpus", adding(pod(
        "init", "nvidia.com/gpu", select=NVIDIA, tolerate=["nvidia.com/gpu"],
        init=[init_container("nvidia.com/gpu", "2")])), "gpu-workload-schedulable",
        message="1 GPU(s) per instance < 2 per pod"),
    disallowed("gpu-sidecar-adds-to-the-app", adding(pod(
        "sidecar", "nvidia.com/gpu", select=NVIDIA, tolerate=["nvidia.com/gpu"],
        init=[init_container("nvidia.com/gpu", "1", sidecar=True)])), "gpu-workload-schedulable",
        message="1 GPU(s) per instance < 2 per pod"),
    disallowed("gpu-only-in-a-sidecar-still-needs-gpu-placement", adding(pod(
        "sidecar-only", select={"ai-platform.io/node-pool": "system"},
        init=[init_container("nvidia.com/gpu", "1", sidecar=True)])), "gpu-workload-placement",
        message="a GPU pod"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_accelerator(pack, case: Case):
    check(pack, case)


# --- the table ------------------------------------------------------------------------------------

def test_every_issue_resource_has_a_row_with_a_taint_and_labels():
    for name in EVERY:
        row = accelerators.accelerator(name)
        assert row is not None, name
        assert row.taint_key in accelerators.TAINT_KEYS and row.node_labels, row
    assert accelerators.accelerator("nvidia.com/mig-3g.20gb").resource == "nvidia.com/mig-*"
    assert accelerators.accelerator("cpu") is None and accelerators.accelerator("hugepages-2Mi") is None


def test_the_program_labels_and_taints_gpu_pools_from_the_table():
    from components.config import node_pools

    nvidia = accelerators.accelerator(node_pools.GPU_RESOURCE)
    assert nvidia is not None and node_pools.GPU_TAINT.key == nvidia.taint_key
    assert node_pools.GPU_PRESENT_LABEL in nvidia.node_labels


@pytest.mark.parametrize("instance_type, resource, expected", [
    ("g5.2xlarge", "nvidia.com/gpu", 1), ("p4d.24xlarge", "nvidia.com/gpu", 8), ("g4ad.16xlarge", "amd.com/gpu", 4),
    ("g4ad.xlarge", "nvidia.com/gpu", 0), ("g5.2xlarge", "amd.com/gpu", 0),
    ("p4d.24xlarge", "nvidia.com/mig-1g.5gb", None), ("g5.2xlarge", "nvidia.com/mig-1g.5gb", 0),
    ("inf2.xlarge", "aws.amazon.com/neuron", 1), ("trn1.32xlarge", "aws.amazon.com/neuroncore", 32),
    ("inf2.xlarge", "nvidia.com/gpu", 0), ("m6i.large", "aws.amazon.com/neuron", 0), ("m6i.large", "nvidia.com/gpu", 0),
    ("no.such", "nvidia.com/gpu", 0), ("m6i.large", "cpu", 0),
])
def test_per_instance_counts_each_accelerator_by_its_vendor(instance_type, resource, expected):
    assert accelerators.per_instance(instance_type, resource) == expected


def test_offered_lists_what_an_instance_carries():
    assert accelerators.offered("g4ad.xlarge") == ("amd.com/gpu",)
    assert accelerators.offered("p4d.24xlarge") == ("nvidia.com/gpu", "nvidia.com/mig-*")
    assert set(accelerators.offered("inf2.xlarge")) == set(NEURON)
    assert accelerators.offered("m6i.large") == ()


# --- the per-pod arithmetic -----------------------------------------------------------------------

def reference_need(app: list[float], init: list[tuple[float, bool]]) -> float:
    """Kubernetes' component-helpers ``PodRequests`` transcribed: requests start as the app sum;
    a sidecar adds to them and to the running sidecar total it then stands for; a plain init
    container stands for itself plus the sidecars before it; the pod takes the max."""
    reqs = sum(app)
    restartable = 0.0
    init_reqs = 0.0
    for amount, sidecar in init:
        if sidecar:
            reqs += amount
            restartable += amount
            container = restartable
        else:
            container = amount + restartable
        init_reqs = max(init_reqs, container)
    return max(reqs, init_reqs)


amounts = st.integers(min_value=0, max_value=8).map(float)
inits = st.lists(st.tuples(amounts, st.booleans()), max_size=6)


@given(st.lists(amounts, max_size=6), inits)
def test_effective_need_is_kubernetes_pod_requests(app, init):
    assert k8s.effective_need(app, init) == reference_need(app, init)


@given(st.lists(amounts, max_size=6), st.lists(amounts, max_size=4), st.lists(amounts, max_size=4))
def test_with_sidecars_after_plain_inits_the_need_is_the_issue_formula(app, plain, sidecars):
    init = [(a, False) for a in plain] + [(a, True) for a in sidecars]
    assert k8s.effective_need(app, init) == max(max(plain, default=0.0), sum(app) + sum(sidecars))


@given(st.lists(amounts, max_size=6), inits, amounts, st.booleans())
def test_adding_a_container_never_lowers_the_need(app, init, extra, sidecar):
    before = k8s.effective_need(app, init)
    assert k8s.effective_need([*app, extra], init) >= before
    assert k8s.effective_need(app, [*init, (extra, sidecar)]) >= before


@given(st.lists(amounts, max_size=6), inits)
def test_the_order_of_app_containers_does_not_matter(app, init):
    assert k8s.effective_need(app, init) == k8s.effective_need(list(reversed(app)), init)


def test_pod_needs_reads_limits_else_requests_per_resource():
    res = pod("x", "amd.com/gpu", "2", init=[init_container("amd.com/gpu", "3"),
                                               init_container("aws.amazon.com/neuron", "1", sidecar=True)])
    from ai_governance.resources import Res

    tpl = k8s.pod_template(Res(type=res.type, name=res.name, urn=res.urn, props=copy.deepcopy(res.inputs)))
    assert tpl is not None
    needs, unknown = k8s.pod_needs(tpl)
    assert needs == {"amd.com/gpu": 3.0, "aws.amazon.com/neuron": 1.0} and unknown is False
    assert k8s.pod_gpus(tpl, ("amd.com/gpu",)) == (3.0, False)
