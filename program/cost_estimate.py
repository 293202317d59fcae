"""The stack's cost estimate from its *declared* config, for the stack outputs.

The estimate that gates pull requests (preflight's ``cost`` section, the policy pack's
``cost-within-budget``) prices the resources the program registers. A Pulumi program cannot see
its own registered resources, so the ``costEstimateUsd`` stack output is computed here from the
config instead: each declared node pool, the cluster, the NAT gateways, the monitoring stack's
volumes and the projects' model stores are described in the
estimator's input shape, exactly as the cluster and network components build them, and priced by
the same ``ai_platform_finops.estimator``. ``tests/finops/test_finops_preflight_cost.py`` checks that
the two agree on every shipped AWS stack, so a program change that adds cost without config shows
up there as a mismatch.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ai_platform_finops.estimator import (
    EIP,
    EKS_CLUSTER,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    NAT_GATEWAY,
    NODE_GROUP,
    Estimate,
    estimate,
)
from ai_platform_finops.load_balancers import HELM_RELEASES
from ai_platform_finops.resource_types import ECR_REPOSITORY, S3_BUCKET

from components.config import ClusterMode, NetworkMode, StackConfig
from components.observability.values import KPS_RELEASE, kps_values, storage_class_manifest
from components.config.network import NatGatewayMode

SCHEDULE = "aws:autoscaling/schedule:Schedule"
RELEASE = "kubernetes:helm.sh/v3:Release"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"


def nat_gateway_count(cfg: StackConfig) -> int:
    """NAT gateways the network creates: one per AZ (default in prod) or one."""
    network = cfg.network
    if network is None or network.mode != NetworkMode.CREATE or cfg.cluster.mode == ClusterMode.KUBECONFIG:
        return 0
    mode = network.nat_gateways or (NatGatewayMode.PER_AZ if cfg.is_prod else NatGatewayMode.SINGLE)
    return network.az_count if mode == NatGatewayMode.PER_AZ else 1


def declared_resources(cfg: StackConfig) -> list[dict[str, Any]]:
    """The priced resources the config declares, in the estimator's input shape."""
    if cfg.is_local:
        return []
    key = cfg.tags.key("project")
    out: list[dict[str, Any]] = []

    def add(urn: str, type_: str, inputs: dict[str, Any], parent: str = "", **links: list[str]) -> None:
        out.append({"urn": urn, "type": type_, "name": urn.rsplit("::", 1)[-1], "parent": parent,
                    "inputs": inputs, "dependencies": [u for urns in links.values() for u in urns],
                    "property_dependencies": links})

    stack_tags = {key: cfg.finops.project}
    if cfg.cluster.mode == ClusterMode.CREATE:
        add("declared::cluster", EKS_CLUSTER, {"version": cfg.cluster.version,
                                               "upgradePolicy": {"supportType": cfg.cluster.support_type.value},
                                               "tags": stack_tags})
        add("declared::cluster-secrets-key", KMS_KEY, {"enableKeyRotation": True, "tags": stack_tags})
        add("declared::cluster-logs", LOG_GROUP, {"tags": stack_tags})
    if cfg.budgets is not None:
        add("declared::cost-alerts-key", KMS_KEY, {"enableKeyRotation": True, "tags": stack_tags})
    argo_ingress = cfg.argocd.ingress if cfg.argocd is not None and cfg.argocd.enabled else None
    if argo_ingress is not None:
        # The argo-cd release's values show the server Ingress (components/argocd_values.py).
        add("declared::argocd", HELM_RELEASES[0], {"chart": "argo-cd", "namespace": "argocd", "values": {
            "server": {"ingress": {"enabled": True, "ingressClassName": argo_ingress.ingress_class}}}})
    for index in range(nat_gateway_count(cfg)):
        add(f"declared::nat-{index}", NAT_GATEWAY, {"tags": {key: cfg.finops.project}})
        add(f"declared::nat-eip-{index}", EIP, {"tags": {key: cfg.finops.project}})
    for pool in cfg.node_pools:
        project = cfg.pool_tags(pool).project
        parent = f"declared::pool::{pool.name}"
        lt, ng = f"{parent}::lt", f"{parent}::ng"
        tags = {key: project}
        add(lt, LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"ebs": {"volumeSize": pool.disk_size_gib, "volumeType": "gp3"}}],
                                  "tags": tags}, parent)
        add(ng, NODE_GROUP, {"instanceTypes": list(pool.instance_types), "capacityType": pool.capacity_type.value,
                             "scalingConfig": {"minSize": pool.min_size, "maxSize": pool.max_size,
                                               "desiredSize": pool.effective_desired_size},
                             "tags": tags}, parent, launchTemplate=[lt])
        schedule = pool.schedule(cfg.environment.value)
        if schedule is not None:
            add(f"{parent}::down", SCHEDULE, {"recurrence": schedule.scale_down, "timeZone": schedule.time_zone,
                                              "minSize": 0, "maxSize": 0, "desiredCapacity": 0},
                parent, autoscalingGroupName=[ng])
            add(f"{parent}::up", SCHEDULE, {"recurrence": schedule.scale_up, "timeZone": schedule.time_zone,
                                            "minSize": pool.min_size, "maxSize": pool.max_size,
                                            "desiredCapacity": pool.effective_desired_size},
                parent, autoscalingGroupName=[ng])
    if cfg.model_store is not None:
        # Storage is a usage line per project that owns a bucket or a repository, billed to its project tag.
        for project in cfg.projects:
            tags = {key: cfg.project_tags(project.name).project}
            add(f"declared::store::{project.name}::bucket", S3_BUCKET, {"tags": tags})
            add(f"declared::store::{project.name}::images", ECR_REPOSITORY, {"tags": tags})
    obs = cfg.observability
    if obs.enabled and obs.persistent(cfg.is_prod):
        # The monitoring stack's volumes: its chart values and StorageClass, built as the component builds them.
        add("declared::storage-class", STORAGE_CLASS, storage_class_manifest(reclaim_retain=cfg.is_prod))
        add(f"declared::{KPS_RELEASE}", RELEASE, {"chart": KPS_RELEASE, "values": kps_values(
            obs, is_prod=cfg.is_prod, system_pool=cfg.system_pool, alertmanager_config={},
            alertmanager_service_account="alertmanager")})
    return out


def declared_estimate(cfg: StackConfig, as_of: date | None = None) -> Estimate:
    return estimate(
        declared_resources(cfg),
        region=cfg.region or "us-east-1",
        project_tag_key=cfg.tags.key("project"),
        default_project=cfg.finops.project,
        spot_fraction=cfg.finops.spot_price_fraction,
        as_of=as_of,
        usage=cfg.finops.usage_assumptions,
    )


def estimate_output(cfg: StackConfig, as_of: date | None = None) -> dict[str, Any]:
    """The ``costEstimateUsd`` stack output: totals and per-project figures, USD a month."""
    result = declared_estimate(cfg, as_of)
    return {
        "basis": "declared config, priced by ai_platform_finops.estimator (730 h a month)",
        "catalogDate": result.catalog.date,
        "total": result.total.as_dict(),
        "byProject": {name: figures.as_dict() for name, figures in result.by_project().items()},
    }
