"""The accelerator table: every Kubernetes extended resource that is an accelerator, and what
carries it (node labels, the taint, EC2 instance families). One table, read by the program's
config (the NVIDIA names it labels and taints GPU pools with) and by the policy pack (every GPU
rule matches every row).

Sources (checked 2026-12-02):

- ``nvidia.com/gpu``, ``nvidia.com/gpu.present``: NVIDIA/k8s-device-plugin
  ``deployments/helm/nvidia-device-plugin/values.yaml`` (its default node affinity and its
  ``nvidia.com/gpu`` toleration); Kubernetes docs "Schedule GPUs".
- ``nvidia.com/mig-<profile>``: the device plugin's ``migStrategy: mixed`` (v0.7.0 release notes;
  NVIDIA "MIG Support in Kubernetes"); under ``single`` MIG slices are ``nvidia.com/gpu``.
  ``nvidia.com/mig.strategy`` is the gpu-feature-discovery label. MIG slices live on NVIDIA GPU
  nodes, so they carry the NVIDIA taint.
- ``amd.com/gpu``: ROCm/k8s-device-plugin (Kubernetes docs "Schedule GPUs"; AMD device plugin
  docs); its node labeller sets ``amd.com/gpu.*`` labels (family, device-id, product-name, ...).
- ``aws.amazon.com/neuron`` and ``aws.amazon.com/neuroncore``: the Neuron device plugin (AWS Neuron
  docs "k8s neuron device plugin"); ``aws.amazon.com/neurondevice`` is the name it used before
  Neuron 2.20 (AWS Neuron announcement "'neurondevice' resource name ... no longer supported").
- Taints: the convention of one taint per accelerator, keyed by its resource name
  (``nvidia.com/gpu=true:NoSchedule``, ``aws.amazon.com/neuron=true:NoSchedule``,
  ``amd.com/gpu:NoSchedule``): awslabs/data-on-eks and ai-on-eks Karpenter NodePools, the NVIDIA
  device plugin chart's toleration, gpu-platform-facts.md item 3.
- ``karpenter.k8s.aws/instance-gpu-*`` and ``instance-accelerator-*``: Karpenter's well-known
  labels for AWS (karpenter.sh docs, "Well-Known Labels").
- Per-instance counts: NVIDIA and AMD GPUs from the dated GPU specs in ``data/ec2-gpu-specs.csv``
  (by model vendor: g4ad's Radeon Pro V520 is ``amd.com/gpu``, never ``nvidia.com/gpu``); Neuron
  devices and NeuronCores from the dated ``data/ec2-neuron-specs.csv`` (AWS Neuron architecture
  docs). trn2/trn2u: 16 Trainium2 chips ("Amazon EC2 Trn2 Architecture"), but their NeuronCores
  answer None: a Trainium2 chip's 8 physical cores are grouped by the Logical NeuronCore
  configuration (LNC=2 by default, "Logical NeuronCore configuration"), which the Neuron device
  plugin takes from the node's launch template (Amazon EKS user guide, "Manage Neuron devices"),
  a setting the stack does not declare. trn2.3xlarge and trn3 types are absent (no per-type
  count documented), so they answer None: unknown.
- MIG slices per GPU: a node's layout comes from the NVIDIA MIG manager's ``nvidia.com/mig.config``
  label. For the uniform ``all-<profile>`` layouts of mig-parted's default config
  (NVIDIA/mig-parted ``deployments/systemd/config-default.yaml``, checked 2026-12-03: every
  ``all-*`` layout but ``all-disabled`` enables MIG on every GPU; ``all-enabled`` makes no slices,
  ``all-balanced`` several profiles; the ``+me`` profiles are named ``all-<profile>.me``)
  the count follows from the NVIDIA MIG user guide, "Supported MIG Profiles": a GPU has 7 compute
  slices and 8 memory slices, and a ``<g>g.<mem>gb`` instance takes ``g`` of the first and ``mem`` /
  (GPU memory / 8) of the second (``+me`` profiles: one per GPU). Any other layout, or no label,
  answers None: the stack cannot say how many slices a node has.
- MIG strategies (checked 2026-12-03): NVIDIA/k8s-device-plugin ``internal/rm/device_map.go`` and
  README "Configuration option details" (``MIG_STRATEGY``: none, single, mixed; default none),
  ``docs/gfd_labels.md`` (the ``nvidia.com/mig.strategy`` label; under single,
  ``nvidia.com/gpu.product`` becomes ``<model>-MIG-<profile>`` and ``nvidia.com/gpu.count`` the
  slice count); the chart's ``deployments/helm/nvidia-device-plugin/values.yaml`` (``migStrategy``,
  null: the plugin's ``none``; ``config.name``/``config.map``; ``nodeSelector``; commit 1b826ac,
  2026-08-19); NVIDIA/gpu-operator ``deployments/gpu-operator/values.yaml`` (``mig.strategy``,
  default ``single``; ``devicePlugin.enabled``, ``devicePlugin.config.name``/``data``; commit
  a22dbf6, 2026-08-21). The device plugin builds its devices so:

  - ``none``: every GPU is one ``nvidia.com/gpu``, MIG-enabled or not; no ``nvidia.com/mig-*``.
  - ``single``: MIG-enabled GPUs are left out of ``nvidia.com/gpu`` and their slices are
    advertised as ``nvidia.com/gpu``; every slice on the node must be of one profile and either
    every GPU or none is MIG-enabled, else the plugin fails and the node offers nothing.
  - ``mixed``: MIG-enabled GPUs are left out of ``nvidia.com/gpu``; slices are
    ``nvidia.com/mig-<profile>``. A MIG-enabled GPU without slices (``all-enabled``) fails both.

  ``per_instance`` follows these rules; where a MIG layout is declared and the strategy is not
  known, it answers None (a capacity or fit check fails closed) rather than assume whole GPUs.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .catalog import GpuSpec, gpu_specs, neuron_specs, whole_gpus

GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
"""Node labels holding the EC2 instance type: selecting only types of a family selects its accelerator."""
INSTANCE_FAMILY_LABEL = "karpenter.k8s.aws/instance-family"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
"""The MIG manager's layout label (``all-1g.5gb``, ``all-disabled``, ``all-balanced``, ...)."""
MIG_STRATEGY_LABEL = "nvidia.com/mig.strategy"
"""gpu-feature-discovery's label for the device plugin's MIG strategy; a node group may declare it."""
MIG_STRATEGIES = ("none", "single", "mixed")


