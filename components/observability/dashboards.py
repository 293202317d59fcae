"""Grafana dashboards as code: pure builders of the dashboard JSON the Grafana sidecar loads from ConfigMaps.

Four dashboards, their queries built from the metric names in ``metrics.py`` and the thresholds from the
stack config (budgets, evaluation thresholds), so a dashboard line and an alert mean the same number:

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
from .rules import pool_price
from .thresholds import Thresholds, tier_thresholds
from .view import MonitoredStack

DASHBOARD_LABEL_VALUE = "1"
"""The value the chart's sidecar matches (``grafana.sidecar.dashboards.labelValue``, default "1")."""
UID_PREFIX = "ai-platform-"


def _panel(index: int, title: str, targets: list[tuple[str, str]], unit: str = "short",
           thresholds: list[tuple[str, float | None]] | None = None, kind: str = "timeseries") -> dict[str, Any]:
    steps = [{"color": color, "value": value} for color, value in (thresholds or [("green", None)])]
    return {
        "id": index + 1, "type": kind, "title": title,
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
    }


def _dashboard(slug: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uid": f"{UID_PREFIX}{slug}", "title": title, "tags": ["ai-platform"], "schemaVersion": 39,
            "time": {"from": "now-24h", "to": "now"}, "refresh": "1m", "editable": False, "panels": panels}


def gpu_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    idle = cfg.observability.idle_gpu
    panels = [_panel(0, "GPU utilisation by pool", [(m.RECORD_GPU_UTIL_POOL, "{{node_pool}}")], "percent",
                     [("red", None), ("green", idle.utilization_percent)]),
              _panel(1, "GPU utilisation by project",
                     [(f"avg by ({m.GPU_POD_NAMESPACE}) ({m.GPU_UTIL}{{{m.GPU_POD_NAMESPACE}!=\"\"}})",
                       f"{{{{{m.GPU_POD_NAMESPACE}}}}}")], "percent")]
    region = cfg.region or rates.RATES_REGION
    for i, pool in enumerate(cfg.gpu_pools):
        price = pool_price(pool, region, cfg.finops.spot_price_fraction)
        idle_gpus = (f'count(max_over_time({m.GPU_UTIL}[{idle.window}]) * on({m.GPU_NODE}) group_left() '
                     f'label_replace({m.KSM_NODE_LABELS}{{{m.POOL_NODE_LABEL}="{pool.name}"}}, "{m.GPU_NODE}", "$1", '
                     f'"node", "(.*)") < {idle.utilization_percent:g})')
        panels.append(_panel(2 + i, f"Idle GPU cost, pool {pool.name} (USD a month at {price.usd_per_gpu_month:g}/GPU)",
                             [(f"{idle_gpus} * {price.usd_per_gpu_month:g}", pool.name)], "currencyUSD",
                             kind="stat"))
    return _dashboard("gpu", "AI platform: GPU utilisation and idle cost", panels)


def spend_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    limits = cfg.budgets.monthly_limits_usd if cfg.budgets is not None else {}
    panels = [_panel(0, "Cost rate by project (USD an hour, OpenCost)", [(m.RECORD_PROJECT_COST, "{{namespace}}")],
                     "currencyUSD")]
    for i, project in enumerate(p for p in cfg.projects if p.name in limits):
        budget = limits[project.name]
        series = f'{m.RECORD_PROJECT_COST}{{namespace="{project.name}"}}'
        panels.append(_panel(1 + i, f"{project.name}: monthly run rate against its budget ({budget:g} USD)",
                             [(f"{series} * {rates.HOURS_PER_MONTH}", "run rate"),
                              (f"predict_linear({series}[1d], 7 * 86400) * {rates.HOURS_PER_MONTH}", "trend in 7 days"),
                              (f"vector({budget:g})", "budget")], "currencyUSD",
                             [("green", None), ("red", budget)]))
    return _dashboard("spend", "AI platform: spend against budget", panels)


def slo_dashboard(cfg: MonitoredStack) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    for svc in (s for s in cfg.services if s.slo is not None):
        slo = svc.slo
        assert slo is not None
        objectives = ([("availability", slo.availability_percent)] if slo.availability_percent is not None else []) + \
                     ([("latency", slo.latency.percent)] if slo.latency is not None else [])
        for objective, percent in objectives:
            budget = 1 - percent / 100
            matcher = f'{{project="{svc.project}", service="{svc.name}", slo="{objective}"}}'
            panels.append(_panel(len(panels), f"{svc.name}: {objective} error budget burn rate",
                                 [(f"{m.RECORD_ERROR_RATIO.format(window=w)}{matcher} / {budget:g}", w)
                                  for w in ("1h", "6h", "1d", "3d")], "short",
                                 [("green", None), ("orange", 1), ("red", 14.4)]))
    return _dashboard("slo", "AI platform: SLOs and error budgets", panels)


def quality_dashboard(cfg: MonitoredStack, thresholds: Thresholds) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    for svc in cfg.services:
        sel = {m.NAMESPACE: svc.project, m.SERVICE: svc.name}
        for metric, bounds in sorted(tier_thresholds(thresholds, svc.model.risk_tier.value).items()):
            targets = [(m.selector(m.EVALUATION_METRIC, {**sel, m.EVALUATION_METRIC_LABEL: metric}), metric)]
            targets += [(f"vector({value:g})", f"{bound} {value:g}") for bound, value in sorted(bounds.items())]
            steps: list[tuple[str, float | None]] = (
                [("red", None), ("green", bounds["min"])] if "min" in bounds else [("green", None), ("red", bounds["max"])])
            panels.append(_panel(len(panels), f"{svc.name}: {metric}", targets, "short", steps))
        panels.append(_panel(len(panels), f"{svc.name}: drift score", [(m.selector(m.DRIFT_SCORE, sel), "drift")]))
    return _dashboard("quality", "AI platform: model quality against thresholds", panels)


def dashboards(cfg: MonitoredStack, thresholds: Thresholds) -> dict[str, dict[str, Any]]:
    """ConfigMap name -> dashboard JSON."""
    return {f"{UID_PREFIX}{d['uid'].removeprefix(UID_PREFIX)}-dashboard": d for d in (
        gpu_dashboard(cfg), spend_dashboard(cfg), slo_dashboard(cfg), quality_dashboard(cfg, thresholds))}


def configmap_data(dashboard: dict[str, Any]) -> dict[str, str]:
    return {f"{dashboard['uid']}.json": json.dumps(dashboard, indent=1, sort_keys=True)}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
