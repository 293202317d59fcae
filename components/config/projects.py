"""Projects: the tenants of the platform (namespace, quota, Argo CD project, budget)."""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from .base import ConfigModel, DnsLabel, Quantity, quantity_value


class ProjectQuota(ConfigModel):
    """The namespace's ResourceQuota: whole GPUs, cpu and memory (requests; memory also as limits)."""

    gpus: Annotated[StrictInt, Field(ge=0)] = 0
    """Whole GPUs (requests.nvidia.com/gpu); 0 keeps the project off GPU nodes."""
    cpu: Quantity = "32"
    """Total cpu requests."""
    memory: Quantity = "128Gi"
    """Total memory requests (and limits)."""


class ContainerDefaults(ConfigModel):
    """The namespace's LimitRange: what a container that states no resources gets."""

    cpu_request: Quantity = "250m"
    """Default cpu request."""
    memory_request: Quantity = "256Mi"
    """Default memory request."""
    memory_limit: Quantity = "1Gi"
    """Default memory limit."""

    @model_validator(mode="after")
    def _request_within_limit(self) -> "ContainerDefaults":
        if quantity_value(self.memory_request) > quantity_value(self.memory_limit):
            raise ValueError(
                f"memoryRequest {self.memory_request!r} exceeds memoryLimit {self.memory_limit!r}; "
                "Kubernetes rejects a LimitRange whose default request is above its default limit"
            )
        return self


class PodSecurityLevel(StrEnum):
    """Pod Security Admission levels (pod-security.kubernetes.io/enforce)."""

    RESTRICTED = "restricted"
    BASELINE = "baseline"
    PRIVILEGED = "privileged"


class ProjectConfig(ConfigModel):
    """One tenant: a namespace, a quota, an Argo CD project and a budget."""

    name: DnsLabel
    """The namespace name (a DNS label)."""
    cost_center: str | None = None
    """The project's own cost-center tag value; default the stack's finops.costCenter."""
    owner: str | None = None
    """The project's own owner tag value; default the stack's finops.owner."""
    quota: ProjectQuota = ProjectQuota()
    """The namespace's ResourceQuota."""
    container_defaults: ContainerDefaults = ContainerDefaults()
    """The namespace's LimitRange defaults."""
    pod_security: PodSecurityLevel = PodSecurityLevel.RESTRICTED
    """Pod Security Admission level enforced on the namespace; inference pods meet 'restricted'."""
    network_policy: bool = Field(
        default=True,
        description="A default-deny NetworkPolicy for ingress and egress; DNS, the platform's ingress namespaces "
                    "and (allowSameNamespace) the namespace's own pods stay allowed. Opting out needs "
                    "networkPolicyOptOutReason.")
    network_policy_opt_out_reason: Annotated[str, Field(min_length=10)] | None = Field(
        default=None,
        description="Why this project runs without the default-deny policy (required with networkPolicy: false; "
                    "recorded as an annotation on the namespace).")
    allowed_ingress_namespaces: list[DnsLabel] = ["ingress-nginx"]
    """Namespaces admitted by the default-deny policy (Argo CD's namespace is added when Argo CD is on)."""
    allow_same_namespace: bool = True
    """Whether the default-deny policy still admits traffic between pods of this project's namespace."""
    allowed_egress_cidrs: list[IPv4Network] = Field(
        default=[],
        description="Extra egress the default-deny policy allows, as CIDRs (e.g. a VPC endpoint subnet for S3 or "
                    "the model registry).")

    @model_validator(mode="after")
    def _opt_out_has_a_reason(self) -> "ProjectConfig":
        if not self.network_policy and not self.network_policy_opt_out_reason:
            raise ValueError("networkPolicy: false needs networkPolicyOptOutReason: why this tenant runs without "
                             "the default-deny NetworkPolicy")
        if self.network_policy and self.network_policy_opt_out_reason:
            raise ValueError("networkPolicyOptOutReason is set but networkPolicy is on; remove the reason")
        return self
    source_repos: list[str] = []
    """Git repositories this project's Argo CD AppProject may deploy from."""