@dataclass(frozen=True)
class DevicePluginChart:
    """A Helm chart that runs the NVIDIA device plugin, by its values keys (see the module's sources)."""

    strategy: tuple[str, ...]
    """Values path of the MIG strategy."""
    default: str
    """The strategy when the values set none (null included)."""
    config_files: tuple[tuple[str, ...], ...]
    """Values paths that, when set, hand the plugin config files whose ``flags.migStrategy`` wins."""
    enabled: tuple[str, ...] | None = None
    """Values path of the device plugin's on/off switch (default on), when the chart has one."""
    node_selector: tuple[str, ...] | None = None
    """Values path of the plugin pods' nodeSelector; None: every GPU node."""


DEVICE_PLUGIN_CHARTS: dict[str, DevicePluginChart] = {
    "nvidia-device-plugin": DevicePluginChart(("migStrategy",), "none", (("config", "name"), ("config", "map")),
                                              node_selector=("nodeSelector",)),
    "gpu-operator": DevicePluginChart(("mig", "strategy"), "single",
                                      (("devicePlugin", "config", "name"), ("devicePlugin", "config", "data")),
                                      enabled=("devicePlugin", "enabled")),
}
"""Helm charts that run the NVIDIA device plugin, by chart name."""


@dataclass(frozen=True)
class Accelerator:
    """One row: an extended resource (a shell pattern for MIG profiles) and what carries it."""

    resource: str
    vendor: str
    taint_key: str
    """The taint key nodes with this accelerator carry (``<key>=true:NoSchedule`` by convention)."""
    node_labels: tuple[str, ...]
    """Node label keys whose selection (nodeSelector, or required affinity In/Exists) means a node with it."""
    instance_families: tuple[str, ...]
    """EC2 families (``inf2``) whose every type carries it; empty when decided by the GPU model."""
    gpu_models: str = ""
    """The GPU-spec model prefix (``NVIDIA``, ``AMD``) whose instance types carry it, counted per GPU."""
    note: str = ""
    neuron_cores: bool = False
    """A Neuron row counting NeuronCores rather than devices."""

    def matches(self, resource: str) -> bool:
        return fnmatch.fnmatchcase(resource, self.resource)


