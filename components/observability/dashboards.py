"""Grafana dashboards as code: pure builders of the dashboard JSON the Grafana sidecar loads from ConfigMaps.

Four dashboards, their queries built from the metric names in ``metrics.py``. The stack config's numbers
(GPU prices, budgets, error budgets, evaluation thresholds) reach them as the constant series the
generated rules record beside each alert, so a dashboard line and an alert mean the same number, and
a dashboard is a fixed set of panels over Grafana template variables (project, service, pool, metric,
risk tier), repeated by Grafana per selected value: its size does not grow with the stack.

- GPU utilisation and idle cost by project and pool;
- spend against budget by project (OpenCost);
- SLOs and error budgets per service;
- model quality against its thresholds.
"""

from __future__ import annotations

import json
from typing import Any

from ai_platform_finops import rates

from . import metrics as m
from .view import MonitoredStack

DASHBOARD_LABEL_VALUE = "1"
"""The value the chart's sidecar matches (``grafana.sidecar.dashboards.labelValue``, default "1")."""
UID_PREFIX = "ai-platform-"


DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
THRESHOLD_LINES = {"matcher": {"id": "byRegexp", "options": r"^(budget|.* (min|max|limit) \(.*)$"},
                   "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                                  {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}
"""The constant series (budgets, thresholds, limits) are drawn as dashed red lines."""


def _panel(index: int, title: str, targets: list[tuple[str, str]], unit: str = "short",
           thresholds: list[tuple[str, float | None]] | None = None, kind: str = "timeseries",
           repeat: str | None = None) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for color, value in (thresholds or [("green", None)])]
    panel: dict[str, Any] = {
        "id": index + 1, "type": kind, "title": title,
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "datasource": DATASOURCE,
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": [THRESHOLD_LINES]},
    }
    if repeat is not None:
        panel.update(repeat=repeat, repeatDirection="h", maxPerRow=2)
    return panel


