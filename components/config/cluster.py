"""Network, cluster, node pools and cluster add-ons: the capacity side of a stack."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

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


class NetworkMode(StrEnum):
    CREATE = "create"
    EXISTING = "existing"


class NatGatewayMode(StrEnum):
    SINGLE = "single"
    PER_AZ = "perAz"


class NetworkConfig(ConfigModel):
    mode: NetworkMode = NetworkMode.CREATE
    """'create' a VPC here, or use an 'existing' one by its ids."""
    cidr: str = "10.0.0.0/16"
    """The VPC's CIDR (mode 'create')."""
    az_count: Annotated[int, Field(ge=2, le=6)] = 2
    """Availability zones to spread subnets over (mode 'create')."""
    nat_gateways: NatGatewayMode | None = None
    """Defaults to one NAT gateway outside prod and one per AZ in prod."""
    vpc_id: str | None = None
    """The existing VPC's id (mode 'existing')."""
    private_subnet_ids: list[str] = []
    """The existing private subnets for nodes (mode 'existing')."""
    public_subnet_ids: list[str] = []
    """The existing public subnets for load balancers (mode 'existing')."""

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
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+$")


def _principal_arn(value: str) -> str:
    if not _IAM_PRINCIPAL_ARN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admin "
            "(EKS access entries take no STS session ARN)"
        )
    return value


def _private_cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR block such as 10.42.0.0/16") from None
    if net.prefixlen == 0:
        raise ValueError(f"{value!r} opens the API endpoint to everything routed to the VPC; list real CIDRs")
    return value


RUNNER_PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))
"""Ranges only routed inside private networks (RFC 1918, RFC 6598 shared space, IPv6 ULA): a runner there
reaches the private endpoint through peering, a Transit Gateway or a VPN, never the public endpoint."""


