"""Pure builders for Argo CD: the argo-cd chart's values and the GitOps custom resources.

Nothing here registers a resource, so tests assert every environment's values directly. Keys are
those of argoproj/argo-helm ``charts/argo-cd/values.yaml`` at chart 9.7.1 and of its redis-ha
dependency (DandyDeveloper/charts ``charts/redis-ha/values.yaml`` 4.34.11).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import yaml

from components.config.argocd import ARGOCD_NAMESPACE, BOOTSTRAP_PROJECT, ArgoCdConfig, SsoConfig
from components.config.projects import ProjectConfig

CHART = "argo-cd"
CHART_REPO = "https://argoproj.github.io/argo-helm"
RELEASE_NAME = "argocd"
"""With the chart's ``nameOverride: argocd``, objects are named ``argocd-<component>``."""
SERVER_SERVICE = f"{RELEASE_NAME}-server"
IN_CLUSTER = "https://kubernetes.default.svc"
API_VERSION = "argoproj.io/v1alpha1"
ROOT_APP = "root"
REPO_SECRET = "gitops-repo"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
LOCAL_PORT = 8080
LOCAL_DOMAIN = f"localhost:{LOCAL_PORT}"
"""``global.domain`` without an ingress: where ``port_forward_command`` serves the UI (not argocd.example.com)."""
OS_LABEL = "kubernetes.io/os"

SYNC_OPTIONS = ("ServerSideApply=true", "CreateNamespace=false")
RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}
HA_REPLICAS = 2
"""The chart's 'HA mode without autoscaling': 2 of server, repo-server and applicationSet; 1 controller."""

TENANT_DENIED_KINDS = (
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "networking.k8s.io", "kind": "NetworkPolicy"},
)
"""Namespaced kinds Pulumi owns in each tenant namespace: a project's apps may not replace them."""

Resources = dict[str, dict[str, str]]


def _res(req_cpu: str, req_mem: str, lim_cpu: str, lim_mem: str) -> Resources:
    return {"requests": {"cpu": req_cpu, "memory": req_mem}, "limits": {"cpu": lim_cpu, "memory": lim_mem}}


# Requests and limits of every container the chart can run, per size. The paths are the chart's
# own ``resources`` keys (see RESOURCE_PATHS); prod-sized is what HA runs.
_SMALL: dict[str, Resources] = {
    "controller": _res("250m", "512Mi", "1", "1Gi"),
    "server": _res("50m", "128Mi", "500m", "256Mi"),
    "repoServer": _res("100m", "256Mi", "1", "1Gi"),
    "repoServer.copyutil": _res("10m", "32Mi", "100m", "64Mi"),
    "applicationSet": _res("50m", "64Mi", "500m", "256Mi"),
    "notifications": _res("20m", "64Mi", "200m", "128Mi"),
    "dex": _res("20m", "64Mi", "200m", "128Mi"),
    "dex.initImage": _res("10m", "32Mi", "100m", "64Mi"),
    "redis": _res("50m", "64Mi", "250m", "256Mi"),
    "redis.exporter": _res("10m", "32Mi", "100m", "64Mi"),
    "redisSecretInit": _res("10m", "32Mi", "100m", "64Mi"),
}
_PROD: dict[str, Resources] = {
    **_SMALL,
    "controller": _res("500m", "1Gi", "2", "2Gi"),
    "server": _res("100m", "256Mi", "1", "512Mi"),
    "repoServer": _res("250m", "512Mi", "2", "2Gi"),
    "applicationSet": _res("100m", "128Mi", "1", "512Mi"),
}
_REDIS_HA: dict[str, Resources] = {
    "redis": _res("100m", "256Mi", "500m", "512Mi"),
    "sentinel": _res("20m", "64Mi", "200m", "128Mi"),
    "haproxy": _res("50m", "64Mi", "250m", "256Mi"),
    "haproxy.init": _res("10m", "32Mi", "100m", "64Mi"),
    "init": _res("10m", "32Mi", "100m", "64Mi"),
    "splitBrainDetection": _res("10m", "32Mi", "100m", "64Mi"),
    "exporter": _res("10m", "32Mi", "100m", "64Mi"),
}

