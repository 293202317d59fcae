"""The root of the contract: one validated model per stack, with its cross-field checks."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field

from ai_platform_finops.tags import FinOpsTags

from .base import ConfigModel, Environment, quantity_value
from .addons import AddonsConfig
from .cluster import ClusterConfig, ClusterMode, EndpointAccess, is_private_range
from .network import NetworkConfig, NetworkMode
from .node_pools import MAX_AWS_TAG_KEY, CapacityType, NodePoolConfig
from .argocd import RESERVED_PROJECT_NAMES, ArgoCdConfig
from components.observability.metrics import missing_metric

from .observability import ObservabilityConfig, ScaleSignal
from .finops import BudgetsConfig, CostAllocationTagsMode, FinOpsSettings
from .model_store import ModelStoreConfig
from .model_store_checks import model_store_problems
from .projects import ProjectConfig
from .services import InferenceServiceConfig

Problem = tuple[str, str]
"""(key path as written in the stack file, what is wrong)."""

IMAGE_DISK_RESERVE_GIB = 30
"""Node disk kept for container images (a GPU serving image alone is often 10-20 GB) and the OS."""

TIER_BY_ENVIRONMENT = {"dev": "development", "staging": "staging", "prod": "production", "local": "development"}


class StackConfig(ConfigModel):
    environment: Environment
    """The stack's environment: dev, staging, prod or local (kind/minikube, no AWS); rules and defaults key on it."""
    region: str | None = None
    """The AWS region, from aws:region (required for AWS stacks)."""
    protect: bool | None = None
    """protect=True on critical resources (EKS cluster, KMS key, Argo CD, budgets); default: prod."""
    finops: FinOpsSettings
    """The FinOps tag contract (prefix, cost center, project, tier, owner) and cost assumptions."""
    network: NetworkConfig | None = None
    """The VPC: created here or an existing one (required when cluster.mode is 'create')."""
    cluster: ClusterConfig
    """The EKS cluster: created here, an existing one, or a kubeconfig context (local)."""
    node_pools: Annotated[list[NodePoolConfig], Field(min_length=1)]
    """Node pools: one 'system' pool plus GPU pools (EKS managed node groups)."""
    addons: AddonsConfig = AddonsConfig()
    """Cluster add-on charts, each pinned to an exact version."""
    projects: Annotated[list[ProjectConfig], Field(min_length=1)]
    """Tenants: each a namespace with quota, network policy, Argo CD project and budget."""
    services: list[InferenceServiceConfig] = []
    """Inference services: model, governance facts, resources, replicas and node pool."""
    budgets: BudgetsConfig | None = None
    """AWS Budgets and cost alerts (required for AWS stacks)."""
    argocd: ArgoCdConfig | None = None
    """Argo CD and its GitOps repository; unset or enabled: false for none."""
    observability: ObservabilityConfig = ObservabilityConfig()
    """Prometheus, Alertmanager, Grafana and OpenCost, with alert rules generated from this config (docs/observability.md)."""
    model_store: ModelStoreConfig | None = Field(default=None, description=(ModelStoreConfig.__doc__ or "") + (
        " Unset: no stores (services then take images and reports from elsewhere, and cannot set "
        "model.artifactUri). Set it on AWS stacks; docs/ship-a-model.md."))

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

    def store_bucket(self, project: str) -> str | None:
        """The project's model store bucket (None without modelStore)."""
        return self.model_store.bucket(self.cluster.name, project) if self.model_store is not None else None

    def store_repository(self, project: str) -> str | None:
        """The project's model store ECR repository (None without modelStore)."""
        return self.model_store.repository(self.cluster.name, project) if self.model_store is not None else None

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
    problems.extend(cluster_problems(cfg))  # network, cluster, node pools, add-ons: see below

    if cfg.is_local and cfg.finops.cost_allocation_tags != CostAllocationTagsMode.OFF:
        add(("finops.costAllocationTags", "the local stack has no AWS account; use 'off'"))
    if cfg.is_local != (cfg.environment == Environment.LOCAL):
        add(("cluster.mode", "mode 'kubeconfig' is for the local stack only, and the local stack must use it"))
    if not cfg.is_local:
        if not cfg.region:
            add(("aws:region", "is required for AWS stacks (e.g. us-east-1)"))
        if cfg.network is None and cfg.cluster.mode == ClusterMode.CREATE:
            add(("network", "is required when cluster.mode is 'create'"))
        if cfg.budgets is None:
            add(("budgets", "is required for AWS stacks: every project needs a budget"))

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
        if svc.mounts_shared_memory and quantity_value(svc.shared_memory_size) >= quantity_value(svc.resources.memory):
            add((f"{path}.sharedMemory.sizeLimit",
                 f"{svc.shared_memory_size} must be less than resources.memory {svc.resources.memory}: an in-memory "
                 "/dev/shm counts against the memory limit"))
        cache = quantity_value(svc.model_cache_size)
        if (svc.resources.gpus > 0) == pool.is_gpu and cache > (pool.disk_size_gib - IMAGE_DISK_RESERVE_GIB) * 2**30:
            add((f"{path}.modelCache.sizeLimit",
                 f"{svc.model_cache_size} does not fit pool {pool.name!r}'s {pool.disk_size_gib} GiB disk with "
                 f"{IMAGE_DISK_RESERVE_GIB} GiB left for images and the OS; lower it or raise the pool's diskSizeGib"))
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
            elif svc.replicas.max > pool.max_size * (per_node // gpus):
                # Pods do not split across nodes: a node holds per_node // gpus of them. GPU services roll
                # with maxSurge 0 (svc.rollout_max_surge), so max replicas is also the rollout's peak.
                add((f"{path}.replicas.max",
                     f"{svc.replicas.max} replicas x {gpus} GPU(s) exceed pool {pool.name!r} capacity: "
                     f"{pool.max_size} nodes x {per_node} GPU(s) hold at most {pool.max_size * (per_node // gpus)} such pods"))
        if cfg.is_prod:
            tag, digest = svc.model.image_tag, svc.model.image_digest
            if digest is None and tag == "latest":
                add((f"{path}.model.image", "':latest' is not allowed in prod; pin a version tag or @sha256 digest"))
        elif svc.model.image_tag == "latest" and svc.model.image_digest is None:
            add((f"{path}.model.image", "':latest' is not reproducible; pin a version tag or @sha256 digest"))

    problems.extend(_quota_problems(cfg))

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
    problems.extend(_argocd_problems(cfg))
    problems.extend(_observability_problems(cfg))
    problems.extend(model_store_problems(cfg))
    return problems


def _observability_problems(cfg: StackConfig) -> list[Problem]:
    obs = cfg.observability
    problems: list[Problem] = []
    add = problems.append
    project_names = [p.name for p in cfg.projects]
    if obs.enabled and cfg.is_local:
        add(("observability.enabled", "the local stack runs no monitoring stack (docs/observability.md#local); "
                                      "set it to false"))
    for name in obs.receivers:
        if name not in project_names:
            add((f"observability.receivers.{name}", f"unknown project {name!r}; known: {', '.join(project_names)}"))
    for tier in obs.drift_limits:
        if tier not in ("minimal", "limited", "high"):
            add((f"observability.driftLimits.{tier}", "is not a risk tier (minimal, limited, high)"))
    for i, svc in enumerate(cfg.services):
        path = f"services[{i}]"
        if svc.autoscaling.signal != ScaleSignal.CPU and not obs.enabled:
            add((f"{path}.autoscaling.signal", f"{svc.autoscaling.signal.value!r} reads Prometheus through "
                                               "prometheus-adapter; set observability.enabled: true or use 'cpu'"))
        if svc.autoscaling.signal == ScaleSignal.GPU_UTILIZATION and svc.resources.gpus == 0:
            add((f"{path}.autoscaling.signal", "gpuUtilization needs a GPU service"))
        missing = missing_metric(svc)
        if missing:
            add((f"{path}.metrics", missing))
    return problems


def _quota_problems(cfg: StackConfig) -> list[Problem]:
    """Each project's quota must admit its services at max replicas, or the HPA can never get there.

    A rollout at max replicas also needs room for its surge pod: one for a CPU service, none for a GPU
    service (GPU services roll with maxSurge 0, maxUnavailable 1, so their GPU demand is max replicas).
    """
    problems: list[Problem] = []
    for j, project in enumerate(cfg.projects):
        services = [s for s in cfg.services if s.project == project.name]
        if not services:
            continue
        quota = project.quota

        def pods(s: InferenceServiceConfig) -> str:
            return f"({s.replicas.max} + 1 surge)" if s.rollout_max_surge else str(s.replicas.max)

        gpus = sum((s.replicas.max + s.rollout_max_surge) * s.resources.gpus for s in services)
        if gpus > quota.gpus:
            detail = ", ".join(f"{s.name}: {pods(s)} x {s.resources.gpus}" for s in services if s.resources.gpus)
            problems.append((f"projects[{j}].quota.gpus",
                             f"{quota.gpus} GPU(s) is less than the {gpus} the project's services need at max replicas ({detail})"))
        at = "at max replicas" + (" plus their rollout surge" if any(s.rollout_max_surge for s in services) else "")
        for field, unit in (("cpu", "cores"), ("memory", "bytes")):
            limit = getattr(quota, field)
            demand = sum((s.replicas.max + s.rollout_max_surge) * quantity_value(getattr(s.resources, field))
                         for s in services)
            if demand > quantity_value(limit):
                detail = ", ".join(f"{s.name}: {pods(s)} x {getattr(s.resources, field)}" for s in services)
                shown = f"{demand:g} {unit}" if field == "cpu" else f"{demand / 2**30:g}Gi"
                problems.append((f"projects[{j}].quota.{field}",
                                 f"{limit!r} is less than the {shown} the project's services request {at} ({detail})"))
    return problems


# --- Argo CD: checks between the argocd section and the rest of the stack -------------

REDIS_HA_NODES = 3
"""redis-ha runs 3 Redis and 3 HAProxy pods with hard anti-affinity: one per node."""


def _argocd_problems(cfg: StackConfig) -> list[Problem]:
    argo = cfg.argocd
    if argo is None or not argo.enabled:
        return []
    problems: list[Problem] = []
    add = problems.append
    project_names = [p.name for p in cfg.projects]

    if argo.effective_ha(cfg.is_prod):
        system = next((p for p in cfg.node_pools if not p.is_gpu), None)
        if system is not None and (cfg.is_local or system.min_size < REDIS_HA_NODES):
            nodes = "a single kind node" if cfg.is_local else f"minSize {system.min_size}"
            add(("argocd.ha", f"HA runs redis-ha with {REDIS_HA_NODES} pods on separate nodes, but system pool "
                              f"{system.name!r} has {nodes}; raise its minSize to {REDIS_HA_NODES} or set argocd.ha: false"))
    if argo.sso is not None and argo.ingress is None:
        add(("argocd.sso", "needs argocd.ingress: Argo CD's external https URL is where the OIDC provider redirects"))
    if argo.repo.private and not argo.repo.url.startswith("https://"):
        add(("argocd.repo.url", "a private repo takes the gitopsRepoToken over HTTPS; use an https:// URL"))
    if argo.root_project is not None:
        root = cfg.project(argo.root_project)
        if root is None:
            add(("argocd.rootProject", f"unknown project {argo.root_project!r}; known: {', '.join(project_names)}"))
        elif argo.repo.url not in root.source_repos:
            add(("argocd.rootProject", f"project {root.name!r} does not list {argo.repo.url} in its sourceRepos, "
                                       "so Argo CD would refuse to sync the root Application"))
    for i, project in enumerate(cfg.projects):
        if project.name in RESERVED_PROJECT_NAMES:
            add((f"projects[{i}].name", f"{project.name!r} is reserved by Argo CD; pick another project name"))
    return problems


# --- cluster: network, cluster, node pools and add-ons -------------------------------------

def cluster_problems(cfg: StackConfig) -> list[Problem]:
    """Checks spanning the network, cluster, nodePools and addons sections."""
    problems: list[Problem] = []
    add = problems.append
    if (cfg.cluster.mode == ClusterMode.EXISTING and cfg.network is not None
            and cfg.network.mode == NetworkMode.CREATE):
        add(("network.mode", "an existing cluster's node groups must live in its VPC; "
                             "use mode 'existing' with its subnet ids, or drop the network section"))
    cluster = cfg.cluster
    if cluster.mode != ClusterMode.CREATE:
        for field, value in (("deployerPrincipalArns", cluster.deployer_principal_arns),
                             ("privateAccessCidrs", cluster.private_access_cidrs),
                             ("runnerCidrs", cluster.runner_cidrs)):
            if value:
                add((f"cluster.{field}", f"applies to a cluster created here (mode 'create'), not mode '{cluster.mode}'; "
                                         "grant access where the cluster is managed"))
    problems.extend(_endpoint_problems(cfg))
    for i, arn in enumerate(cluster.deployer_principal_arns):
        if arn == cluster.admin_principal_arn:
            add((f"cluster.deployerPrincipalArns[{i}]", "is adminPrincipalArn, which has its own access entry; remove it"))
        elif arn in cluster.deployer_principal_arns[:i]:
            add((f"cluster.deployerPrincipalArns[{i}]", f"lists {arn} twice (EKS takes one access entry per principal)"))
    for i, cidr in enumerate(cluster.private_access_cidrs):
        if cidr in cluster.private_access_cidrs[:i]:
            add((f"cluster.privateAccessCidrs[{i}]", f"lists {cidr} twice"))
    for i, pool in enumerate(cfg.node_pools):
        for field, kind, key, tag in pool.node_template_tag_keys():
            if len(tag) > MAX_AWS_TAG_KEY:
                room = MAX_AWS_TAG_KEY - (len(tag) - len(key))
                add((f"nodePools[{i}].{field}",
                     f"{kind} key {key!r} makes its scale-from-zero ASG tag key {len(tag)} characters "
                     f"(AWS allows {MAX_AWS_TAG_KEY}); use a key of at most {room} characters"))
        if not pool.is_gpu and pool.schedule(cfg.environment.value) is not None and not cfg.is_local:
            add((f"nodePools[{i}].offPeak", "the system pool runs coredns, the autoscaler and Argo CD; "
                                            "it must not scale to zero off-peak"))
    if cfg.is_local:
        return problems
    addons = cfg.addons
    if any(p.runs_nvidia_device_plugin_chart for p in cfg.gpu_pools) and not addons.nvidia_device_plugin.enabled:
        add(("addons.nvidiaDevicePlugin.enabled", "AL2023 NVIDIA GPU pools need the NVIDIA device plugin: "
                                                  "without it nodes never report nvidia.com/gpu"))
    autoscaler = addons.cluster_autoscaler
    if autoscaler.enabled and autoscaler.image_for(cfg.cluster.version) is None:
        add(("addons.clusterAutoscaler.imageTag",
             f"is required for Kubernetes {cfg.cluster.version}: set the cluster-autoscaler release of the "
             f"same minor (v{cfg.cluster.version}.x)"))
    if addons.dcgm_exporter.enabled and not cfg.gpu_pools:
        add(("addons.dcgmExporter.enabled", "the DCGM exporter needs at least one GPU pool"))
    return problems


BOOTSTRAP_HINT = ("deploy first with endpointAccess: bootstrap and runnerCidrs set to the runners' public egress "
                  "CIDRs, or declare an existing runner VPC's CIDR (see docs/running-for-real.md)")


def _endpoint_problems(cfg: StackConfig) -> list[Problem]:
    """Some declared runner must be able to reach the API endpoint the stack asks for."""
    cluster = cfg.cluster
    if cluster.mode != ClusterMode.CREATE:
        return []
    problems: list[Problem] = []
    add = problems.append
    access = cluster.access(cfg.is_prod)
    runners = cluster.runner_cidrs
    vpc = ipaddress.ip_network(cfg.network.cidr) if cfg.network is not None and cfg.network.mode == NetworkMode.CREATE else None
    for i, cidr in enumerate(runners):
        path = f"cluster.runnerCidrs[{i}]"
        private = is_private_range(cidr)
        if cidr in runners[:i]:
            add((path, f"lists {cidr} twice"))
        elif access != EndpointAccess.PRIVATE and private:
            add((path, f"{cidr} is a private range, which cannot reach the public endpoint of endpointAccess "
                       f"'{access}'; list the runners' public egress CIDRs (e.g. their NAT gateways' addresses)"))
        elif access == EndpointAccess.PRIVATE and not private:
            add((path, f"{cidr} is a public range, which cannot reach a private-only endpoint; list the CIDR of the "
                       "runners' VPC (peered, attached by Transit Gateway or reached by VPN)"))
        elif access == EndpointAccess.PRIVATE and vpc is not None and ipaddress.ip_network(cidr).overlaps(vpc):
            add((path, f"{cidr} lies in network.cidr {vpc}, the VPC this stack creates, so no runner is there on "
                       f"the first run; {BOOTSTRAP_HINT}"))
    if access == EndpointAccess.BOOTSTRAP and not runners:
        add(("cluster.runnerCidrs", "endpointAccess 'bootstrap' opens the public endpoint to the runners only; "
                                    "list their public egress CIDRs"))
    elif access == EndpointAccess.PRIVATE and not runners:
        default = " (the default in prod)" if cluster.endpoint_access is None else ""
        add(("cluster.runnerCidrs", f"endpointAccess 'private'{default} is reachable only from inside the VPC, "
                                    f"and no runner is declared; {BOOTSTRAP_HINT}"))
    elif cfg.is_prod and not runners:
        add(("cluster.runnerCidrs", "prod is deployed from CI: declare the runners' CIDRs so the endpoint "
                                    "admits them"))
    if cfg.is_prod and access == EndpointAccess.PUBLIC and not cluster.public_access_cidrs and not runners:
        add(("cluster.endpointAccess", "a public API endpoint in prod must be limited by publicAccessCidrs or runnerCidrs"))
    return problems


def config_warnings(cfg: StackConfig) -> list[Problem]:
    """Choices that deploy but often disappoint: printed as warnings, never an error."""
    warnings: list[Problem] = []
    for i, pool in enumerate(cfg.node_pools):
        if pool.is_gpu and pool.capacity_type == CapacityType.SPOT and len(pool.instance_types) == 1:
            warnings.append((f"nodePools[{i}].instanceTypes",
                             f"spot GPU pool {pool.name!r} lists one instance type ({pool.instance_types[0]}); spot "
                             "GPU capacity of a single type is often unavailable, so list several types with the "
                             "same GPU (e.g. g5.xlarge, g5.2xlarge, g5.4xlarge)"))
    return warnings
