"""Projects: the tenants of the platform (namespace, quota, Argo CD project, budget)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from .base import ConfigModel, DnsLabel, Quantity, quantity_value


class ProjectQuota(ConfigModel):
    """The namespace's ResourceQuota: whole GPUs, cpu and memory (requests; memory also as limits)."""

    gpus: Annotated[StrictInt, Field(ge=0)] = 0
    cpu: Quantity = "32"
    memory: Quantity = "128Gi"


class ContainerDefaults(ConfigModel):
    """The namespace's LimitRange: what a container that states no resources gets."""

    cpu_request: Quantity = "250m"
    memory_request: Quantity = "256Mi"
    memory_limit: Quantity = "1Gi"

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
    cost_center: str | None = None
    owner: str | None = None
    quota: ProjectQuota = ProjectQuota()
    container_defaults: ContainerDefaults = ContainerDefaults()
    pod_security: PodSecurityLevel = PodSecurityLevel.RESTRICTED
    """Pod Security Admission level enforced on the namespace; inference pods meet 'restricted'."""
    network_policy: bool | None = None
    """Default-deny ingress; on by default in prod."""
    allowed_ingress_namespaces: list[DnsLabel] = ["ingress-nginx"]
    """Namespaces admitted by the default-deny policy (Argo CD's namespace is added when Argo CD is on)."""
    allow_same_namespace: bool = True
    """Whether the default-deny policy still admits traffic between pods of this project's namespace."""
    source_repos: list[str] = []
    """Git repositories this project's Argo CD AppProject may deploy from."""