def is_private_range(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return any(net.version == r.version and net.subnet_of(r) for r in RUNNER_PRIVATE_RANGES)  # type: ignore[arg-type]


class EndpointAccess(StrEnum):
    """How the Kubernetes API endpoint is reached (the private endpoint is always on)."""

    PUBLIC = "public"
    """Public and private endpoints; the public one limited to publicAccessCidrs and runnerCidrs."""
    BOOTSTRAP = "bootstrap"
    """First deploy of a private cluster: the public endpoint open only to runnerCidrs (public egress
    addresses of the CI runners), until a runner inside or peered with the VPC exists."""
    PRIVATE = "private"
    """Private endpoint only, reached from runnerCidrs (a peered or attached runner VPC) and privateAccessCidrs."""


IamPrincipalArn = Annotated[str, AfterValidator(_principal_arn)]
PrivateCidr = Annotated[str, AfterValidator(_private_cidr)]


class ControlPlaneLog(StrEnum):
    """EKS control-plane log types (``enabledClusterLogTypes``)."""

    API = "api"
    AUDIT = "audit"
    AUTHENTICATOR = "authenticator"
    CONTROLLER_MANAGER = "controllerManager"
    SCHEDULER = "scheduler"


REQUIRED_CONTROL_PLANE_LOGS = (ControlPlaneLog.AUDIT, ControlPlaneLog.AUTHENTICATOR)
"""audit: who did what through the API; authenticator: which IAM principal became which user."""


class ClusterConfig(ConfigModel):
    mode: ClusterMode = ClusterMode.CREATE
    """'create' an EKS cluster, use an 'existing' one by name, or 'kubeconfig' (the local stack)."""
    name: DnsLabel
    """The EKS cluster's name (a DNS label)."""
    version: str = "1.35"
    """The Kubernetes minor version, e.g. '1.35'."""
    support_type: SupportType = SupportType.STANDARD
    """EKS support policy: STANDARD, or EXTENDED (billed extra per cluster-hour)."""
    admin_principal_arn: str | None = None
    """The IAM role or user given cluster-admin through an EKS access entry."""
    endpoint_access: EndpointAccess | None = Field(
        default=None,
        description="'public', 'bootstrap' or 'private' (see docs/running-for-real.md); defaults to 'private' "
                    "in prod and 'public' elsewhere.")
    runner_cidrs: list[PrivateCidr] = Field(
        default=[],
        description="Where the runners that run `pulumi up` reach the API from: their public egress CIDRs for "
                    "'public'/'bootstrap', or the CIDR of an existing runner VPC routed to this one for 'private'. "
                    "Required in prod.")
    public_access_cidrs: list[str] = []
    """CIDRs allowed to reach the public API endpoint; required with a public endpoint in prod."""
    deployer_principal_arns: list[IamPrincipalArn] = []
    """IAM roles/users (e.g. the CI role that runs ``pulumi up``) given an access entry with cluster admin."""
    private_access_cidrs: list[PrivateCidr] = []
    """CIDRs allowed to reach the private API endpoint (443/tcp on the cluster security group), e.g. the
    VPC's own CIDR for self-hosted runners or CodeBuild in the VPC."""
    control_plane_logs: list[ControlPlaneLog] = list(REQUIRED_CONTROL_PLANE_LOGS)
    """Control-plane log types; ``api`` (every API request, the bulk of the CloudWatch bill) only if listed."""
    kubeconfig_context: str | None = None
    """The kubeconfig context to use (mode 'kubeconfig')."""
    kubeconfig_path: str | None = None
    """The kubeconfig file (mode 'kubeconfig'); default $KUBECONFIG, else ~/.kube/config."""

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _K8S_VERSION.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes minor version such as '1.35' (1.28-1.39)")
        return value

    @field_validator("admin_principal_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        return _principal_arn(value) if value is not None else None

    @field_validator("control_plane_logs")
    @classmethod
    def _logs(cls, value: list[ControlPlaneLog]) -> list[ControlPlaneLog]:
        missing = [log.value for log in REQUIRED_CONTROL_PLANE_LOGS if log not in value]
        if missing:
            raise ValueError(f"must include {' and '.join(missing)} (who did what, and which IAM principal did it)")
        if len(set(value)) != len(value):
            raise ValueError("lists a log type twice")
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

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        if isinstance(data, dict) and "endpointPublicAccess" in data:
            raise ValueError("endpointPublicAccess is replaced by endpointAccess: public, bootstrap (public "
                             "endpoint only for runnerCidrs) or private")
        return data

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

    def access(self, is_prod: bool) -> EndpointAccess:
        if self.endpoint_access is not None:
            return self.endpoint_access
        return EndpointAccess.PRIVATE if is_prod else EndpointAccess.PUBLIC

    def public_endpoint_cidrs(self, is_prod: bool) -> list[str] | None:
        """CIDRs the public endpoint admits (None: the public endpoint is off); [] means open to all."""
        if self.access(is_prod) == EndpointAccess.PRIVATE:
            return None
        return list(dict.fromkeys([*self.runner_cidrs, *self.public_access_cidrs]))

    def private_endpoint_cidrs(self, is_prod: bool) -> list[str]:
        """CIDRs let through the cluster security group to the private endpoint (443/tcp)."""
        runners = self.runner_cidrs if self.access(is_prod) == EndpointAccess.PRIVATE else []
        return list(dict.fromkeys([*self.private_access_cidrs, *runners]))


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


class HelmChartConfig(ConfigModel):
    enabled: bool = True
    """Install this add-on."""
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    """The exact chart version (x.y.z)."""


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
    """How the autoscaler picks a node group to grow: least-waste or priority."""
    image_tag: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+$")] | None = None
    """The cluster-autoscaler image; defaults to the release matching cluster.version."""

    def image_for(self, kubernetes_version: str) -> str | None:
        return self.image_tag or CLUSTER_AUTOSCALER_IMAGES.get(kubernetes_version)


NVIDIA_DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
DCGM_EXPORTER_REPO = "https://nvidia.github.io/dcgm-exporter/helm-charts"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"


class MetricsServerConfig(HelmChartConfig):
    kubelet_insecure_tls: bool | None = None
    """``--kubelet-insecure-tls``: on by default in kubeconfig mode only (kind and minikube kubelets serve
    self-signed certificates); EKS kubelets' certificates are signed by the cluster CA, so it stays off."""

    def insecure_tls(self, kubeconfig_mode: bool) -> bool:
        return self.kubelet_insecure_tls if self.kubelet_insecure_tls is not None else kubeconfig_mode


class AddonsConfig(ConfigModel):
    """Cluster add-on charts, each pinned to an exact version (see docs/design.md 'Cluster and GPU node pools').

    - nvidia-device-plugin 0.19.3 (June 2026): the newest patch of the 0.19 line, which reverted
      0.19.0's default-on gdrcopy/gds/mofed; 0.20.0 is a fresh minor.
    - cluster-autoscaler chart 9.59.0 (July 2026), with the image pinned to the control plane's minor.
    - dcgm-exporter 4.8.2 (May 2026), off by default.
    - metrics-server chart 3.13.1 (app 0.8.1; tagged June 2026, still the newest in August 2026): the
      ``metrics.k8s.io`` API every HPA reads cpu utilisation from. Also on the local (kubeconfig) stack.
    """

    nvidia_device_plugin: HelmChartConfig = HelmChartConfig(version="0.19.3")
    """The NVIDIA device plugin chart (advertises nvidia.com/gpu on GPU nodes)."""
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig(version="9.59.0")
    """The Cluster Autoscaler chart (scales node groups, from zero too)."""
    dcgm_exporter: HelmChartConfig = HelmChartConfig(enabled=False, version="4.8.2")
    """NVIDIA's DCGM exporter chart (GPU utilisation metrics); off by default."""
    metrics_server: MetricsServerConfig = MetricsServerConfig(version="3.13.1")
    """The metrics-server chart (CPU metrics for the HPAs)."""
