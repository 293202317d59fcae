"""Grafana dashboards as code (ConfigMaps the sidecar loads; every query parses in promtool) and scaling on
the right signal (prometheus-adapter, pinned, and HPAs on GPU utilisation or requests in flight)."""

from __future__ import annotations

import json
import re
import subprocess

import kubernetes_validate
import pytest

from components.observability import metrics as m
from components.observability.dashboards import dashboards, expressions
from tests.support.fixtures import AWS_STACKS, P, preview, recorded
from tests.support.prometheus import alert_rule, config, groups, tool, write_rules
from tests.support.recordings import by_name, one

CONFIGMAP = "kubernetes:core/v1:ConfigMap"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
RELEASE = "kubernetes:helm.sh/v3:Release"
ADAPTER = "observability-prometheus-adapter"


def boards(stack: str):
    return dashboards(config(stack))


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_dashboard_query_parses_in_promtool(stack, tmp_path):
    exprs = [e for board in boards(stack).values() for e in expressions(board)]
    assert len(exprs) > 5
    rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
    path = write_rules(tmp_path / "queries.yaml", [{"name": "dashboards", "rules": rules}])
    done = subprocess.run([tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prod_dashboards_are_configmaps_the_grafana_sidecar_loads():
    maps = {n: r for n, r in by_name(recorded("live"), CONFIGMAP).items() if n.startswith("observability-")}
    assert set(maps) == {f"observability-ai-platform-{k}-dashboard" for k in ("gpu", "spend", "slo", "quality")}
    for cm in maps.values():
        assert cm.inputs["metadata"]["namespace"] == "monitoring"
        assert cm.inputs["metadata"]["labels"]["grafana_dashboard"] == "1"
        (body,) = cm.inputs["data"].values()
        board = json.loads(body)
        assert board["uid"].startswith("ai-platform-") and board["panels"]


def _recorded(stack: str, record: str, **labels: str) -> str:
    """The expression of the one recording rule ``record`` with ``labels``."""
    (rule,) = [r for g in groups(stack) for r in g["rules"] if r.get("record") == record
               and all(r["labels"].get(k) == v for k, v in labels.items())]
    return rule["expr"]


def test_dashboards_draw_the_same_numbers_the_alerts_fire_on():
    # The config's numbers are series recorded beside the alerts; the dashboards read those series.
    assert _recorded("live", m.RECORD_PROJECT_BUDGET, namespace="project-nova") == "vector(9000)"
    assert _recorded("live", m.RECORD_PROJECT_BUDGET, namespace="project-atlas") == "vector(16000)"
    assert "> 9000" in alert_rule(groups("live"), "SpendProjectedOverBudget", project="project-nova")["expr"]
    # prod's evaluation-gate thresholds, per service of each risk tier, and the same number in the alert.
    accuracy = {"service": "claims-triage-assistant", "metric": "accuracy", "bound": "min"}
    assert _recorded("live", m.RECORD_EVALUATION_THRESHOLD, **accuracy) == "vector(0.92)"
    rule = alert_rule(groups("live"), "ModelQualityBelowMinimum", service="claims-triage-assistant", metric="accuracy")
    assert rule["expr"].endswith("< 0.92") and rule["labels"]["risk_tier"] == "high"
    assert _recorded("live", m.RECORD_POOL_GPU_PRICE, node_pool="gpu-a10g") == "vector(884.76)"  # g5.2xlarge, as in GpuPoolIdle
    assert alert_rule(groups("live"), "GpuPoolIdle", node_pool="gpu-a10g")["expr"].endswith("* 884.76")
    prod = boards("live")
    for board, record in (("spend", m.RECORD_PROJECT_BUDGET), ("quality", m.RECORD_EVALUATION_THRESHOLD),
                          ("quality", m.RECORD_DRIFT_LIMIT), ("gpu", m.RECORD_POOL_GPU_PRICE),
                          ("slo", m.RECORD_SLO_BUDGET)):
        assert any(record in e for e in expressions(prod[f"ai-platform-{board}-dashboard"])), (board, record)


def test_per_subject_panels_repeat_over_template_variables():
    prod = boards("live")
    for name, variable in (("slo", "service"), ("quality", "metric"), ("spend", "project")):
        board = prod[f"ai-platform-{name}-dashboard"]
        names = [v["name"] for v in board["templating"]["list"]]
        assert variable in names and board["schemaVersion"] == 39
        repeated = [p for p in board["panels"] if p.get("repeat") == variable]
        assert repeated and all(f"${variable}" in json.dumps(p["targets"]) for p in repeated)
        # Every variable a query uses is defined on the dashboard.
        used = {w for e in expressions(board) for w in re.findall(r"\$(\w+)", e)}
        assert used <= set(names), used - set(names)
    quality = prod["ai-platform-quality-dashboard"]
    assert {"project", "risk_tier", "service", "metric"} <= {v["name"] for v in quality["templating"]["list"]}


def test_prod_installs_a_pinned_prometheus_adapter_serving_in_flight_requests():
    adapter = by_name(recorded("live"), RELEASE)[ADAPTER]
    assert (adapter.inputs["chart"], adapter.inputs["version"]) == ("prometheus-adapter", "5.3.0")
    values = adapter.inputs["values"]
    assert values["prometheus"] == {"url": "http://kps-prometheus.monitoring.svc", "port": 9090}
    names = [r["name"]["as"] for r in values["rules"]["custom"]]
    assert names == ["gpu_utilization", "vllm_num_requests_running"] and values["rules"]["default"] is False
    kps = by_name(recorded("live"), RELEASE)["observability-kube-prometheus-stack"]
    assert kps.urn in adapter.options["dependsOn"]


def test_the_hpa_scales_on_the_chosen_signal_and_cpu_stays_the_default():
    prod = recorded("live")
    multimodal = one(prod, HPA, "multimodal-inference-service").inputs["spec"]["metrics"]
    assert multimodal == [{"type": "Pods", "pods": {"metric": {"name": "vllm_num_requests_running"},
                                                     "target": {"type": "AverageValue", "averageValue": "8"}}}]
    claims = one(prod, HPA, "claims-triage-assistant").inputs["spec"]["metrics"]
    assert claims[0]["type"] == "Resource" and claims[0]["resource"]["name"] == "cpu"
    on_gpu = preview("sandbox", lambda c: c[P + "services"][0].update(autoscaling={"signal": "gpuUtilization"}))
    hpa = one(on_gpu, HPA, "multimodal-inference-service").inputs
    assert hpa["spec"]["metrics"][0]["pods"] == {"metric": {"name": "gpu_utilization"},
                                                 "target": {"type": "AverageValue", "averageValue": "70"}}
    kubernetes_validate.validate(hpa, "1.35", strict=True)
    assert ADAPTER in by_name(on_gpu, RELEASE)
    assert ADAPTER not in by_name(recorded("sandbox"), RELEASE)  # nobody in dev scales on anything but cpu
