"""Node pools: their roles, AMIs, taints, labels and off-peak schedules."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ai_platform_finops.accelerators import GPU_PRESENT_LABEL, GPU_RESOURCE
from ai_platform_finops.catalog import gpu_count, gpu_specs
from ai_platform_finops.tags import label_key_problem, label_value_problem

from .advisor import AdvisorSettings
from .base import ConfigModel, DnsLabel, K8sLabels

# Label, taint and node-template conventions shared by node pools, workloads and policies.
POOL_LABEL = "ai-platform.io/node-pool"
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""The GPU model of a node (e.g. ``nvidia-a10g``): the label the Cluster Autoscaler's AWS provider
reads as a node's GPU type, so it knows a node of the pool (or of its scale-from-zero template) has GPUs."""
NVIDIA_DEVICE_PLUGIN_LABEL = "ai-platform.io/nvidia-device-plugin"
NVIDIA_DEVICE_PLUGIN_FROM_CHART = "chart"
"""Set on AL2023 NVIDIA pools only: the nodes the nvidia-device-plugin chart runs on. Bottlerocket
NVIDIA nodes run the device plugin on the host and must not get a second one."""
NODE_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template"
"""Prefix of the ASG tags that tell the Cluster Autoscaler what a node of a pool at zero looks like."""
MAX_POOL_NAME = 36
"""EKS node group names are at most 63 characters; a name prefix gets a 26-character suffix."""
MAX_AWS_TAG_KEY = 128


class PoolRole(StrEnum):
    SYSTEM = "system"
    GPU = "gpu"


class CapacityType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class AmiType(StrEnum):
    AL2023_STANDARD = "AL2023_x86_64_STANDARD"
    AL2023_NVIDIA = "AL2023_x86_64_NVIDIA"
    BOTTLEROCKET = "BOTTLEROCKET_x86_64"
    BOTTLEROCKET_NVIDIA = "BOTTLEROCKET_x86_64_NVIDIA"


NVIDIA_AMIS = {AmiType.AL2023_NVIDIA, AmiType.BOTTLEROCKET_NVIDIA}


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    NO_EXECUTE = "NoExecute"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"


class Taint(ConfigModel):
    key: str
    """The taint's key."""
    value: str = ""
    """The taint's value."""
    effect: TaintEffect = TaintEffect.NO_SCHEDULE
    """NoSchedule, NoExecute or PreferNoSchedule."""

    @field_validator("key", "value")
    @classmethod
    def _label_syntax(cls, value: str, info: ValidationInfo) -> str:
        # A taint's key and value follow the label key and value syntax.
        problem = label_key_problem(value) if info.field_name == "key" else label_value_problem(value)
        if problem:
            raise ValueError("taint " + problem.removeprefix("label "))
        return value

    def toleration(self) -> dict[str, str]:
        """The exact Kubernetes toleration of this taint."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect.value}

    @property
    def eks_effect(self) -> str:
        """The EKS API spells effects NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE."""
        return {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}[self.effect]


GPU_TAINT = Taint(key=GPU_RESOURCE, value="true", effect=TaintEffect.NO_SCHEDULE)

def accelerator_label_value(gpu_model: str) -> str:
    """The catalog's GPU model as a label value: ``NVIDIA A10G`` -> ``nvidia-a10g``.

    Lowercase, runs of anything but letters and digits turned into one '-', the marketing suffix
    'Tensor Core' dropped (``NVIDIA T4 Tensor Core`` -> ``nvidia-t4``), at most 63 characters.
    """
    text = re.sub(r"\s+tensor\s+core$", "", gpu_model.strip().lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:63].strip("-")


PLATFORM_NODE_LABELS = (ACCELERATOR_LABEL, NVIDIA_DEVICE_PLUGIN_LABEL)
"""Node labels the platform derives from the pool; a pool's own ``labels`` must not set them."""

