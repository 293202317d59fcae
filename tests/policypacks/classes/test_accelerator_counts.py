"""Every accelerator is counted per instance: NVIDIA and AMD GPUs by their model's vendor (g4ad's
Radeon Pro V520 is ``amd.com/gpu``, never ``nvidia.com/gpu``), Neuron devices and NeuronCores from
the Neuron catalog (trn2 chips counted, their LNC-dependent NeuronCores not), and MIG slices where
the node's ``nvidia.com/mig.config`` label gives a uniform layout and its MIG strategy is known
(test_mig_strategies.py has the strategies). The capacity ceiling, the schedulability check and the pool rules (Neuron AMIs are
accelerator pools) read the one table in ``ai_platform_finops.accelerators``; through gRPC."""

from __future__ import annotations

import pytest

from ai_platform_finops import accelerators, catalog
from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_accelerators import pod

CEILING = "gpu-capacity-ceiling"
SCHEDULABLE = "gpu-workload-schedulable"
PLACEMENT = "gpu-workload-placement"
POOL_RULES = ("gpu-pool-scale-to-zero", "gpu-pool-spot")


def pool(name: str, types: list[str], taint_key: str, labels: dict[str, str] | None = None, *,
         max_size: float = 2.0, min_size: float = 0.0, ami: str | None = None, env: str = "prod",
         capacity: str = "ON_DEMAND") -> list[RecordedResource]:
    lt = b.launch_template(name, env)
    if ami is None:
        ami = "AL2023_x86_64_NEURON" if taint_key.startswith("aws.") else \
            "AL2023_x86_64_NVIDIA" if taint_key.startswith("nvidia") else "AL2023_x86_64_STANDARD"
    ng = b.node_group(name, lt, env=env, types=types, gpu=False, min_size=min_size, max_size=max_size, desired=min_size,
                      capacity=capacity, labels={"ai-platform.io/node-pool": name, **(labels or {})},
                      taints=[{"key": taint_key, "value": "true", "effect": "NO_SCHEDULE"}], amiType=ami)
    return [lt, ng]


def on(pool_: list[RecordedResource], *add: RecordedResource):
    return adding(*pool_, *add)


def neuron_pod(resource: str, amount: str, instance_type: str) -> RecordedResource:
    return pod("neuron", resource, amount, select={"node.kubernetes.io/instance-type": instance_type},
               tolerate=["aws.amazon.com/neuron"])


def amd_pod(amount: str) -> RecordedResource:
    return pod("amd", "amd.com/gpu", amount, select={"amd.com/gpu.family": "NV"}, tolerate=["amd.com/gpu"])


def mig_pod(profile: str, select: dict[str, str]) -> RecordedResource:
    return pod("mig", f"nvidia.com/mig-{profile}", select=select, tolerate=["nvidia.com/gpu"])


AMD = {"amd.com/gpu.family": "NV"}
MIG_LABELS = {"nvidia.com/gpu.present": "true", "nvidia.com/mig.strategy": "mixed"}

CAPS = {"gpu_capacity_ceiling": {"maxGpusPerPool": 8, "maxGpusPerStack": 16}}

CEILING_CASES: list[Case] = [
    # good stack: 3 GPUs; caps 8 per pool, 16 per stack.
    allowed("inf2-xlarge-pool-2-devices", on(pool("inf", ["inf2.xlarge"], "aws.amazon.com/neuron")), CEILING),
    disallowed("inf2-48xlarge-one-node-is-12-devices", on(pool("inf", ["inf2.48xlarge"], "aws.amazon.com/neuron",
                                                               max_size=1.0)),
               CEILING, message="maxSize 1 x 12 Neuron device(s) per instance (inf2.48xlarge) = 12 Neuron devices"),
    disallowed("trn1-32xlarge-one-node-is-16-devices", on(pool("trn", ["trn1.32xlarge"], "aws.amazon.com/neuron",
                                                               max_size=1.0)), CEILING, expect=[CEILING],
               message="16 Neuron device(s)", gpu_capacity_ceiling={"maxGpusPerPool": 8, "maxGpusPerStack": 40}),
    allowed("inf1-6xlarge-two-nodes-8-devices", on(pool("inf", ["inf1.6xlarge"], "aws.amazon.com/neuron")), CEILING),
    disallowed("trn2-48xlarge-one-node-is-16-chips", on(pool("trn", ["trn2.48xlarge"], "aws.amazon.com/neuron",
                                                             max_size=1.0)),
               CEILING, message="maxSize 1 x 16 Neuron device(s) per instance (trn2.48xlarge) = 16 Neuron devices",
               gpu_capacity_ceiling={"maxGpusPerPool": 8, "maxGpusPerStack": 40}),
    allowed("trn2u-48xlarge-one-node-within-a-raised-cap", on(pool("trn", ["trn2u.48xlarge"], "aws.amazon.com/neuron",
                                                                   max_size=1.0)),
            CEILING, gpu_capacity_ceiling={"maxGpusPerPool": 16, "maxGpusPerStack": 40}),
    disallowed("trn2-3xlarge-cannot-be-counted", on(pool("trn", ["trn2.3xlarge"], "aws.amazon.com/neuron",
                                                         max_size=1.0)), CEILING, message="cannot count"),
    allowed("g4ad-xlarge-pool-2-amd-gpus", on(pool("amd", ["g4ad.xlarge"], "amd.com/gpu", AMD)), CEILING),
    disallowed("g4ad-16xlarge-three-nodes-12-amd-gpus", on(pool("amd", ["g4ad.16xlarge"], "amd.com/gpu", AMD,
                                                                max_size=3.0)),
               CEILING, message="maxSize 3 x 4 GPU(s) per instance (g4ad.16xlarge) = 12 GPUs"),
    disallowed("neuron-pools-add-up-past-the-stack-cap", on(
        pool("inf-a", ["inf2.24xlarge"], "aws.amazon.com/neuron", max_size=1.0)
        + pool("inf-b", ["inf1.6xlarge"], "aws.amazon.com/neuron", max_size=2.0)), CEILING,
        message="the stack's GPU pools can grow to 17"),
]
CEILING_CASES = [Case(c.id, c.sample, c.policies, c.expect, c.env, c.message, c.config or CAPS) for c in CEILING_CASES]

