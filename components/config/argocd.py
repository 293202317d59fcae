"""Argo CD: the chart pin, HA, SSO, ingress and the GitOps repository it is bootstrapped to."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ConfigModel


class SsoConfig(ConfigModel):
    issuer: Annotated[str, Field(pattern=r"^https://\S+$")]
    client_id: str


class ArgoIngressConfig(ConfigModel):
    host: str
    tls_secret_name: str
    ingress_class: str = "nginx"


class GitOpsRepoConfig(ConfigModel):
    url: Annotated[str, Field(pattern=r"^(https://|git@|ssh://)\S+$")]
    path: str = "apps"
    revision: str = "main"
    private: bool = False
    """Private repos take their token from the secret config key gitopsRepoToken."""


class ArgoCdConfig(ConfigModel):
    enabled: bool = True
    chart_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = "9.1.4"
    ha: bool | None = None
    """HA (redis-ha, 2+ replicas); defaults to on in prod only."""
    sso: SsoConfig | None = None
    ingress: ArgoIngressConfig | None = None
    repo: GitOpsRepoConfig
    prune: bool | None = None
    """Automated prune; defaults to off in prod."""
