"""Each component's Args, resolved from the stack config (one function per component)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.argocd import ArgoCdArgs
from components.argocd_values import OS_LABEL
from components.cluster import Cluster, ClusterArgs, NodePoolPlan
from components.cluster_addons import ClusterAddonsArgs
from components.config import POOL_LABEL, InferenceServiceConfig, NodePoolConfig, ProjectConfig, StackConfig, StackSecrets
from components.config.argocd import ARGOCD_NAMESPACE
from components.cost_controls import CostControlsArgs
from components.config.model_store import partition_of, reader_role_name, split_s3_uri
from components.inference.args import InferenceServiceArgs
from components.model_store.access import ModelAccessArgs
from components.model_store.scanning import RegistryScanningArgs
from components.model_store.store import ModelStoreArgs
from components.network import Network, NetworkArgs
from components.observability.dashboards import dashboards
from components.observability.rules import rule_sets
from components.observability.stack import ObservabilityArgs
from components.observability.thresholds import Thresholds, stack_thresholds
from components.observability.values import NAMESPACE as MONITORING_NAMESPACE
from components.project_namespace import ProjectNamespaceArgs


def network_args(cfg: StackConfig) -> NetworkArgs:
    if cfg.network is None:
        raise ValueError("the stack has no network section")
    types = tuple(dict.fromkeys(t for pool in cfg.node_pools for t in pool.instance_types))
    return NetworkArgs(config=cfg.network, cluster_name=cfg.cluster.name, is_prod=cfg.is_prod,
                       tags=cfg.tags.aws_tags(), region=cfg.region or "us-east-1", instance_types=types)


def cluster_args(cfg: StackConfig, network: Network | None) -> ClusterArgs:
    return ClusterArgs(
        config=cfg.cluster,
        environment=cfg.environment.value,
        region=cfg.region,
        tags=cfg.tags.aws_tags(),
        protect=cfg.protect_critical,
        is_prod=cfg.is_prod,
        network=network,
        node_pools=[NodePoolPlan(p, cfg.pool_tags(p).aws_tags()) for p in cfg.node_pools] if not cfg.is_local else [],
    )


def project_namespace_args(cfg: StackConfig, project: ProjectConfig) -> ProjectNamespaceArgs:
    admitted = list(project.allowed_ingress_namespaces)
    if cfg.argocd is not None and cfg.argocd.enabled and ARGOCD_NAMESPACE not in admitted:
        admitted.append(ARGOCD_NAMESPACE)
    # Prometheus scrapes the model servers' /metrics (their ServiceMonitors) from the monitoring namespace.
    if cfg.observability.enabled and not cfg.is_local and MONITORING_NAMESPACE not in admitted:
        admitted.append(MONITORING_NAMESPACE)
    return ProjectNamespaceArgs(project=project, tags=cfg.project_tags(project.name),
                                network_policy=project.network_policy, ingress_namespaces=tuple(admitted),
                                governance_prefix=cfg.finops.effective_governance_prefix)


def cost_controls_args(cfg: StackConfig, name_prefix: str) -> CostControlsArgs:
    if cfg.budgets is None or cfg.is_local:
        raise ValueError("cost controls need an AWS stack with a budgets section")
    projects = {name: cfg.project_tags(name) for name in cfg.budgets.monthly_limits_usd}
    return CostControlsArgs(
        name_prefix=name_prefix,
        region=cfg.region or "us-east-1",
        tags=cfg.tags,
        project_tags=projects,
        budgets=cfg.budgets,
        cost_allocation_tags=cfg.finops.cost_allocation_tags,
        anomaly_detection=cfg.finops.anomaly_detection,
        protect_budgets=cfg.protect_critical,
    )


def observability_args(cfg: StackConfig, cluster: Cluster, stack: str, thresholds: Thresholds | None = None,
                       alert_topic_arn: pulumi.Input[str] | None = None,
                       namespace_dependencies: Mapping[str, Sequence[pulumi.Resource]] | None = None) -> ObservabilityArgs:
    """``thresholds`` default to the stack's policy pack config (ValueError when it is unreadable)."""
    limits = thresholds if thresholds is not None else stack_thresholds(stack)
    return ObservabilityArgs(
        config=cfg.observability, cluster=cluster, stack=stack, is_prod=cfg.is_prod,
        kubernetes_version=cfg.cluster.version, region=cfg.region,
        system_pool=cfg.system_pool, services=cfg.services, projects=[p.name for p in cfg.projects],
        finops_label_prefix=cfg.finops.tag_prefix, tags=cfg.tags.aws_tags(), labels=cfg.tags.k8s_labels(),
        rule_sets=rule_sets(cfg, limits),
        dashboards=dashboards(cfg),
        alert_topic_arn=alert_topic_arn,
        namespace_dependencies={project: list(ready) for project, ready in (namespace_dependencies or {}).items()},
    )


