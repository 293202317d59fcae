"""ArgoCd: Argo CD installed by Helm, secured, and bootstrapped to the team's GitOps repository.

- An ``argocd`` Namespace and a ``helm.v3.Release`` of ``argo-cd`` at the exact configured chart
  version; values come from ``components.argocd_values.build_values`` (HA in prod, Dex off, server
  ClusterIP, TLS-only opt-in ingress, requests/limits everywhere, system pool, FinOps labels).
- Admin: disabled under SSO; else a bcrypt hash from secret config goes in as a Pulumi secret (never
  hashed here: bcrypt is salted, argoproj/argo-helm#1233); else Argo CD generates its initial
  password in-cluster (``argocd-initial-admin-secret``), which never passes through Pulumi.
- The private repo token becomes a repository Secret whose ``stringData`` is a Pulumi secret.
- One AppProject per tenant, the root Application, and (by default) an emptied ``default`` project;
  all depend on the Helm release so the CRDs exist first (pulumi/pulumi-kubernetes#1735, #3176).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.argocd_values import (
    API_VERSION,
    CHART,
    CHART_REPO,
    DEFAULT_PROJECT_SPEC,
    RELEASE_NAME,
    REPO_SECRET,
    ROOT_APP,
    SECRET_TYPE_LABEL,
    admin_mode,
    app_project_spec,
    bootstrap_project_spec,
    build_values,
    port_forward_command,
    root_application_spec,
)
from components.config import ProjectConfig, stack_file
from components.config.argocd import ARGOCD_NAMESPACE, BOOTSTRAP_PROJECT, ArgoCdConfig

TYPE = "ai-platform:gitops:ArgoCd"


@dataclass(frozen=True)
class ArgoCdArgs:
    """ArgoCd's inputs: the argocd config section and what the platform resolved around it."""

    config: ArgoCdConfig
    """The stack's ``argocd`` section: chart version, repository, SSO, ingress, bootstrap."""
    is_prod: bool
    """Prod: HA by default, no generated initial admin secret, and the bootstrap's prod rules."""
    labels: Mapping[str, str]
    """FinOps labels of the platform (namespace, release, bootstrap resources)."""
    projects: Sequence[ProjectConfig]
    """The tenant projects: one AppProject each."""
    project_labels: Mapping[str, Mapping[str, str]]
    """FinOps labels per tenant project, for its AppProject."""
    node_selector: Mapping[str, str]
    """Where every Argo CD pod runs: the system pool's label."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider, passed to every child."""
    tolerations: Sequence[Mapping[str, str]] = ()
    """Tolerations of the system pool's taints, for every Argo CD pod."""
    protect: bool = False
    """protect=True on the namespace and the Helm release (prod)."""
    admin_password_hash: pulumi.Input[str] | None = None
    """A bcrypt hash from secret config; None: SSO or Argo CD's generated initial password."""
    repo_token: pulumi.Input[str] | None = None
    """The private GitOps repository's token (secret config); None for a public repository."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """What Argo CD's pods need first, e.g. the system node pool."""