_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z]+$")


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ValueError(f"{value!r} is not a 5-field cron expression such as '0 20 * * MON-FRI'")
    return value


class OffPeakSchedule(ConfigModel):
    """Scale a pool to zero off-peak and back to its configured sizes (two ASG schedules)."""

    scale_down: str = "0 20 * * MON-FRI"
    """Cron (ASG recurrence) at which the pool scales to zero."""
    scale_up: str = "0 8 * * MON-FRI"
    """Cron at which the pool returns to its configured sizes."""
    time_zone: str = "UTC"
    """IANA time zone of both crons, e.g. America/New_York."""

    @field_validator("scale_down", "scale_up")
    @classmethod
    def _crons(cls, value: str) -> str:
        return _cron(value)

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Europe/Berlin'") from None
        return value


class NodePoolConfig(ConfigModel):
    name: DnsLabel
    """The pool's name (a DNS label); services name it in nodePool."""
    role: PoolRole = PoolRole.GPU
    """'system' (add-ons, CPU services) or 'gpu' (tainted for GPU pods only)."""
    instance_types: Annotated[list[str], Field(min_length=1)]
    """EC2 instance types; a GPU pool's types must all have GPUs."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT."""
    ami_type: AmiType | None = None
    """The EKS AMI type; default AL2023 NVIDIA for GPU pools, AL2023 standard otherwise."""
    min_size: Annotated[int, Field(ge=0, le=1000)] = 0
    """Fewest nodes (0 lets a GPU pool scale to zero)."""
    max_size: Annotated[int, Field(ge=1, le=1000)]
    """Most nodes; also the ceiling the cost estimate prices at max."""
    desired_size: Annotated[int, Field(ge=0, le=1000)] | None = None
    """Nodes at creation; the autoscaler owns it afterwards (default minSize)."""
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 100
    """Root volume size in GiB (encrypted gp3)."""
    labels: K8sLabels = {}
    """Extra Kubernetes node labels."""
    taints: list[Taint] | None = None
    """Node taints; default nvidia.com/gpu=true:NO_SCHEDULE on GPU pools, none otherwise."""
    off_peak: OffPeakSchedule | bool | None = None
    """An explicit schedule, false for none, or unset: on by default for dev GPU pools."""
    metadata_hop_limit: Annotated[int, Field(ge=1, le=3)] = 1
    """IMDSv2 hop limit; raise it only for pods that must reach IMDS through a bridge."""
    max_unavailable: Annotated[int, Field(ge=1)] = 1
    """Nodes a node-group update may take down at once."""
    project: DnsLabel | None = None
    """The FinOps project billed for this pool; the stack's project when unset."""
    advisor: AdvisorSettings = AdvisorSettings()
    """`python -m preflight advise`: with ignore: true (and a reason) it never proposes a change to this pool."""

    @field_validator("name")
    @classmethod
    def _name_fits_node_group(cls, value: str) -> str:
        if len(value) > MAX_POOL_NAME:
            raise ValueError(
                f"{value!r} is {len(value)} characters; a node pool name may have at most {MAX_POOL_NAME} "
                "(EKS adds a 26-character suffix and caps node group names at 63)"
            )
        return value

    @model_validator(mode="after")
    def _pool(self) -> "NodePoolConfig":
        desired = self.desired_size if self.desired_size is not None else self.min_size
        if not self.min_size <= desired <= self.max_size:
            raise ValueError(
                f"sizes must satisfy minSize <= desiredSize <= maxSize, got {self.min_size} <= {desired} <= {self.max_size}"
            )
        if self.role == PoolRole.GPU:
            unknown = [t for t in self.instance_types if gpu_count(t) == 0]
            if unknown:
                raise ValueError(
                    f"instance types {unknown} are not NVIDIA GPU types in the catalog; a gpu pool needs "
                    "e.g. g5.xlarge, g6.xlarge, g5.12xlarge, p5.48xlarge"
                )
            if self.ami_type is not None and self.ami_type not in NVIDIA_AMIS:
                raise ValueError(f"a gpu pool needs an NVIDIA AMI ({', '.join(sorted(NVIDIA_AMIS))}), not {self.ami_type}")
            models = sorted({gpu_specs()[t].gpu_model for t in self.instance_types})
            if len(models) > 1:
                raise ValueError(
                    f"instance types {self.instance_types} carry different GPU models ({', '.join(models)}); every node "
                    f"of a pool gets one {ACCELERATOR_LABEL} label, so put each GPU model in a pool of its own"
                )
        elif self.ami_type in NVIDIA_AMIS:
            raise ValueError(f"a system pool should not use the NVIDIA AMI {self.ami_type}")
        reserved = [k for k in PLATFORM_NODE_LABELS if k in self.labels]
        if reserved:
            raise ValueError(f"labels {reserved} are set by the platform from the pool's instance types and AMI; remove them")
        return self

    @property
    def is_gpu(self) -> bool:
        return self.role == PoolRole.GPU

    @property
    def effective_desired_size(self) -> int:
        return self.desired_size if self.desired_size is not None else self.min_size

    @property
    def effective_ami_type(self) -> AmiType:
        if self.ami_type is not None:
            return self.ami_type
        return AmiType.AL2023_NVIDIA if self.is_gpu else AmiType.AL2023_STANDARD

    @property
    def effective_taints(self) -> list[Taint]:
        if self.taints is not None:
            return self.taints
        return [GPU_TAINT] if self.is_gpu else []

    @property
    def accelerator(self) -> str | None:
        """The ``k8s.amazonaws.com/accelerator`` value of a GPU pool (one GPU model per pool), e.g. ``nvidia-a10g``."""
        if not self.is_gpu:
            return None
        return accelerator_label_value(gpu_specs()[self.instance_types[0]].gpu_model)

    @property
    def runs_nvidia_device_plugin_chart(self) -> bool:
        """AL2023 NVIDIA nodes need the device plugin chart; Bottlerocket NVIDIA runs its own on the host."""
        return self.is_gpu and self.effective_ami_type == AmiType.AL2023_NVIDIA

    @property
    def effective_labels(self) -> dict[str, str]:
        """Node labels: the user's, the pool label and, for GPU pools, nvidia.com/gpu.present, the
        accelerator (GPU model) and, on AL2023 NVIDIA only, the device-plugin chart's node label."""
        labels = dict(self.labels)
        labels[POOL_LABEL] = self.name
        if self.is_gpu:
            labels[GPU_PRESENT_LABEL] = "true"
            labels[ACCELERATOR_LABEL] = self.accelerator or ""
        if self.runs_nvidia_device_plugin_chart:
            labels[NVIDIA_DEVICE_PLUGIN_LABEL] = NVIDIA_DEVICE_PLUGIN_FROM_CHART
        return labels

    @property
    def gpus_per_instance(self) -> int:
        """The smallest GPU count among the pool's types: what any node of the pool is sure to have."""
        return min(gpu_count(t) for t in self.instance_types) if self.is_gpu else 0

    def node_template_tag_keys(self) -> list[tuple[str, str, str, str]]:
        """(config field, 'label'/'taint', key, ASG tag key) of the Cluster Autoscaler's node-template tags."""
        keys = [("labels", "label", k, f"{NODE_TEMPLATE_TAG}/label/{k}") for k in self.effective_labels]
        keys += [("taints", "taint", t.key, f"{NODE_TEMPLATE_TAG}/taint/{t.key}") for t in self.effective_taints]
        return keys

    def schedule(self, environment: str) -> OffPeakSchedule | None:
        if isinstance(self.off_peak, OffPeakSchedule):
            return self.off_peak
        if self.off_peak is True or (self.off_peak is None and self.is_gpu and environment == "dev"):
            return OffPeakSchedule()
        return None

