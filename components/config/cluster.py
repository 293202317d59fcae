"""The cluster of a stack: how it is reached (create, existing, kubeconfig), its endpoint and its logs."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator


from .base import ConfigModel, DnsLabel


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

