"""Network, cluster, node pools and cluster add-ons: the capacity side of a stack."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from ai_platform_finops.catalog import gpu_count
from ai_platform_finops.tags import label_key_problem, label_value_problem

from .base import ConfigModel, DnsLabel, K8sLabels

# Label, taint and node-template conventions shared by node pools, workloads and policies.
POOL_LABEL = "ai-platform.io/node-pool"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_RESOURCE = "nvidia.com/gpu"
NODE_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template"
"""Prefix of the ASG tags that tell the Cluster Autoscaler what a node of a pool at zero looks like."""
MAX_POOL_NAME = 36
"""EKS node group names are at most 63 characters; a name prefix gets a 26-character suffix."""
MAX_AWS_TAG_KEY = 128


class NetworkMode(StrEnum):
    CREATE = "create"
    EXISTING = "existing"


class NatGatewayMode(StrEnum):
    SINGLE = "single"
    PER_AZ = "perAz"


class NetworkConfig(ConfigModel):
    mode: NetworkMode = NetworkMode.CREATE
    cidr: str = "10.0.0.0/16"
    az_count: Annotated[int, Field(ge=2, le=6)] = 2
    nat_gateways: NatGatewayMode | None = None
    """Defaults to one NAT gateway outside prod and one per AZ in prod."""
    vpc_id: str | None = None
    private_subnet_ids: list[str] = []
    public_subnet_ids: list[str] = []

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR block such as 10.0.0.0/16") from None
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise ValueError(f"{value!r} must be an IPv4 block between /16 and /20")
        return value

    @model_validator(mode="after")
    def _existing_needs_ids(self) -> "NetworkConfig":
        if self.mode == NetworkMode.EXISTING and (not self.vpc_id or len(self.private_subnet_ids) < 2):
            raise ValueError("mode 'existing' needs vpcId and at least 2 privateSubnetIds (in 2 AZs)")
        return self


class ClusterMode(StrEnum):
    CREATE = "create"
    EXISTING = "existing"
    KUBECONFIG = "kubeconfig"


class SupportType(StrEnum):
    STANDARD = "STANDARD"
    EXTENDED = "EXTENDED"


_K8S_VERSION = re.compile(r"^1\.(2[89]|3[0-9])$")


class ClusterConfig(ConfigModel):
    mode: ClusterMode = ClusterMode.CREATE
    name: DnsLabel
    version: str = "1.35"
    support_type: SupportType = SupportType.STANDARD
    admin_principal_arn: str | None = None
    endpoint_public_access: bool | None = None
    """Defaults to off in prod; elsewhere on, but then limited to publicAccessCidrs when given."""
    public_access_cidrs: list[str] = []
    kubeconfig_context: str | None = None
    kubeconfig_path: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _K8S_VERSION.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes minor version such as '1.35' (1.28-1.39)")
        return value

    @field_validator("admin_principal_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+$", value):
            raise ValueError(
                f"{value!r} is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admin "
                "(EKS access entries take no STS session ARN)"
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a CIDR block") from None
            if cidr.endswith("/0"):
                raise ValueError(f"{cidr!r} opens the API endpoint to the internet; list real CIDRs")
        return value

    @model_validator(mode="after")
    def _mode_fields(self) -> "ClusterConfig":
        if self.mode == ClusterMode.KUBECONFIG and not self.kubeconfig_context:
            raise ValueError("mode 'kubeconfig' needs kubeconfigContext (e.g. kind-ai-platform)")
        if self.mode == ClusterMode.CREATE and not self.admin_principal_arn:
            raise ValueError("mode 'create' needs adminPrincipalArn for the cluster access entry")
        return self

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])


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
    value: str = ""
    effect: TaintEffect = TaintEffect.NO_SCHEDULE

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        problem = label_key_problem(value)
        if problem:
            raise ValueError("taint " + problem.removeprefix("label "))
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        problem = label_value_problem(value)
        if problem:
            raise ValueError("taint " + problem.removeprefix("label "))
        return value

    @property
    def eks_effect(self) -> str:
        """The EKS API spells effects NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE."""
        return {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}[self.effect]


GPU_TAINT = Taint(key=GPU_RESOURCE, value="true", effect=TaintEffect.NO_SCHEDULE)

_CRON_FIELD = re.compile(r"^[0-9*,/\-A-Za-z]+$")


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ValueError(f"{value!r} is not a 5-field cron expression such as '0 20 * * MON-FRI'")
    return value


class OffPeakSchedule(ConfigModel):
    """Scale a pool to zero off-peak and back to its configured sizes (two ASG schedules)."""

    scale_down: str = "0 20 * * MON-FRI"
    scale_up: str = "0 8 * * MON-FRI"
    time_zone: str = "UTC"

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
    role: PoolRole = PoolRole.GPU
    instance_types: Annotated[list[str], Field(min_length=1)]
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    ami_type: AmiType | None = None
    min_size: Annotated[int, Field(ge=0, le=1000)] = 0
    max_size: Annotated[int, Field(ge=1, le=1000)]
    desired_size: Annotated[int, Field(ge=0, le=1000)] | None = None
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 100
    labels: K8sLabels = {}
    taints: list[Taint] | None = None
    off_peak: OffPeakSchedule | bool | None = None
    """An explicit schedule, false for none, or unset: on by default for dev GPU pools."""
    metadata_hop_limit: Annotated[int, Field(ge=1, le=3)] = 1
    """IMDSv2 hop limit; raise it only for pods that must reach IMDS through a bridge."""
    max_unavailable: Annotated[int, Field(ge=1)] = 1
    project: DnsLabel | None = None
    """The FinOps project billed for this pool; the stack's project when unset."""

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
        elif self.ami_type in NVIDIA_AMIS:
            raise ValueError(f"a system pool should not use the NVIDIA AMI {self.ami_type}")
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
    def effective_labels(self) -> dict[str, str]:
        """Node labels: the user's, the pool label and, for GPU pools, nvidia.com/gpu.present."""
        labels = dict(self.labels)
        labels[POOL_LABEL] = self.name
        if self.is_gpu:
            labels[GPU_PRESENT_LABEL] = "true"
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