SCHEDULING_CASES: list[Case] = [
    allowed("two-neuroncores-on-inf2-xlarge", on(pool("inf", ["inf2.xlarge"], "aws.amazon.com/neuron"),
                                                 neuron_pod("aws.amazon.com/neuroncore", "2", "inf2.xlarge")),
            SCHEDULABLE, PLACEMENT),
    disallowed("four-neuroncores-on-inf2-xlarge", on(pool("inf", ["inf2.xlarge"], "aws.amazon.com/neuron"),
                                                     neuron_pod("aws.amazon.com/neuroncore", "4", "inf2.xlarge")),
               SCHEDULABLE, PLACEMENT, expect=[SCHEDULABLE],
               message="2 aws.amazon.com/neuroncore per instance < 4 per pod"),
    allowed("four-neuroncores-on-inf1-xlarge", on(pool("inf", ["inf1.xlarge"], "aws.amazon.com/neuron"),
                                                  neuron_pod("aws.amazon.com/neuroncore", "4", "inf1.xlarge")),
            SCHEDULABLE, PLACEMENT),
    allowed("twelve-neuron-devices-on-inf2-48xlarge", on(pool("inf", ["inf2.48xlarge"], "aws.amazon.com/neuron",
                                                              max_size=1.0),
                                                         neuron_pod("aws.amazon.com/neuron", "12", "inf2.48xlarge")),
            SCHEDULABLE, PLACEMENT),
    disallowed("two-neuron-devices-on-inf2-8xlarge", on(pool("inf", ["inf2.8xlarge"], "aws.amazon.com/neuron"),
                                                        neuron_pod("aws.amazon.com/neurondevice", "2", "inf2.8xlarge")),
               SCHEDULABLE, message="1 aws.amazon.com/neurondevice per instance < 2 per pod"),
    allowed("sixteen-neuron-devices-on-trn2-48xlarge", on(pool("trn", ["trn2.48xlarge"], "aws.amazon.com/neuron"),
                                                          neuron_pod("aws.amazon.com/neuron", "16", "trn2.48xlarge")),
            SCHEDULABLE, PLACEMENT),
    disallowed("seventeen-neuron-devices-on-trn2-48xlarge", on(
        pool("trn", ["trn2.48xlarge"], "aws.amazon.com/neuron"), neuron_pod("aws.amazon.com/neuron", "17", "trn2.48xlarge")),
        SCHEDULABLE, message="16 aws.amazon.com/neuron per instance < 17 per pod"),
    disallowed("neuroncores-on-trn2-cannot-be-verified", on(
        pool("trn", ["trn2.48xlarge"], "aws.amazon.com/neuron"),
        neuron_pod("aws.amazon.com/neuroncore", "1", "trn2.48xlarge")), SCHEDULABLE, message="cannot verify"),
    allowed("one-amd-gpu-on-g4ad-xlarge", on(pool("amd", ["g4ad.xlarge"], "amd.com/gpu", AMD), amd_pod("1")),
            SCHEDULABLE, PLACEMENT),
    disallowed("two-amd-gpus-on-g4ad-xlarge", on(pool("amd", ["g4ad.xlarge"], "amd.com/gpu", AMD), amd_pod("2")),
               SCHEDULABLE, message="1 amd.com/gpu per instance < 2 per pod"),
    allowed("two-amd-gpus-on-g4ad-8xlarge", on(pool("amd", ["g4ad.8xlarge"], "amd.com/gpu", AMD), amd_pod("2")),
            SCHEDULABLE, PLACEMENT),
    disallowed("nvidia-gpu-pod-on-g4ad", on(pool("amd", ["g4ad.xlarge"], "amd.com/gpu", AMD), pod(
        "nv", "nvidia.com/gpu", select={"node.kubernetes.io/instance-type": "g4ad.xlarge"},
        tolerate=["nvidia.com/gpu", "amd.com/gpu"])), PLACEMENT, message="must select GPU nodes"),
    # MIG: slices counted from the layout label; without a uniform layout, judged by labels only.
    allowed("mig-1g5gb-on-an-all-1g5gb-a100", on(pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", {
        **MIG_LABELS, "nvidia.com/mig.config": "all-1g.5gb"}, max_size=1.0), mig_pod("1g.5gb", MIG_LABELS)),
        SCHEDULABLE, PLACEMENT),
    disallowed("mig-3g20gb-on-an-all-1g5gb-a100", on(pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", {
        **MIG_LABELS, "nvidia.com/mig.config": "all-1g.5gb"}, max_size=1.0), mig_pod("3g.20gb", MIG_LABELS)),
        SCHEDULABLE, message="0 nvidia.com/mig-3g.20gb per instance"),
    disallowed("mig-1g5gb-on-an-h100-layout-of-1g10gb", on(pool("h100", ["p5.48xlarge"], "nvidia.com/gpu", {
        **MIG_LABELS, "nvidia.com/mig.config": "all-1g.10gb"}, max_size=1.0), mig_pod("1g.5gb", MIG_LABELS)),
        SCHEDULABLE, message="0 nvidia.com/mig-1g.5gb per instance"),
    disallowed("mig-on-a-mig-disabled-node", on(pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", {
        **MIG_LABELS, "nvidia.com/mig.config": "all-disabled"}, max_size=1.0), mig_pod("1g.5gb", MIG_LABELS)),
        SCHEDULABLE, message="0 nvidia.com/mig-1g.5gb per instance"),
    disallowed("mig-on-a-mixed-layout-is-judged-by-labels-only", on(pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", {
        **MIG_LABELS, "nvidia.com/mig.config": "all-balanced"}, max_size=1.0), mig_pod("1g.5gb", MIG_LABELS)),
        SCHEDULABLE, PLACEMENT, expect=[SCHEDULABLE], message="cannot verify"),
]

