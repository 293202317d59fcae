"""The root of the contract: one validated model per stack, with its cross-field checks."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ai_platform_finops.tags import FinOpsTags

from .base import ConfigModel, Environment
from .cluster import AddonsConfig, ClusterConfig, ClusterMode, NetworkConfig, NodePoolConfig
from .argocd import ArgoCdConfig
from .finops import BudgetsConfig, FinOpsSettings
from .projects import ProjectConfig
from .services import InferenceServiceConfig

Problem = tuple[str, str]
"""(key path as written in the stack file, what is wrong)."""

TIER_BY_ENVIRONMENT = {"dev": "development", "staging": "staging", "prod": "production", "local": "development"}


class StackConfig(ConfigModel):
    environment: Environment
    region: str | None = None
    protect: bool | None = None
    """protect=True on critical resources (EKS cluster, KMS key, Argo CD, budgets); default: prod."""
    finops: FinOpsSettings
    network: NetworkConfig | None = None
    cluster: ClusterConfig
    node_pools: Annotated[list[NodePoolConfig], Field(min_length=1)]
    addons: AddonsConfig = AddonsConfig()
    projects: Annotated[list[ProjectConfig], Field(min_length=1)]
    services: list[InferenceServiceConfig] = []
    budgets: BudgetsConfig | None = None
    argocd: ArgoCdConfig | None = None

    # --- derived views, so components never re-derive or re-parse -----------------------
    @property
    def is_prod(self) -> bool:
        return self.environment == Environment.PROD

    @property
    def is_local(self) -> bool:
        return self.cluster.mode == ClusterMode.KUBECONFIG

    @property
    def protect_critical(self) -> bool:
        return self.protect if self.protect is not None else self.is_prod

    @property
    def tags(self) -> FinOpsTags:
        """The stack-wide FinOps tags (platform resources are billed to finops.project)."""
        f = self.finops
        return FinOpsTags(f.tag_prefix, f.cost_center, f.project, self.environment.value, f.tier, f.owner)

    def project_tags(self, project: str) -> FinOpsTags:
        spec = self.project(project)
        if spec is None:
            return self.tags.for_project(project)
        return self.tags.for_project(project, spec.cost_center, spec.owner)

    def pool_tags(self, pool: NodePoolConfig) -> FinOpsTags:
        return self.project_tags(pool.project) if pool.project else self.tags

    def pool(self, name: str) -> NodePoolConfig | None:
        return next((p for p in self.node_pools if p.name == name), None)

    def project(self, name: str) -> ProjectConfig | None:
        return next((p for p in self.projects if p.name == name), None)

    @property
    def system_pool(self) -> NodePoolConfig:
        return next(p for p in self.node_pools if not p.is_gpu)

    @property
    def gpu_pools(self) -> list[NodePoolConfig]:
        return [p for p in self.node_pools if p.is_gpu]


def _duplicates(names: list[str]) -> list[int]:
    seen: set[str] = set()
    dupes = []
    for index, name in enumerate(names):
        if name in seen:
            dupes.append(index)
        seen.add(name)
    return dupes


def cross_field_problems(cfg: StackConfig) -> list[Problem]:
    """Checks that span sections; field-level checks live on the models themselves."""
    problems: list[Problem] = []
    add = problems.append

    if cfg.is_local != (cfg.environment == Environment.LOCAL):
        add(("cluster.mode", "mode 'kubeconfig' is for the local stack only, and the local stack must use it"))
    if not cfg.is_local:
        if not cfg.region:
            add(("aws:region", "is required for AWS stacks (e.g. us-east-1)"))
        if cfg.network is None and cfg.cluster.mode == ClusterMode.CREATE:
            add(("network", "is required when cluster.mode is 'create'"))
        if cfg.budgets is None:
            add(("budgets", "is required for AWS stacks: every project needs a budget"))
    if cfg.is_prod and cfg.cluster.endpoint_public_access and not cfg.cluster.public_access_cidrs:
        add(("cluster.endpointPublicAccess", "a public API endpoint in prod must be limited by publicAccessCidrs"))

    for i in _duplicates([p.name for p in cfg.node_pools]):
        add((f"nodePools[{i}].name", f"duplicate node pool name {cfg.node_pools[i].name!r}"))
    for i in _duplicates([p.name for p in cfg.projects]):
        add((f"projects[{i}].name", f"duplicate project name {cfg.projects[i].name!r}"))
    for i in _duplicates([s.name for s in cfg.services]):
        add((f"services[{i}].name", f"duplicate service name {cfg.services[i].name!r}"))

    if not cfg.is_local and not any(not p.is_gpu for p in cfg.node_pools):
        add(("nodePools", "needs one pool with role 'system' for Argo CD, the autoscaler and other add-ons"))
    if cfg.is_local and any(p.is_gpu for p in cfg.node_pools):
        add(("nodePools", "the local stack is CPU-only; declare only a 'system' pool"))

    project_names = [p.name for p in cfg.projects]
    pool_names = [p.name for p in cfg.node_pools]
    for i, pool in enumerate(cfg.node_pools):
        if pool.project and pool.project not in project_names:
            add((f"nodePools[{i}].project", f"unknown project {pool.project!r}; known: {', '.join(project_names)}"))

    for i, svc in enumerate(cfg.services):
        path = f"services[{i}]"
        if svc.project not in project_names:
            add((f"{path}.project", f"unknown project {svc.project!r}; known: {', '.join(project_names)}"))
        pool = cfg.pool(svc.node_pool)
        if pool is None:
            add((f"{path}.nodePool", f"unknown node pool {svc.node_pool!r}; known: {', '.join(pool_names)}"))
            continue
        gpus = svc.resources.gpus
        if gpus > 0 and not pool.is_gpu:
            add((f"{path}.nodePool", f"{gpus} GPU(s) requested but pool {pool.name!r} has no GPUs"))
        elif gpus == 0 and pool.is_gpu:
            add((f"{path}.nodePool", f"a CPU-only service must not run on GPU pool {pool.name!r}; pick a system pool"))
        elif gpus > 0:
            per_node = pool.gpus_per_instance
            if gpus > per_node:
                add((f"{path}.resources.gpus",
                     f"{gpus} GPUs per pod, but pool {pool.name!r} instances ({', '.join(pool.instance_types)}) have {per_node}"))
            elif svc.replicas.max * gpus > pool.max_size * per_node:
                add((f"{path}.replicas.max",
                     f"{svc.replicas.max} replicas x {gpus} GPU(s) exceed pool {pool.name!r} capacity of "
                     f"{pool.max_size} nodes x {per_node} GPU(s)"))
        if cfg.is_prod:
            tag, digest = svc.model.image_tag, svc.model.image_digest
            if digest is None and tag == "latest":
                add((f"{path}.model.image", "':latest' is not allowed in prod; pin a version tag or @sha256 digest"))
        elif svc.model.image_tag == "latest" and svc.model.image_digest is None:
            add((f"{path}.model.image", "':latest' is not reproducible; pin a version tag or @sha256 digest"))

    if cfg.budgets is not None:
        limits = cfg.budgets.monthly_limits_usd
        for name in limits:
            if name not in project_names:
                add((f"budgets.monthlyLimitsUsd.{name}", f"unknown project {name!r}; known: {', '.join(project_names)}"))
        billed = {cfg.finops.project, *project_names}
        for name in sorted(billed - set(limits)):
            add(("budgets.monthlyLimitsUsd", f"project {name!r} has no budget; every billed project needs one"))

    for i, project in enumerate(cfg.projects):
        problems_found = cfg.project_tags(project.name).problems()
        for field, reason in problems_found:
            add((f"projects[{i}]", f"FinOps {field}: {reason}"))
    if cfg.argocd is not None and not cfg.argocd.repo.url:
        add(("argocd.repo.url", "is required"))
    return problems