class HelmChartConfig(ConfigModel):
    enabled: bool = True
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]


class AutoscalerExpander(StrEnum):
    LEAST_WASTE = "least-waste"
    PRIORITY = "priority"


CLUSTER_AUTOSCALER_IMAGES = {
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
    "1.36": "v1.36.1",
}
"""The Cluster Autoscaler release per Kubernetes minor (kubernetes/autoscaler tags, July 2026).

Its minor must match the control plane's; the chart's default image follows the newest minor.
"""


class ClusterAutoscalerConfig(HelmChartConfig):
    expander: AutoscalerExpander = AutoscalerExpander.LEAST_WASTE
    image_tag: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+$")] | None = None
    """The cluster-autoscaler image; defaults to the release matching cluster.version."""

    def image_for(self, kubernetes_version: str) -> str | None:
        return self.image_tag or CLUSTER_AUTOSCALER_IMAGES.get(kubernetes_version)


NVIDIA_DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
DCGM_EXPORTER_REPO = "https://nvidia.github.io/dcgm-exporter/helm-charts"


class AddonsConfig(ConfigModel):
    """Cluster add-on charts, each pinned to an exact version (see README 'Cluster and GPU node pools').

    - nvidia-device-plugin 0.19.3 (June 2026): the newest patch of the 0.19 line, which reverted
      0.19.0's default-on gdrcopy/gds/mofed; 0.20.0 is a fresh minor.
    - cluster-autoscaler chart 9.59.0 (July 2026), with the image pinned to the control plane's minor.
    - dcgm-exporter 4.8.2 (May 2026), off by default.
    """

    nvidia_device_plugin: HelmChartConfig = HelmChartConfig(version="0.19.3")
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig(version="9.59.0")
    dcgm_exporter: HelmChartConfig = HelmChartConfig(enabled=False, version="4.8.2")