POOL_CASES: list[Case] = [
    disallowed("neuron-ami-pool-outside-prod-scales-to-zero-on-spot", on(pool(
        "trn", ["trn2.48xlarge"], "aws.amazon.com/neuron", min_size=1.0, env="dev")), *POOL_RULES, env="dev"),
    disallowed("neuron-ami-pool-with-an-untabled-type", on(pool(
        "neu", ["c6i.large"], "example.com/none", min_size=1.0, ami="AL2023_x86_64_NEURON", env="dev")),
        "gpu-pool-scale-to-zero", env="dev"),
    disallowed("amd-pool-outside-prod", on(pool("amd", ["g4ad.xlarge"], "amd.com/gpu", AMD, min_size=1.0, env="dev")),
               *POOL_RULES, env="dev"),
    allowed("neuron-pool-at-zero-on-spot", on(pool("inf", ["inf2.xlarge"], "aws.amazon.com/neuron", env="dev",
                                                   capacity="SPOT")), *POOL_RULES, env="dev"),
    allowed("cpu-pool-outside-prod", on(pool("cpu", ["m6i.large"], "dedicated", min_size=1.0, env="dev",
                                             ami="AL2023_x86_64_STANDARD")), *POOL_RULES, env="dev"),
]


@pytest.mark.parametrize("case", params(CEILING_CASES))
def test_ceiling_counts_every_accelerator(pack, case: Case):
    check(pack, case)


@pytest.mark.parametrize("case", params(SCHEDULING_CASES))
def test_schedulable_counts_every_accelerator(pack, case: Case):
    check(pack, case)


@pytest.mark.parametrize("case", params(POOL_CASES))
def test_accelerator_pools_are_gpu_pools(pack, case: Case):
    check(pack, case)


# --- the table ------------------------------------------------------------------------------------