RESOURCE_PATHS = tuple(f"{p}.resources" for p in _SMALL)
"""Every ``resources`` key of argo-cd 9.7.1's values, bar two that run nothing here
(``commitServer``, off by default, and ``server.extensions``, off)."""
REDIS_HA_RESOURCE_PATHS = tuple(f"redis-ha.{p}.resources" for p in _REDIS_HA)
COMPONENTS = ("controller", "server", "repoServer", "applicationSet", "notifications", "dex", "redis", "redisSecretInit")
"""Top-level chart components that take a nodeSelector and tolerations."""


def _set(values: dict[str, Any], dotted: str, value: Any) -> None:
    node = values
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def get_path(values: Mapping[str, Any], dotted: str) -> Any:
    """``values['a']['b']`` for ``'a.b'`` (KeyError when absent); chart keys never contain dots."""
    node: Any = values
    for key in dotted.split("."):
        node = node[key]
    return node


def oidc_config(sso: SsoConfig) -> str:
    """argocd-cm ``oidc.config``: Argo CD's own OIDC client; the secret stays a ``$secret:key`` reference."""
    return yaml.safe_dump(
        {
            "name": sso.name,
            "issuer": sso.issuer,
            "clientID": sso.client_id,
            "clientSecret": sso.client_secret_ref,
            "requestedScopes": list(sso.requested_scopes),
        },
        sort_keys=False,
    )


def build_values(
    argo: ArgoCdConfig,
    *,
    is_prod: bool,
    labels: Mapping[str, str],
    node_selector: Mapping[str, str],
    tolerations: Sequence[Mapping[str, str]] = (),
    admin_password_hash: Any = None,
) -> dict[str, Any]:
    """The argo-cd chart's values for one stack.

    ``admin_password_hash`` is placed as given at ``configs.secret.argocdServerAdminPassword``; the
    component passes a Pulumi secret Output, so the hash stays a secret in inputs and state. It is
    ignored when SSO is configured (admin is then disabled). ``tolerations`` (the system pool's taints)
    go on every component, redis-ha's Redis and HAProxy pods included.
    """
    ha = argo.effective_ha(is_prod)
    tolerated = [dict(t) for t in tolerations]
    sizes = _PROD if ha else _SMALL
    selector = dict(node_selector)
    values: dict[str, Any] = {
        "global": {
            # Links Argo CD renders (and configs.cm.url) use this host: the ingress's, else the port-forward's.
            "domain": argo.ingress.host if argo.ingress is not None else LOCAL_DOMAIN,
            "additionalLabels": dict(labels),
            "nodeSelector": selector,
            "tolerations": copy.deepcopy(tolerated),
        },
        "crds": {"install": True, "keep": True, "additionalLabels": dict(labels)},
        "dex": {"enabled": False},
        "notifications": {"enabled": False},
        "redis-ha": {"enabled": ha},
        "controller": {"replicas": 1},
        "server": {
            "replicas": HA_REPLICAS if ha else 1,
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
        },
        "repoServer": {"replicas": HA_REPLICAS if ha else 1},
        "applicationSet": {"replicas": HA_REPLICAS if ha else 1},
        "configs": {
            "cm": {"admin.enabled": argo.sso is None and argo.admin_enabled, "exec.enabled": False},
            "params": {"server.insecure": False},
        },
    }
    for component in COMPONENTS:
        _set(values, f"{component}.nodeSelector", dict(selector))
        _set(values, f"{component}.tolerations", copy.deepcopy(tolerated))
    for path, resources in sizes.items():
        _set(values, f"{path}.resources", resources)

    if ha:
        for component in ("server", "repoServer", "applicationSet"):
            values[component]["pdb"] = {"enabled": True, "minAvailable": 1}
        redis_ha = values["redis-ha"]
        redis_ha.update(
            {
                "nodeSelector": dict(selector),
                "tolerations": copy.deepcopy(tolerated),
                "extraLabels": dict(labels),
                "labels": dict(labels),
            }
        )
        _set(redis_ha, "haproxy.tolerations", copy.deepcopy(tolerated))
        for path, resources in _REDIS_HA.items():
            _set(redis_ha, f"{path}.resources", resources)

    if argo.ingress is not None:
        ingress = argo.ingress
        values["configs"]["cm"]["url"] = f"https://{ingress.host}"
        annotations: dict[str, str] = {}
        if ingress.ingress_class == "nginx":
            annotations = {
                "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
                "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
            }
        values["server"]["ingress"] = {
            "enabled": True,
            "ingressClassName": ingress.ingress_class,
            "hostname": ingress.host,
            "annotations": annotations,
            "tls": False,
            "extraTls": [{"hosts": [ingress.host], "secretName": ingress.tls_secret_name}],
        }

    if argo.sso is not None:
        sso = argo.sso
        values["configs"]["cm"]["oidc.config"] = oidc_config(sso)
        policy = "".join(f"g, {group}, role:admin\n" for group in sso.admin_groups)
        values["configs"]["rbac"] = {"policy.default": "role:readonly", "policy.csv": policy, "scopes": "[groups]"}
    elif admin_password_hash is not None and argo.admin_enabled:
        secret: dict[str, Any] = {"argocdServerAdminPassword": admin_password_hash}
        if argo.admin_password_mtime:
            secret["argocdServerAdminPasswordMtime"] = argo.admin_password_mtime
        values["configs"]["secret"] = secret
    return values