def cluster_addons_args(cfg: StackConfig, cluster: Cluster,
                        monitoring_crds: Sequence[pulumi.Resource] = ()) -> ClusterAddonsArgs:
    if cfg.region is None and not cfg.is_local:
        raise ValueError("cluster add-ons need aws:region")
    return ClusterAddonsArgs(
        config=cfg.addons,
        cluster=cluster,
        region=cfg.region,
        kubernetes_version=cfg.cluster.version,
        system_pool=cfg.system_pool,
        gpu_pools=cfg.gpu_pools,
        tags=cfg.tags.aws_tags(),
        finops_label_prefix=cfg.finops.tag_prefix,
        monitoring_crds=tuple(monitoring_crds),
    )


def may_sit_at_zero(cfg: StackConfig, pool: NodePoolConfig) -> bool:
    """A non-prod GPU pool with no node for a while (minSize 0, or an off-peak schedule to zero)."""
    return (not cfg.is_prod and pool.is_gpu
            and (pool.min_size == 0 or pool.schedule(cfg.environment.value) is not None))


def inference_service_args(cfg: StackConfig, service: InferenceServiceConfig, namespace: pulumi.Input[str],
                           depends_on: Sequence[pulumi.Resource] = ()) -> InferenceServiceArgs:
    pool = cfg.pool(service.node_pool)
    if pool is None:  # the config contract rejects this before any resource; never guess a pool
        raise ValueError(f"service {service.name!r}: unknown node pool {service.node_pool!r}")
    return InferenceServiceArgs(
        service=service,
        pool=pool,
        tags=cfg.project_tags(service.project),
        governance_prefix=cfg.finops.effective_governance_prefix,
        namespace=namespace,
        spread_across_zones=cfg.is_prod,
        depends_on=tuple(depends_on),
        skip_await=may_sit_at_zero(cfg, pool),
        artifact_region=cfg.region if service.model.artifact_uri is not None else None,
    )


def model_store_args(cfg: StackConfig, project: ProjectConfig) -> ModelStoreArgs:
    store, region = cfg.model_store, cfg.region
    if store is None or region is None:
        raise ValueError("model stores need a modelStore section and aws:region")
    return ModelStoreArgs(
        config=store, project=project.name,
        repository=store.repository(cfg.cluster.name, project.name),
        bucket=store.bucket(cfg.cluster.name, project.name),
        partition=partition_of(region),
        tags=cfg.project_tags(project.name).aws_tags(),
        protect=cfg.protect_critical,
    )


def registry_scanning_args(cfg: StackConfig) -> RegistryScanningArgs:
    return RegistryScanningArgs(repository_prefix=f"{cfg.cluster.name}/")


def model_access_args(cfg: StackConfig, service: InferenceServiceConfig,
                      cluster_name: pulumi.Input[str]) -> ModelAccessArgs:
    """The read-only identity of a service with model.artifactUri (checked against its project's bucket)."""
    uri, store, region = service.model.artifact_uri, cfg.model_store, cfg.region
    parts = split_s3_uri(uri) if uri is not None else None
    if parts is None or store is None or region is None:
        raise ValueError(f"service {service.name!r} has no model.artifactUri in a model store")
    bucket, prefix = parts
    return ModelAccessArgs(
        cluster_name=cluster_name, role_name=reader_role_name(cfg.cluster.name, service.name),
        namespace=service.project, service_account=service.name,
        bucket=bucket, prefix=prefix, partition=partition_of(region),
        tags=cfg.project_tags(service.project).aws_tags(), kms_key_arn=store.kms_key_arn,
    )


def system_node_selector(cfg: StackConfig) -> dict[str, str]:
    """The system pool's label (on kind, stacks/kind-cluster.yaml puts it on the node)."""
    return {OS_LABEL: "linux", POOL_LABEL: cfg.system_pool.name}


def argocd_args(cfg: StackConfig, secrets: StackSecrets, provider: k8s.Provider,
                depends_on: Sequence[pulumi.Resource] = ()) -> ArgoCdArgs:
    if cfg.argocd is None:
        raise ValueError("the stack has no argocd section")
    return ArgoCdArgs(
        config=cfg.argocd,
        is_prod=cfg.is_prod,
        labels=cfg.tags.k8s_labels(),
        projects=list(cfg.projects),
        project_labels={p.name: cfg.project_tags(p.name).k8s_labels() for p in cfg.projects},
        node_selector=system_node_selector(cfg),
        provider=provider,
        tolerations=[t.toleration() for t in cfg.system_pool.effective_taints],
        protect=cfg.protect_critical,
        admin_password_hash=secrets.argocd_admin_password_hash,
        repo_token=secrets.gitops_repo_token,
        depends_on=list(depends_on),
    )