@pytest.mark.parametrize("instance_type, resource, mig_config, expected", [
    ("inf1.xlarge", "aws.amazon.com/neuron", None, 1), ("inf1.xlarge", "aws.amazon.com/neuroncore", None, 4),
    ("inf1.24xlarge", "aws.amazon.com/neuroncore", None, 64), ("inf2.24xlarge", "aws.amazon.com/neuron", None, 6),
    ("inf2.48xlarge", "aws.amazon.com/neuroncore", None, 24), ("trn1.2xlarge", "aws.amazon.com/neurondevice", None, 1),
    ("trn1n.32xlarge", "aws.amazon.com/neuroncore", None, 32), ("trn2.48xlarge", "aws.amazon.com/neuron", None, 16),
    ("trn2u.48xlarge", "aws.amazon.com/neurondevice", None, 16), ("trn2.48xlarge", "aws.amazon.com/neuroncore", None, None),
    ("trn2.3xlarge", "aws.amazon.com/neuron", None, None),
    ("g4ad.16xlarge", "amd.com/gpu", None, 4), ("g4ad.16xlarge", "nvidia.com/gpu", None, 0),
    # NVIDIA MIG user guide: A100-40GB 1g.5gb x7, 1g.10gb x4, 2g.10gb x3, 3g.20gb x2, 7g.40gb x1;
    # H100-80GB 1g.10gb x7, 1g.20gb x4; H200 1g.18gb x7; +me profiles one per GPU (mig-parted: all-<p>.me).
    ("p4d.24xlarge", "nvidia.com/mig-1g.5gb", "all-1g.5gb", 56), ("p4d.24xlarge", "nvidia.com/mig-1g.10gb", "all-1g.10gb", 32),
    ("p4d.24xlarge", "nvidia.com/mig-2g.10gb", "all-2g.10gb", 24), ("p4d.24xlarge", "nvidia.com/mig-3g.20gb", "all-3g.20gb", 16),
    ("p4d.24xlarge", "nvidia.com/mig-7g.40gb", "all-7g.40gb", 8), ("p4de.24xlarge", "nvidia.com/mig-1g.10gb", "all-1g.10gb", 56),
    ("p5.48xlarge", "nvidia.com/mig-1g.10gb", "all-1g.10gb", 56), ("p5.48xlarge", "nvidia.com/mig-1g.20gb", "all-1g.20gb", 32),
    ("p5e.48xlarge", "nvidia.com/mig-1g.18gb", "all-1g.18gb", 56), ("p5.48xlarge", "nvidia.com/mig-1g.10gb+me", "all-1g.10gb.me", 8),
    ("p5.48xlarge", "nvidia.com/mig-1g.10gb+me", "all-1g.10gb+me", 8),
    ("p5.48xlarge", "nvidia.com/mig-1g.5gb", "all-1g.5gb", 0), ("p4d.24xlarge", "nvidia.com/mig-3g.20gb", "all-1g.5gb", 0),
    ("p4d.24xlarge", "nvidia.com/mig-1g.5gb", "all-disabled", 0), ("p4d.24xlarge", "nvidia.com/mig-1g.5gb", "all-balanced", None),
    ("p4d.24xlarge", "nvidia.com/mig-1g.5gb", None, None), ("g5.2xlarge", "nvidia.com/mig-1g.5gb", "all-1g.5gb", 0),
])
def test_per_instance_counts(instance_type, resource, mig_config, expected):
    """Under the mixed strategy, where MIG slices are their own resources."""
    assert accelerators.per_instance(instance_type, resource, mig_config, "mixed") == expected


def test_devices_per_instance_counts_gpus_of_both_vendors_and_neuron_chips():
    assert [accelerators.devices_per_instance(t) for t in ("p5.48xlarge", "g4ad.8xlarge", "inf2.48xlarge", "trn2.48xlarge",
                                                            "trn2u.48xlarge", "trn2.3xlarge", "g6f.large", "m6i.large")
            ] == [8, 2, 12, 16, 16, 0, 0, 0]
    assert accelerators.countable("inf2.xlarge") and accelerators.countable("g4ad.xlarge")
    assert accelerators.countable("trn2.48xlarge") and accelerators.device_unit("trn2.48xlarge") == "Neuron device(s)"
    assert not accelerators.countable("trn2.3xlarge")


def test_nvidia_gpu_count_leaves_amd_gpus_out():
    assert catalog.gpu_count("g4ad.16xlarge") == 0 and catalog.whole_gpus("g4ad.16xlarge", "AMD") == 4
    assert catalog.gpu_count("g5.12xlarge") == 4


def test_neuron_catalog_carries_its_source_and_date():
    head = catalog.NEURON_SPECS_FILE.read_text(encoding="utf-8").splitlines()[:2]
    assert head[0].startswith("# date: 20") and "AWS Neuron" in head[1]
    assert {t.split(".")[0] for t in catalog.neuron_specs()} <= set(
        accelerators.accelerator("aws.amazon.com/neuron").instance_families)