def admin_mode(argo: ArgoCdConfig, has_hash: bool) -> str:
    """How admin signs in: 'sso' (admin disabled), 'disabled', 'hash' (bcrypt from secret config) or
    'initial-secret' (the password Argo CD generates)."""
    if argo.sso is not None:
        return "sso"
    if not argo.admin_enabled:
        return "disabled"
    return "hash" if has_hash else "initial-secret"


# --- GitOps custom resources -----------------------------------------------------------------


def project_namespaces(project: ProjectConfig) -> list[str]:
    """The namespaces a project deploys into: tenancy names each project's Namespace after it."""
    return [project.name]


def app_project_spec(project: ProjectConfig) -> dict[str, Any]:
    """A tenant's fence: its repos, its own namespace(s) on this cluster, no cluster-scoped objects."""
    return {
        "description": f"Tenant project {project.name}: deploys only into its own namespace.",
        "sourceRepos": list(project.source_repos),
        "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in project_namespaces(project)],
        "clusterResourceWhitelist": [],
        "namespaceResourceBlacklist": [dict(kind) for kind in TENANT_DENIED_KINDS],
    }


def bootstrap_project_spec(argo: ArgoCdConfig) -> dict[str, Any]:
    """The root app-of-apps' fence: the GitOps repo, and only Applications in ``argocd``."""
    return {
        "description": "The root app-of-apps: creates Applications (each in its tenant's project) and nothing else.",
        "sourceRepos": [argo.repo.url],
        "destinations": [{"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": [
            {"group": "argoproj.io", "kind": "Application"},
            {"group": "argoproj.io", "kind": "ApplicationSet"},
        ],
    }


DEFAULT_PROJECT_SPEC: dict[str, Any] = {
    "sourceRepos": [],
    "sourceNamespaces": [],
    "destinations": [],
    "clusterResourceWhitelist": [],
    "namespaceResourceBlacklist": [{"group": "*", "kind": "*"}],
}
"""Argo CD's built-in ``default`` project, emptied as the Argo CD docs show ('The default project')."""


def root_application_spec(argo: ArgoCdConfig, *, is_prod: bool, projects: Sequence[ProjectConfig]) -> dict[str, Any]:
    """The root Application: the GitOps repo's path for this cluster, synced automatically."""
    if argo.root_project is not None:
        tenant = next(p for p in projects if p.name == argo.root_project)
        project, namespace = tenant.name, project_namespaces(tenant)[0]
    else:
        project, namespace = BOOTSTRAP_PROJECT, ARGOCD_NAMESPACE
    return {
        "project": project,
        "source": {"repoURL": argo.repo.url, "path": argo.repo.path, "targetRevision": argo.repo.revision},
        "destination": {"server": IN_CLUSTER, "namespace": namespace},
        "syncPolicy": {
            "automated": {"prune": argo.effective_prune(is_prod), "selfHeal": True},
            "syncOptions": list(SYNC_OPTIONS),
            "retry": copy.deepcopy(RETRY),
        },
    }


def port_forward_command(namespace: str = ARGOCD_NAMESPACE, service: str = SERVER_SERVICE) -> str:
    return f"kubectl -n {namespace} port-forward svc/{service} {LOCAL_PORT}:443"
