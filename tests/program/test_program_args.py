"""program.args: each component's Args from a small stack config built in code (tests.support.builders)."""

from __future__ import annotations

from typing import Any

import pytest

import tests.support.builders as b
from components.config import POOL_LABEL
from components.config.argocd import ARGOCD_NAMESPACE
from components.observability.values import NAMESPACE as MONITORING_NAMESPACE
from program import args

ADMIN = "arn:aws:iam::210987654321:role/team-admin"
ARGOCD = {"repo": {"url": "https://git.example.org/team-a/gitops.git"}}


def pool_of(values: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in values["nodePools"] if p["name"] == name)


@pytest.mark.parametrize(("environment", "gpu_pool", "expected"), [
    ("dev", {"minSize": 0, "offPeak": False}, True),  # scales to zero on its own
    ("dev", {"minSize": 1}, True),  # dev GPU pools get the off-peak schedule by default
    ("dev", {"minSize": 1, "offPeak": False}, False),
    ("staging", {"minSize": 1, "offPeak": True}, True),
    ("prod", {"minSize": 0}, False),  # prod always waits for its rollouts
])
def test_a_gpu_pool_that_may_sit_at_zero_outside_prod_skips_the_await(environment, gpu_pool, expected):
    values = b.stack(environment, nodePools=[b.system_pool(), b.gpu_pool(**gpu_pool)])
    cfg = b.build(values)
    service = args.inference_service_args(cfg, cfg.services[0], namespace=b.PROJECT_NAME)
    assert service.skip_await is expected
    assert service.pool.name == b.GPU_POOL


def test_a_system_pool_never_skips_the_await():
    cfg = b.build(b.stack("dev", nodePools=[b.system_pool(minSize=0)], services=[b.service(
        nodePool=b.SYSTEM_POOL, resources={"gpus": 0, "cpu": "1", "memory": "1Gi"})]))
    assert args.may_sit_at_zero(cfg, cfg.system_pool) is False


@pytest.mark.parametrize(("environment", "spread"), [("dev", False), ("prod", True)])
def test_services_spread_across_zones_in_prod_only_and_carry_their_projects_tags(environment, spread):
    cfg = b.build(b.stack(environment))
    service = args.inference_service_args(cfg, cfg.services[0], namespace="ns", depends_on=[])
    assert service.spread_across_zones is spread
    assert service.tags == cfg.project_tags(b.PROJECT_NAME)
    assert service.governance_prefix == cfg.finops.effective_governance_prefix


def test_a_service_on_an_unknown_pool_is_refused_never_guessed():
    cfg = b.build()
    stray = cfg.services[0].model_copy(update={"node_pool": "nowhere"})
    with pytest.raises(ValueError, match="unknown node pool 'nowhere'"):
        args.inference_service_args(cfg, stray, namespace="ns")


@pytest.mark.parametrize(("sections", "admitted"), [
    ({}, ()),
    ({"argocd": ARGOCD}, (ARGOCD_NAMESPACE,)),
    ({"observability": {"enabled": True}}, (MONITORING_NAMESPACE,)),
    ({"argocd": ARGOCD, "observability": {"enabled": True}}, (ARGOCD_NAMESPACE, MONITORING_NAMESPACE)),
])
def test_the_tenant_fence_admits_argocd_and_monitoring_when_the_stack_runs_them(sections, admitted):
    cfg = b.build(b.stack("dev", **sections))
    tenant = args.project_namespace_args(cfg, cfg.projects[0])
    assert tenant.ingress_namespaces == (*cfg.projects[0].allowed_ingress_namespaces, *admitted)
    assert tenant.tags == cfg.project_tags(b.PROJECT_NAME)


def test_a_namespace_the_project_already_admits_is_not_listed_twice():
    values = b.stack("dev", argocd=ARGOCD, projects=[b.project(allowedIngressNamespaces=[ARGOCD_NAMESPACE, "gateway"])])
    cfg = b.build(values)
    assert args.project_namespace_args(cfg, cfg.projects[0]).ingress_namespaces == (ARGOCD_NAMESPACE, "gateway")


def test_the_network_gets_every_pools_instance_types_once_in_order():
    values = b.stack("dev", network={"azCount": 2}, cluster={"mode": "create", "name": "test-dev", "version": "1.35",
                                                              "adminPrincipalArn": ADMIN}, nodePools=[
        b.system_pool(instanceTypes=["m6i.large", "g5.xlarge"]), b.gpu_pool(instanceTypes=["g5.xlarge", "g5.2xlarge"])])
    network = args.network_args(b.build(values))
    assert network.instance_types == ("m6i.large", "g5.xlarge", "g5.2xlarge")
    assert network.cluster_name == "test-dev" and network.region == "us-east-1"


def test_a_stack_without_a_network_section_has_no_network_args():
    with pytest.raises(ValueError, match="no network section"):
        args.network_args(b.build())


def test_cost_controls_take_each_budgeted_projects_tags():
    cfg = b.build()
    controls = args.cost_controls_args(cfg, "ai-platform-dev")
    assert set(controls.project_tags) == {b.PROJECT_NAME}
    assert controls.name_prefix == "ai-platform-dev" and controls.protect_budgets is False


def test_argocd_runs_on_the_system_pool():
    cfg = b.build(b.stack("dev", argocd=ARGOCD))
    assert args.system_node_selector(cfg) == {"kubernetes.io/os": "linux", POOL_LABEL: b.SYSTEM_POOL}