class ArgoCd(pulumi.ComponentResource):
    """Argo CD and its bootstrap (see the module docstring). Outputs:"""

    namespace: pulumi.Output[str]
    """The namespace Argo CD runs in (``argocd``), from the Namespace resource."""
    server_service: pulumi.Output[str]
    """The name of the argocd-server Service."""
    port_forward: pulumi.Output[str]
    """The ``kubectl port-forward`` command that reaches the UI (the server is ClusterIP)."""
    release: k8s.helm.v3.Release
    """The argo-cd Helm release (the AppProjects and Applications depend on it)."""

    def __init__(self, name: str, args: ArgoCdArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        argo = args.config
        labels = dict(args.labels)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        if argo.repo.private and args.repo_token is None:
            raise pulumi.RunError(
                f"{stack_file(pulumi.get_stack())}: argocd.repo.private: the repository is private but "
                "gitopsRepoToken is not set; run: pulumi config set --secret gitopsRepoToken <token>"
            )

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE, labels=labels),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=args.protect, depends_on=list(args.depends_on))
            ),
        )

        mode = admin_mode(argo, args.admin_password_hash is not None)
        if argo.sso is not None and args.admin_password_hash is not None:
            pulumi.log.warn("argocd: SSO is configured, so admin is disabled and argocdAdminPasswordHash is ignored", self)
        elif mode == "initial-secret" and args.is_prod:
            pulumi.log.warn(
                "argocd: no SSO and no argocdAdminPasswordHash: admin signs in with the password Argo CD generated "
                "in argocd-initial-admin-secret; configure argocd.sso or set the hash, then delete that secret",
                self,
            )
        admin_hash = pulumi.Output.secret(args.admin_password_hash) if mode == "hash" else None
        values = build_values(
            argo,
            is_prod=args.is_prod,
            labels=labels,
            node_selector=args.node_selector,
            tolerations=args.tolerations,
            admin_password_hash=admin_hash,
        )
        ha = argo.effective_ha(args.is_prod)
        self.release = k8s.helm.v3.Release(
            name,
            k8s.helm.v3.ReleaseArgs(
                chart=CHART,
                version=argo.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
                name=RELEASE_NAME,
                namespace=namespace.metadata.name,
                create_namespace=False,
                values=values,
                timeout=900 if ha else 600,
                max_history=10,
                cleanup_on_fail=True,
            ),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.protect)),
        )
        after_release = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.release]))

        repo_secret: k8s.core.v1.Secret | None = None
        if args.repo_token is not None:
            repo = argo.repo
            string_data = pulumi.Output.secret(
                pulumi.Output.from_input(args.repo_token).apply(
                    lambda token: {"type": "git", "url": repo.url, "username": repo.username, "password": token}
                )
            )
            repo_secret = k8s.core.v1.Secret(
                f"{name}-gitops-repo",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=REPO_SECRET,
                    namespace=namespace.metadata.name,
                    labels={**labels, SECRET_TYPE_LABEL: "repository"},
                ),
                type="Opaque",
                string_data=string_data,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
                ),
            )

        projects: dict[str, k8s.apiextensions.CustomResource] = {}
        for project in args.projects:
            projects[project.name] = k8s.apiextensions.CustomResource(
                f"{name}-project-{project.name}",
                api_version=API_VERSION,
                kind="AppProject",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=project.name,
                    namespace=ARGOCD_NAMESPACE,
                    labels=dict(args.project_labels.get(project.name, labels)),
                ),
                spec=app_project_spec(project),
                opts=after_release,
            )
        if argo.root_project is None:
            projects[BOOTSTRAP_PROJECT] = k8s.apiextensions.CustomResource(
                f"{name}-project-{BOOTSTRAP_PROJECT}",
                api_version=API_VERSION,
                kind="AppProject",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP_PROJECT, namespace=ARGOCD_NAMESPACE, labels=labels),
                spec=bootstrap_project_spec(argo),
                opts=after_release,
            )
        if argo.restrict_default_project:
            k8s.apiextensions.CustomResourcePatch(
                f"{name}-default-project",
                api_version=API_VERSION,
                kind="AppProject",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="default",
                    namespace=ARGOCD_NAMESPACE,
                    labels=labels,
                    # Argo CD creates 'default' at start-up and owns its fields: take them over.
                    annotations={"pulumi.com/patchForce": "true"},
                ),
                spec=DEFAULT_PROJECT_SPEC,
                opts=after_release,
            )

        root_spec = root_application_spec(argo, is_prod=args.is_prod, projects=args.projects)
        root_deps: list[pulumi.Resource] = [self.release, projects[root_spec["project"]]]
        if repo_secret is not None:
            root_deps.append(repo_secret)
        k8s.apiextensions.CustomResource(
            f"{name}-root-app",
            api_version=API_VERSION,
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ROOT_APP, namespace=ARGOCD_NAMESPACE, labels=labels),
            spec=root_spec,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=root_deps)),
        )

        self.namespace = namespace.metadata.name
        self.server_service = self.release.name.apply(lambda release: f"{release}-server")
        self.port_forward = pulumi.Output.all(self.namespace, self.server_service).apply(
            lambda parts: port_forward_command(parts[0], parts[1])
        )
        self.register_outputs(
            {"namespace": self.namespace, "serverService": self.server_service, "portForward": self.port_forward}
        )