ACCELERATORS: tuple[Accelerator, ...] = (
    Accelerator("nvidia.com/gpu", "NVIDIA", GPU_RESOURCE,
                (GPU_PRESENT_LABEL, "nvidia.com/gpu.product", "nvidia.com/gpu.count",
                 "karpenter.k8s.aws/instance-gpu-name", "karpenter.k8s.aws/instance-gpu-manufacturer"),
                (), gpu_models="NVIDIA", note="whole GPUs (and MIG slices under migStrategy single)"),
    Accelerator("nvidia.com/mig-*", "NVIDIA", GPU_RESOURCE,
                (GPU_PRESENT_LABEL, "nvidia.com/mig.strategy", "nvidia.com/mig.config", "nvidia.com/gpu.product"),
                (), note="MIG slices under migStrategy mixed, e.g. nvidia.com/mig-1g.5gb; count per node depends on "
                         "the MIG layout"),
    Accelerator("amd.com/gpu", "AMD", "amd.com/gpu",
                ("amd.com/gpu.family", "amd.com/gpu.device-id", "amd.com/gpu.product-name",
                 "karpenter.k8s.aws/instance-gpu-manufacturer"),
                (), gpu_models="AMD", note="ROCm device plugin (g4ad on EC2)"),
    *(Accelerator(name, "AWS", "aws.amazon.com/neuron",
                  ("karpenter.k8s.aws/instance-accelerator-name", "karpenter.k8s.aws/instance-accelerator-manufacturer"),
                  ("inf1", "inf2", "trn1", "trn1n", "trn2", "trn2u", "trn3"), note=note, neuron_cores=cores)
      for name, note, cores in (("aws.amazon.com/neuron", "whole Neuron devices", False),
                                ("aws.amazon.com/neuroncore", "Neuron cores", True),
                                ("aws.amazon.com/neurondevice", "Neuron devices, the name before Neuron 2.20", False))),
)

MIG_CAPABLE_MODELS = frozenset({"NVIDIA A100", "NVIDIA H100", "NVIDIA H200", "NVIDIA B200", "NVIDIA B300"})
"""GPU models (as the specs file names them) that can be split into MIG slices (NVIDIA MIG user
guide, "Supported GPUs")."""

RESOURCE_PATTERNS: tuple[str, ...] = tuple(a.resource for a in ACCELERATORS)
"""Every accelerator resource name or pattern, for settings that list them."""
TAINT_KEYS: tuple[str, ...] = tuple(dict.fromkeys(a.taint_key for a in ACCELERATORS))


def accelerator(resource: str) -> Accelerator | None:
    """The row for an extended resource name, or None when it is not an accelerator."""
    for row in ACCELERATORS:
        if row.matches(resource):
            return row
    return None


def is_accelerator(resource: str, patterns: Iterable[str] = RESOURCE_PATTERNS) -> bool:
    return any(fnmatch.fnmatchcase(resource, p) for p in patterns)


def family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


MIG_PROFILE = re.compile(r"^nvidia\.com/mig-(\d)g\.(\d+)gb(\+me)?$")
COMPUTE_SLICES, MEMORY_SLICES = 7, 8
DISABLED, ENABLED, CUSTOM = "all-disabled", "enabled", "custom"
NOT_SINGLE_LAYOUTS = frozenset({"all-enabled", "all-balanced"})
"""Default layouts the single strategy refuses: no slices, or slices of several profiles."""


def mig_layout_profile(mig_config: str) -> str | None:
    """The one slice profile (``1g.10gb``, ``1g.10gb+me``) of a uniform ``all-<profile>`` layout
    (mig-parted names the ``+me`` ones ``all-<profile>.me``); None for any other layout."""
    if not mig_config.startswith("all-"):
        return None
    profile = mig_config[4:]
    if profile.endswith(".me"):
        profile = profile[:-3] + "+me"
    return profile if MIG_PROFILE.match(f"nvidia.com/mig-{profile}") else None


def mig_layout(mig_config: str | None) -> str | None:
    """What a ``nvidia.com/mig.config`` value says of a node's GPUs: None (no layout declared:
    GPUs as they boot, MIG disabled), ``all-disabled``, ``enabled`` (every ``all-*`` layout of
    mig-parted's default config enables MIG on every GPU), or ``custom`` (a config of the
    stack's own, which the pack cannot read)."""
    if not mig_config:
        return None
    if mig_config == DISABLED:
        return DISABLED
    return ENABLED if mig_config.startswith("all-") else CUSTOM


