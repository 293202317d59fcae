"""Every generated PrometheusRule and dashboard ConfigMap fits what the Kubernetes API and the Prometheus
Operator accept, at any number of services: one object per subject, and dashboards of a fixed set of
panels over template variables.

The limits: a ConfigMap's data holds at most 1 MiB (Kubernetes docs, "ConfigMaps": "The data stored in
a ConfigMap cannot exceed 1 MiB"); any object is one etcd request, at most ``--max-request-bytes``
(1.5 MiB by default, etcd docs "System limits"); and the Prometheus Operator writes each PrometheusRule
to one rule file, refusing a file larger than half a MiB ("too large for a single Kubernetes ConfigMap").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import pytest
import yaml

from components.config.finops import BudgetsConfig, FinOpsSettings
from components.config.node_pools import NodePoolConfig
from components.config.observability import ObservabilityConfig
from components.config.projects import ProjectConfig
from components.config.services import InferenceServiceConfig
from components.observability.dashboards import configmap_data, dashboards
from components.observability.rules import SCOPE_CLUSTER, SCOPE_POOL, SCOPE_PROJECT, SCOPE_SERVICE, rule_sets
from components.observability.stack import prometheus_rule_manifest
from tests.support.fixtures import config, thresholds

CONFIGMAP_DATA_BYTES = 1024 * 1024
ETCD_REQUEST_BYTES = 1536 * 1024
OPERATOR_RULE_FILE_BYTES = 512 * 1024
SERVICES_PER_POOL = 8
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Scaled:
    """The prod fixture's monitored view grown to ``n`` services over n/8 projects and GPU pools."""

    region: str | None
    observability: ObservabilityConfig
    finops: FinOpsSettings
    budgets: BudgetsConfig | None
    projects: Sequence[ProjectConfig]
    services: Sequence[InferenceServiceConfig]
    gpu_pools: Sequence[NodePoolConfig]

    def pool(self, name: str) -> NodePoolConfig | None:
        return next((p for p in self.gpu_pools if p.name == name), None)


def scaled(n: int) -> Scaled:
    live = config("live")
    assert live.budgets is not None
    templates = list(live.services)  # both tiers and both SLO shapes of the fixture
    k = -(-n // SERVICES_PER_POOL)
    projects = [live.projects[0].model_copy(update={"name": f"team-{i:03d}"}) for i in range(k)]
    pools = [live.gpu_pools[0].model_copy(update={"name": f"gpu-{i:03d}", "project": f"team-{i:03d}"})
             for i in range(k)]
    services = [templates[j % len(templates)].model_copy(update={
        "name": f"model-{j // SERVICES_PER_POOL:03d}-{j % SERVICES_PER_POOL:03d}",
        "project": f"team-{j // SERVICES_PER_POOL:03d}", "node_pool": f"gpu-{j // SERVICES_PER_POOL:03d}"})
        for j in range(n)]
    budgets = live.budgets.model_copy(update={"monthly_limits_usd": {p.name: 20_000.0 for p in projects}})
    return Scaled(live.region, live.observability, live.finops, budgets, projects, services, pools)


def _sizes(n: int) -> dict[str, Any]:
    view = scaled(n)
    limits = thresholds("live")
    labels = {"app.kubernetes.io/managed-by": "pulumi"}
    rules = {f"{rs.scope}/{rs.subject}": prometheus_rule_manifest(rs, labels) for rs in rule_sets(view, limits)}
    maps = {name: configmap_data(board) for name, board in dashboards(view).items()}
    return {
        "rule_objects": {k: len(json.dumps(v).encode()) for k, v in rules.items()},
        "rule_files": {k: len(yaml.dump(v["spec"], Dumper=DUMPER, sort_keys=False).encode()) for k, v in rules.items()},
        "configmaps": {k: sum(len(text.encode()) for text in data.values()) for k, data in maps.items()},
        "scopes": [k.split("/")[0] for k in rules],
    }


@pytest.fixture(scope="module")
def at_800() -> dict[str, Any]:
    return _sizes(800)


def test_no_generated_object_exceeds_the_api_limits_at_800_services(at_800):
    assert max(at_800["rule_objects"].values()) < ETCD_REQUEST_BYTES
    assert max(at_800["rule_files"].values()) < OPERATOR_RULE_FILE_BYTES
    assert max(at_800["configmaps"].values()) < CONFIGMAP_DATA_BYTES
    # One object per subject: the cluster's, 100 pools', 100 projects', 800 services'.
    scopes = at_800["scopes"]
    assert [scopes.count(s) for s in (SCOPE_CLUSTER, SCOPE_POOL, SCOPE_PROJECT, SCOPE_SERVICE)] == [1, 100, 100, 800]


def test_object_sizes_do_not_grow_with_the_number_of_services(at_800):
    small = _sizes(16)
    for kind in ("rule_objects", "rule_files", "configmaps"):
        # Names have a fixed width here, so the same subject's object is byte for byte the same size.
        assert max(at_800[kind].values()) == max(small[kind].values()), kind
    assert at_800["configmaps"] == small["configmaps"]
