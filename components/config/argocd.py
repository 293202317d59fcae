"""Argo CD: the chart pin, HA, SSO, ingress and the GitOps repository it is bootstrapped to."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ConfigModel, DnsLabel

ARGOCD_NAMESPACE = "argocd"
"""Argo CD's namespace (tenancy's NetworkPolicies admit traffic from it)."""

BOOTSTRAP_PROJECT = "platform-bootstrap"
"""The AppProject of the root app-of-apps: it may only create Applications in ``argocd``."""

RESERVED_PROJECT_NAMES = frozenset({"default", BOOTSTRAP_PROJECT})
"""Names a tenant project cannot take: Argo CD's built-in project and the bootstrap project."""

DEFAULT_CHART_VERSION = "9.7.1"
"""argo-cd chart 9.7.1 (Argo CD v3.4.4): the last 9.x; see docs/gitops.md."""


class SsoConfig(ConfigModel):
    """OIDC single sign-on through Argo CD's built-in OIDC client (no Dex needed)."""

    issuer: Annotated[str, Field(pattern=r"^https://\S+$")]
    """The OIDC issuer URL (https://)."""
    client_id: Annotated[str, Field(min_length=1)]
    """The OIDC client id."""
    name: str = "SSO"
    """The label of the login button."""
    client_secret_ref: Annotated[str, Field(pattern=r"^\$[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[-._a-zA-Z0-9]+$")] = (
        "$argocd-oidc:clientSecret"
    )
    """Where Argo CD finds the client secret: ``$<secret>:<key>`` of a Secret in ``argocd`` labelled
    ``app.kubernetes.io/part-of: argocd``, created out of band (it never passes through Pulumi)."""
    requested_scopes: Annotated[list[str], Field(min_length=1)] = ["openid", "profile", "email", "groups"]
    """OIDC scopes requested at login."""
    admin_groups: list[str] = []
    """IdP groups that get ``role:admin``; everyone else who signs in gets ``role:readonly``."""


class ArgoIngressConfig(ConfigModel):
    """Opt-in ingress for the Argo CD server; always TLS (HTTP is redirected)."""

    host: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    """The Argo CD host name."""
    tls_secret_name: DnsLabel
    """The TLS Secret (in argocd) holding the certificate."""
    ingress_class: str = "nginx"
    """The IngressClass to use."""


class GitOpsRepoConfig(ConfigModel):
    url: Annotated[str, Field(pattern=r"^(https://|git@|ssh://)\S+$")]
    """The GitOps repository (https://, git@ or ssh://)."""
    path: str = "apps"
    """The directory of the root Application's manifests."""
    revision: str = "main"
    """The branch, tag or commit to track."""
    private: bool = False
    """Private repos take their token from the secret config key gitopsRepoToken (HTTPS only)."""
    username: Annotated[str, Field(min_length=1)] = "git"
    """The HTTPS user that goes with the token (GitHub and GitLab accept any non-empty name)."""


class ArgoCdConfig(ConfigModel):
    enabled: bool = True
    """Install Argo CD."""
    chart_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")] = DEFAULT_CHART_VERSION
    """The argo-cd chart version (x.y.z)."""
    ha: bool | None = None
    """HA (redis-ha, 2+ replicas); defaults to on in prod only."""
    sso: SsoConfig | None = None
    """OIDC single sign-on; unset for none."""
    ingress: ArgoIngressConfig | None = None
    """An ingress for the Argo CD server; unset keeps it cluster-internal (port-forward)."""
    repo: GitOpsRepoConfig
    """The GitOps repository the root Application syncs."""
    prune: bool | None = None
    """Automated prune; defaults to off in prod."""
    root_project: DnsLabel | None = None
    """Run the root Application in this tenant project (a plain app deployed into the project's
    namespace, as the local stack does). Unset: the root is an app-of-apps in the
    ``platform-bootstrap`` project, which may only create Applications in ``argocd``."""
    restrict_default_project: bool = True
    """Empty Argo CD's built-in ``default`` project, so no Application can escape its tenant fence."""
    admin_enabled: bool = Field(
        default=True,
        description="Argo CD's local admin user. Off under SSO whatever this says. In prod it needs SSO or "
                    "argocdAdminPasswordHash (set with --secret), else set it false and use SSO or `argocd --core`.")
    admin_password_mtime: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")] | None = None
    """When the admin hash was last changed (e.g. 2026-07-01T00:00:00Z). Unset: the chart stamps the
    time of each Helm upgrade, which signs admin out on every upgrade."""

    def effective_ha(self, is_prod: bool) -> bool:
        return self.ha if self.ha is not None else is_prod

    def effective_prune(self, is_prod: bool) -> bool:
        return self.prune if self.prune is not None else not is_prod
