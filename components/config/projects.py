"""Projects: the tenants of the platform (namespace, quota, Argo CD project, budget)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from .base import ConfigModel, DnsLabel, Quantity


class ProjectQuota(ConfigModel):
    gpus: Annotated[StrictInt, Field(ge=0)] = 0
    cpu: Quantity = "32"
    memory: Quantity = "128Gi"


class ProjectConfig(ConfigModel):
    """One tenant: a namespace, a quota, an Argo CD project and a budget."""

    name: DnsLabel
    cost_center: str | None = None
    owner: str | None = None
    quota: ProjectQuota = ProjectQuota()
    network_policy: bool | None = None
    """Default-deny ingress; on by default in prod."""
    allowed_ingress_namespaces: list[DnsLabel] = ["ingress-nginx"]
    source_repos: list[str] = []
    """Git repositories this project's Argo CD AppProject may deploy from."""