def mig_slices_per_gpu(spec: GpuSpec, resource: str, mig_config: str | None) -> int | None:
    """MIG instances of ``resource`` one GPU of ``spec`` holds under the node's ``mig_config``
    layout; None when the layout is not a uniform one (see the module's sources)."""
    layout = mig_layout(mig_config)
    if layout == DISABLED:
        return 0
    if layout != ENABLED or mig_config is None:
        return None
    profile = mig_layout_profile(mig_config)
    if profile is None:
        return None  # all-balanced and the like: several profiles, counts per GPU model
    if f"nvidia.com/mig-{profile}" != resource:
        return 0
    found = MIG_PROFILE.match(resource)
    assert found is not None
    compute, memory, media = int(found[1]), int(found[2]), found[3] is not None
    slice_gib = spec.gpu_memory_gib / spec.gpu_count / MEMORY_SLICES
    memory_slices = round(memory / slice_gib)
    if compute > COMPUTE_SLICES or memory_slices < 1 or abs(memory - memory_slices * slice_gib) > 0.15 * slice_gib:
        return 0  # not a profile this GPU offers
    return 1 if media else min(COMPUTE_SLICES // compute, MEMORY_SLICES // memory_slices)


def _mig_gpus(spec: GpuSpec, instance_type: str, resource: str, mig_config: str | None,
              mig_strategy: str | None) -> int | None:
    """``per_instance`` for NVIDIA GPUs that can run MIG (the strategy rules of the module's sources)."""
    gpus = whole_gpus(instance_type, "NVIDIA")
    layout = mig_layout(mig_config)
    whole = resource == GPU_RESOURCE
    if layout is None or layout == DISABLED:
        if whole:
            return gpus  # no GPU is MIG-enabled: every strategy advertises whole GPUs
        if layout == DISABLED or mig_strategy in ("none", "single"):
            return 0
        return None  # mixed or unknown strategy, no layout: the slices cannot be counted
    if mig_strategy not in MIG_STRATEGIES:
        return None  # MIG is on and the strategy is unknown: fail closed
    if mig_strategy == "none":
        return gpus if whole else 0
    if mig_strategy == "single" and not whole:
        return 0  # under single no nvidia.com/mig-* is ever advertised
    if layout == CUSTOM:
        return None
    if mig_strategy == "mixed":
        if whole:
            return 0  # every all-* layout enables MIG on every GPU
        slices = mig_slices_per_gpu(spec, resource, mig_config)
        return None if slices is None else slices * gpus
    # single: the slices are nvidia.com/gpu; a layout of several profiles (or none) stops the plugin
    if mig_config is None:
        return 0
    profile = mig_layout_profile(mig_config)
    if profile is None:
        return 0 if mig_config in NOT_SINGLE_LAYOUTS else None
    slices = mig_slices_per_gpu(spec, f"nvidia.com/mig-{profile}", mig_config)
    return None if slices is None else slices * gpus


def per_instance(instance_type: str, resource: str, mig_config: str | None = None,
                 mig_strategy: str | None = None) -> int | None:
    """How many of ``resource`` one instance of ``instance_type`` offers: 0 when it offers none,
    None when it offers some but the catalog cannot say how many (trn2/trn3 NeuronCores, MIG
    slices without a uniform ``mig_config`` layout, MIG GPUs under an unknown ``mig_strategy``).

    ``mig_config`` is the node's ``nvidia.com/mig.config`` layout and ``mig_strategy`` the device
    plugin's (``none``/``single``/``mixed``; None when the stack does not say)."""
    row = accelerator(resource)
    if row is None:
        return 0
    if row.instance_families:
        if family(instance_type) not in row.instance_families:
            return 0
        neuron = neuron_specs().get(instance_type)
        if neuron is None:
            return None
        return neuron.cores if row.neuron_cores else neuron.devices
    spec = gpu_specs().get(instance_type)
    if spec is None or not spec.gpu_model.startswith(row.vendor):
        return 0
    if row.vendor == "NVIDIA" and spec.gpu_model in MIG_CAPABLE_MODELS:
        return _mig_gpus(spec, instance_type, resource, mig_config, mig_strategy)
    if not row.gpu_models:
        return 0  # MIG slices on a GPU without MIG
    return whole_gpus(instance_type, row.gpu_models)


def devices_per_instance(instance_type: str) -> int:
    """Accelerator devices one instance carries, as capacity ceilings count them: whole NVIDIA and
    AMD GPUs, and Neuron devices (chips). 0 for a type the catalog does not count."""
    neuron = neuron_specs().get(instance_type)
    return (whole_gpus(instance_type, "NVIDIA") + whole_gpus(instance_type, "AMD")
            + (neuron.devices if neuron is not None else 0))


def device_unit(instance_type: str) -> str:
    """What ``devices_per_instance`` counts for the type, for messages."""
    return "Neuron device(s)" if instance_type in neuron_specs() else "GPU(s)"


def countable(instance_type: str) -> bool:
    """Does the catalog know how many accelerators the type carries (GPU or Neuron specs)?"""
    return instance_type in gpu_specs() or instance_type in neuron_specs()


def offered(instance_type: str) -> tuple[str, ...]:
    """The accelerator resources (patterns) an instance type offers."""
    return tuple(a.resource for a in ACCELERATORS if per_instance(instance_type, a.resource) != 0)