def _variable(name: str, metric: str, label: str, label_name: str | None = None) -> dict[str, Any]:
    """A multi-value query variable over a label's values. ``All`` is the regex ``.*``, not the
    alternation of every value, so a query stays short however many services there are."""
    query = f"label_values({metric}, {label})"
    return {"name": name, "label": label_name or name, "type": "query", "datasource": DATASOURCE,
            "definition": query, "query": query, "refresh": 2, "sort": 1, "multi": True, "includeAll": True,
            "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


def _dashboard(slug: str, title: str, panels: list[dict[str, Any]],
               variables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"uid": f"{UID_PREFIX}{slug}", "title": title, "tags": ["ai-platform"], "schemaVersion": 39,
            "time": {"from": "now-24h", "to": "now"}, "refresh": "1m", "editable": False,
            "templating": {"list": variables or []}, "panels": panels}


def gpu_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    idle = cfg.observability.idle_gpu
    any_pool = (f'label_replace({m.KSM_NODE_LABELS}{{{m.POOL_NODE_LABEL}!=""}}, "{m.GPU_NODE}", "$1", "node", "(.*)")')
    idle_by_pool = (f'count by (node_pool) (label_replace(max_over_time({m.GPU_UTIL}[{idle.window}]) * on({m.GPU_NODE}) '
                    f'group_left({m.POOL_NODE_LABEL}) {any_pool} < {idle.utilization_percent:g}, "node_pool", "$1", '
                    f'"{m.POOL_NODE_LABEL}", "(.*)"))')
    price = f'{m.RECORD_POOL_GPU_PRICE}{{node_pool=~"$node_pool"}}'
    panels = [_panel(0, "GPU utilisation by pool", [(f'{m.RECORD_GPU_UTIL_POOL}{{node_pool=~"$node_pool"}}', "{{node_pool}}")],
                     "percent", [("red", None), ("green", idle.utilization_percent)]),
              _panel(1, "GPU utilisation by project",
                     [(f"avg by ({m.GPU_POD_NAMESPACE}) ({m.GPU_UTIL}{{{m.GPU_POD_NAMESPACE}!=\"\"}})",
                       f"{{{{{m.GPU_POD_NAMESPACE}}}}}")], "percent"),
              # The GpuPoolIdle number of every pool at once: idle GPUs x the pool's GPU-month price.
              _panel(2, "Idle GPU cost by pool (USD a month, the GpuPoolIdle price)",
                     [(f"{idle_by_pool} * on(node_pool) group_left() {price}", "{{node_pool}}")], "currencyUSD",
                     kind="stat")]
    return _dashboard("gpu", "AI platform: GPU utilisation and idle cost", panels,
                      [_variable("node_pool", m.RECORD_POOL_GPU_PRICE, "node_pool", "pool")])


def spend_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    series = f'{m.RECORD_PROJECT_COST}{{namespace=~"$project"}}'
    panels = [_panel(0, "Cost rate by project (USD an hour, OpenCost)", [(series, "{{namespace}}")], "currencyUSD"),
              _panel(1, "$project: monthly run rate against its budget",
                     [(f"{series} * {rates.HOURS_PER_MONTH}", "run rate"),
                      (f"predict_linear({series}[1d], 7 * 86400) * {rates.HOURS_PER_MONTH}", "trend in 7 days"),
                      (f'{m.RECORD_PROJECT_BUDGET}{{namespace=~"$project"}}', "budget")], "currencyUSD",
                     repeat="project")]
    return _dashboard("spend", "AI platform: spend against budget", panels,
                      [_variable("project", m.RECORD_PROJECT_BUDGET, "namespace")])


def slo_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    used = {objective for s in cfg.services if s.slo is not None for objective, on in
            (("availability", s.slo.availability_percent is not None), ("latency", s.slo.latency is not None)) if on}
    panels: list[dict[str, Any]] = []
    for objective in (o for o in ("availability", "latency") if o in used):
        matcher = f'{{project=~"$project", service=~"$service", slo="{objective}"}}'
        budget = f"{m.RECORD_SLO_BUDGET}{matcher}"
        panels.append(_panel(len(panels), f"$service: {objective} error budget burn rate",
                             [(f"{m.RECORD_ERROR_RATIO.format(window=w)}{matcher} / on(project, service, slo) {budget}", w)
                              for w in ("1h", "6h", "1d", "3d")], "short",
                             [("green", None), ("orange", 1), ("red", 14.4)], repeat="service"))
    return _dashboard("slo", "AI platform: SLOs and error budgets", panels, [
        _variable("project", m.RECORD_SLO_BUDGET, "project"),
        _variable("service", f'{m.RECORD_SLO_BUDGET}{{project=~"$project"}}', "service")])


def quality_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    """One panel per evaluation metric (repeated), drawing each selected service's value and its tier's bounds."""
    facts = '{project=~"$project", risk_tier=~"$risk_tier", service=~"$service"'
    online = f'{{{m.NAMESPACE}=~"$project", {m.SERVICE}=~"$service"'
    panels = [
        _panel(0, "$metric against the evaluation-gate thresholds of each service's risk tier",
               [(f'{m.EVALUATION_METRIC}{online}, {m.EVALUATION_METRIC_LABEL}=~"$metric"}}', "{{service}}"),
                (f'{m.RECORD_EVALUATION_THRESHOLD}{facts}, metric=~"$metric"}}', "{{service}} {{bound}} ({{risk_tier}} risk)")],
               repeat="metric"),
        _panel(1, "Drift score against the tier's limit",
               [(f"{m.DRIFT_SCORE}{online}}}", "{{service}}"),
                (f"{m.RECORD_DRIFT_LIMIT}{facts}}}", "{{service}} limit ({{risk_tier}} risk)")]),
    ]
    return _dashboard("quality", "AI platform: model quality against thresholds", panels, [
        _variable("project", m.RECORD_EVALUATION_THRESHOLD, "project"),
        _variable("risk_tier", m.RECORD_EVALUATION_THRESHOLD, "risk_tier", "risk tier"),
        _variable("service", f'{m.RECORD_EVALUATION_THRESHOLD}{{project=~"$project", risk_tier=~"$risk_tier"}}', "service"),
        _variable("metric", f'{m.RECORD_EVALUATION_THRESHOLD}{{service=~"$service"}}', "metric")])


def dashboards(cfg: MonitoredStack) -> dict[str, dict[str, Any]]:
    """ConfigMap name -> dashboard JSON."""
    return {f"{UID_PREFIX}{d['uid'].removeprefix(UID_PREFIX)}-dashboard": d for d in (
        gpu_dashboard(cfg), spend_dashboard(cfg), slo_dashboard(cfg), quality_dashboard(cfg))}


def configmap_data(dashboard: dict[str, Any]) -> dict[str, str]:
    return {f"{dashboard['uid']}.json": json.dumps(dashboard, indent=1, sort_keys=True)}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
