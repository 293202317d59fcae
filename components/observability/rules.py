"""Prometheus alerting and recording rules generated from the stack config: pure, no Pulumi.

``rule_sets(cfg, thresholds)`` returns the ``spec.groups`` of each generated PrometheusRule: one for the
cluster, one per GPU pool, per project with a budget and per service, so no object grows with the
stack. Every alert carries ``severity`` (critical/warning), ``scope`` (cluster, pool, project or service: what
Alertmanager's inhibitions key on) and, where it has one, ``project``, ``service``, ``owner`` and
``node_pool``. docs/observability.md says what each alert means and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from ai_platform_finops import catalog, rates
from ai_platform_finops.observability import DRIFT, QUALITY_MAX, QUALITY_MIN, SLO_FAST, SLO_SLOW
from components.config.node_pools import CapacityType, NodePoolConfig
from components.config.projects import ProjectConfig
from components.config.services import InferenceServiceConfig
from .view import MonitoredStack

from . import metrics as m
from .thresholds import Thresholds, tier_thresholds

Rule = dict[str, Any]
Group = dict[str, Any]

CRITICAL, WARNING = "critical", "warning"
SCOPE_CLUSTER, SCOPE_POOL, SCOPE_PROJECT, SCOPE_SERVICE = "cluster", "pool", "project", "service"

BURN_RATES: tuple[tuple[str, str, float, str, str], ...] = (
    # (long window, short window, burn rate, severity, for): the SRE workbook's table 5-8
    # (2% of a 30-day budget in 1 h, 5% in 6 h, 10% in 3 d), short windows 1/12 of the long.
    ("1h", "5m", 14.4, CRITICAL, "2m"),
    ("6h", "30m", 6.0, CRITICAL, "15m"),
    ("1d", "2h", 3.0, WARNING, "1h"),
    ("3d", "6h", 1.0, WARNING, "3h"),
)
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

PENDING_GPU_FOR = "15m"
DEVICE_PLUGIN_FOR = "10m"
QUALITY_FOR = "30m"
SPEND_LOOKBACK = "1d"


@dataclass(frozen=True)
class PoolPrice:
    usd_per_gpu_month: float
    basis: str


def pool_price(pool: NodePoolConfig, region: str, spot_fraction: float) -> PoolPrice:
    """A GPU-month of the pool's first instance type, as the estimate prices its nodes (spot at the same fraction)."""
    instance_type = pool.instance_types[0]
    table = catalog.price_table(region) or catalog.price_table(rates.RATES_REGION)
    hourly = table.price(instance_type) if table is not None else None
    gpus = max(pool.gpus_per_instance, 1)
    if hourly is None or table is None:
        return PoolPrice(0.0, f"{instance_type} is not in the price snapshot")
    spot = pool.capacity_type == CapacityType.SPOT
    rate = hourly * (spot_fraction if spot else 1.0)
    basis = (f"{instance_type} {hourly:g} $/h on-demand{f' x {spot_fraction:g} spot' if spot else ''} / {gpus} GPU(s) "
             f"x {rates.HOURS_PER_MONTH} h; {table.region} price snapshot of {table.date}")
    return PoolPrice(round(rate / gpus * rates.HOURS_PER_MONTH, 2), basis)


def _seconds(duration: str) -> int:
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[duration[-1]]
    return int(duration[:-1]) * unit


def _quote_regex(value: str) -> str:
    return re.sub(r"([.\\+*?\[^\]$(){}=!<>|:-])", r"\\\\\1", value)


def service_labels(cfg: MonitoredStack, svc: InferenceServiceConfig) -> dict[str, str]:
    return {"project": svc.project, "service": svc.name, "owner": svc.model.owner, "node_pool": svc.node_pool,
            "scope": SCOPE_SERVICE}


def _alert(name: str, expr: str, for_: str, severity: str, labels: dict[str, str], summary: str,
           description: str, action: str) -> Rule:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {**labels, "severity": severity},
        "annotations": {"summary": summary, "description": description, "action": action,
                        "runbook_url": f"docs/observability.md#{name.lower()}"},
    }


# --- idle GPUs ------------------------------------------------------------------------------------

def _pool_of_node(matcher: str) -> str:
    return f'label_replace({m.KSM_NODE_LABELS}{{{m.POOL_NODE_LABEL}{matcher}}}, "{m.GPU_NODE}", "$1", "node", "(.*)")'


def gpu_utilization_record() -> Rule:
    any_pool = _pool_of_node('!=""')
    return {
        "record": m.RECORD_GPU_UTIL_POOL,
        "expr": (f'avg by (node_pool) (label_replace({m.GPU_UTIL} * on({m.GPU_NODE}) group_left({m.POOL_NODE_LABEL}) '
                 f'{any_pool}, "node_pool", "$1", "{m.POOL_NODE_LABEL}", "(.*)"))'),
    }


def pool_idle_rules(cfg: MonitoredStack, pool: NodePoolConfig) -> list[Rule]:
    """The pool's GPU-month price as a series (dashboards), and GpuPoolIdle."""
    obs = cfg.observability.idle_gpu
    threshold, window = obs.utilization_percent, obs.window
    price = pool_price(pool, cfg.region or rates.RATES_REGION, cfg.finops.spot_price_fraction)
    this_pool = _pool_of_node(f'="{pool.name}"')
    idle = f"max_over_time({m.GPU_UTIL}[{window}]) * on({m.GPU_NODE}) group_left() {this_pool} < {threshold:g}"
    labels = {"node_pool": pool.name, "project": pool.project or cfg.finops.project, "scope": SCOPE_POOL}
    return [
        {"record": m.RECORD_POOL_GPU_PRICE, "expr": f"vector({price.usd_per_gpu_month:g})",
         "labels": {"node_pool": pool.name}},
        _alert(
            "GpuPoolIdle", f"count({idle}) * {price.usd_per_gpu_month:g}", "0m", WARNING, labels,
            f"Idle GPUs in pool {pool.name}: about ${{{{ $value | printf \"%.0f\" }}}} a month",
            f"GPUs in pool {pool.name} stayed under {threshold:g}% utilisation for {window}; at "
            f"{price.usd_per_gpu_month:g} USD per GPU-month ({price.basis}) they cost about "
            f"{{{{ $value | printf \"%.0f\" }}}} USD a month.",
            "Lower the pool's minSize or the services' replicas.min, enable offPeak, or move the work to a smaller GPU."),
    ]


def service_idle_rules(cfg: MonitoredStack, svc: InferenceServiceConfig) -> list[Rule]:
    pool = cfg.pool(svc.node_pool)
    if pool is None or svc.resources.gpus == 0:
        return []
    obs = cfg.observability.idle_gpu
    threshold, window = obs.utilization_percent, obs.window
    price = pool_price(pool, cfg.region or rates.RATES_REGION, cfg.finops.spot_price_fraction)
    idle = (f'max_over_time({m.GPU_UTIL}{{{m.GPU_POD_NAMESPACE}="{svc.project}", '
            f'{m.GPU_POD}=~"{_quote_regex(svc.name)}-[a-z0-9]+-[a-z0-9]+"}}[{window}]) < {threshold:g}')
    return [_alert(
        "ServiceGpusIdle", f"count({idle}) * {price.usd_per_gpu_month:g}", "0m", WARNING,
        service_labels(cfg, svc),
        f"Service {svc.name} holds idle GPUs: about ${{{{ $value | printf \"%.0f\" }}}} a month",
        f"GPUs held by {svc.project}/{svc.name} stayed under {threshold:g}% utilisation for {window}; at "
        f"{price.usd_per_gpu_month:g} USD per GPU-month ({price.basis}) they cost about "
        f"{{{{ $value | printf \"%.0f\" }}}} USD a month.",
        "Lower replicas.min, autoscale on gpuUtilization or inFlight, or share the GPU (time-slicing, MIG).")]


# --- SLOs: multi-window, multi-burn-rate --------------------------------------------------------

def _error_ratio(svc: InferenceServiceConfig, objective: str, window: str) -> str:
    names = m.server_metrics(svc.metrics)
    sel = {m.NAMESPACE: svc.project, m.SERVICE: svc.name}
    if objective == "availability":
        return (f"sum(rate({m.selector(names.errors_total, sel)}[{window}])) / "
                f"sum(rate({m.selector(names.requests_total, sel)}[{window}]))").replace(
            f"rate({m.selector(names.requests_total, sel)}[{window}])",
            " + ".join(f"rate({part}[{window}])" for part in m.selector(names.requests_total, sel).split(" + ")))
    assert svc.slo is not None and svc.slo.latency is not None and names.latency_bucket
    bucket = names.latency_bucket
    # Python clients write bucket bounds as "10.0", Go and Rust ones as "10": match both.
    le = re.escape(f"{svc.slo.latency.threshold_seconds:g}").replace("\\", "\\\\") + "(\\\\.0+)?"
    count = bucket.removesuffix("_bucket") + "_count"
    good = f'{m.selector(bucket, sel)[:-1]}, le=~"{le}"}}'
    return (f"1 - (sum(rate({good}[{window}])) / "
            f"sum(rate({m.selector(count, sel)}[{window}])))")


def service_slo_rules(cfg: MonitoredStack, svc: InferenceServiceConfig) -> list[Rule]:
    """Per objective: the error ratio over every window, the error budget as a series (dashboards), the burn alerts."""
    rules: list[Rule] = []
    slo = svc.slo
    if slo is None:
        return rules
    objectives: list[tuple[str, float]] = []
    if slo.availability_percent is not None:
        objectives.append(("availability", slo.availability_percent))
    if slo.latency is not None:
        objectives.append(("latency", slo.latency.percent))
    labels = service_labels(cfg, svc)
    for objective, percent in objectives:
        budget = round(1 - percent / 100, 6)
        record_labels = {"project": svc.project, "service": svc.name, "slo": objective}
        for window in SLO_WINDOWS:
            rules.append({"record": m.RECORD_ERROR_RATIO.format(window=window),
                          "expr": _error_ratio(svc, objective, window), "labels": record_labels})
        rules.append({"record": m.RECORD_SLO_BUDGET, "expr": f"vector({budget:g})", "labels": record_labels})
        matcher = f'{{project="{svc.project}", service="{svc.name}", slo="{objective}"}}'
        what = (f"{percent:g}% of requests succeed" if objective == "availability" else
                f"{percent:g}% of requests within {svc.slo.latency.threshold_seconds:g} s"  # type: ignore[union-attr]
                )
        for long, short, rate, severity, for_ in BURN_RATES:
            limit = round(rate * budget, 8)
            expr = (f"{m.RECORD_ERROR_RATIO.format(window=long)}{matcher} > {limit:g} and "
                    f"{m.RECORD_ERROR_RATIO.format(window=short)}{matcher} > {limit:g}")
            fast = severity == CRITICAL
            rules.append(_alert(
                SLO_FAST if fast else SLO_SLOW, expr, for_, severity,
                {**labels, "slo": objective, "window": long},
                f"{svc.name}: {objective} error budget burning {rate:g}x over {long}",
                f"Objective: {what} over {slo.window}. The error ratio over {long} and {short} is above "
                f"{rate:g} x the budget ({budget:g}): at this pace the {slo.window} budget is gone in "
                f"{_seconds(slo.window) / rate / 86400:.1f} days.",
                "Page the owner: check recent rollouts (roll back), GPU capacity (pending pods) and the model "
                "server's logs." if fast else
                "Open a ticket: find the slow leak (errors from one client, a degraded node, a noisy neighbour)."))
    return rules


# --- model quality, drift, fairness -------------------------------------------------------------

def service_quality_rules(cfg: MonitoredStack, svc: InferenceServiceConfig, thresholds: Thresholds) -> list[Rule]:
    """The tier's evaluation thresholds and drift limit as series (dashboards), and the alerts on them."""
    rules: list[Rule] = []
    drift_limits = cfg.observability.drift_limits
    tier = svc.model.risk_tier.value
    labels = service_labels(cfg, svc)
    facts = {"project": svc.project, "service": svc.name, "risk_tier": tier}
    sel = {m.NAMESPACE: svc.project, m.SERVICE: svc.name}
    for metric, bounds in sorted(tier_thresholds(thresholds, tier).items()):
        series = m.selector(m.EVALUATION_METRIC, {**sel, m.EVALUATION_METRIC_LABEL: metric})
        for bound, op, word in (("min", "<", "below its minimum"), ("max", ">", "above its maximum")):
            if bound not in bounds:
                continue
            value = bounds[bound]
            rules.append({"record": m.RECORD_EVALUATION_THRESHOLD, "expr": f"vector({value:g})",
                          "labels": {**facts, "metric": metric, "bound": bound}})
            name = QUALITY_MIN if bound == "min" else QUALITY_MAX
            rules.append(_alert(
                name, f"{series} {op} {value:g}", QUALITY_FOR, CRITICAL if tier == "high" else WARNING,
                {**labels, "metric": metric, "risk_tier": tier},
                f"{svc.name}: {metric} {{{{ $value }}}} is {word} {value:g}",
                f"The online {metric} of {svc.project}/{svc.name} ({tier} risk) has been {op} {value:g} for "
                f"{QUALITY_FOR}: the same evaluation-gate threshold that gates its deploy.",
                "Re-evaluate the model on recent traffic; roll back to the last version that met the threshold; "
                "escalate to the model's owner for human review."))
    limit = drift_limits.get(tier, drift_limits.get("high"))
    if limit is not None:
        rules.append({"record": m.RECORD_DRIFT_LIMIT, "expr": f"vector({limit:g})", "labels": facts})
        rules.append(_alert(
            DRIFT, f"{m.selector(m.DRIFT_SCORE, sel)} > {limit:g}", QUALITY_FOR, WARNING,
            {**labels, "risk_tier": tier},
            f"{svc.name}: drift score {{{{ $value }}}} above {limit:g}",
            f"The input/output drift score of {svc.project}/{svc.name} has been above the {tier} tier's limit "
            f"{limit:g} (observability.driftLimits) for {QUALITY_FOR}.",
            "Compare recent inputs with the evaluation set; re-evaluate, and retrain if the drift is real."))
    return rules


# --- spend -------------------------------------------------------------------------------------

def project_cost_record() -> Rule:
    # One term per resource, told apart by a `resource` label and joined with `or`: `+` would keep only
    # the containers present in every term, dropping every namespace without a GPU.
    terms = [("cpu", f"{m.OPENCOST_CPU_ALLOC} * on(node) group_left() {m.OPENCOST_CPU_HOURLY}"),
             ("ram", f"{m.OPENCOST_MEM_ALLOC} / 1073741824 * on(node) group_left() {m.OPENCOST_RAM_HOURLY}"),
             ("gpu", f"{m.OPENCOST_GPU_ALLOC} * on(node) group_left() {m.OPENCOST_GPU_HOURLY}")]
    cost = "sum by (namespace) (" + " or ".join(
        f'label_replace({expr}, "resource", "{name}", "", "")' for name, expr in terms) + ")"
    return {"record": m.RECORD_PROJECT_COST, "expr": cost}


def project_spend_rules(cfg: MonitoredStack, project: ProjectConfig, budget: float) -> list[Rule]:
    """The project's budget as a series (dashboards), and SpendProjectedOverBudget."""
    horizon = cfg.observability.spend_horizon
    series = f'{m.RECORD_PROJECT_COST}{{namespace="{project.name}"}}'
    projected = f"predict_linear({series}[{SPEND_LOOKBACK}], {_seconds(horizon)}) * {rates.HOURS_PER_MONTH}"
    return [
        {"record": m.RECORD_PROJECT_BUDGET, "expr": f"vector({budget:g})", "labels": {"namespace": project.name}},
        _alert(
            "SpendProjectedOverBudget", f"{projected} > {budget:g}", "1h", WARNING,
            {"project": project.name, "owner": project.owner or cfg.finops.owner, "scope": SCOPE_PROJECT},
            f"{project.name}: projected ${{{{ $value | printf \"%.0f\" }}}} a month, budget {budget:g}",
            f"The in-cluster cost rate of namespace {project.name} (OpenCost), trended {horizon} ahead from the "
            f"last {SPEND_LOOKBACK}, bills about {{{{ $value | printf \"%.0f\" }}}} USD in a {rates.HOURS_PER_MONTH} h "
            f"month, over its budget of {budget:g} USD (budgets.monthlyLimitsUsd).",
            "Look for replicas that did not scale down and idle GPUs (GpuPoolIdle); lower replicas.max or raise "
            "the budget deliberately. AWS Budgets still alerts on the bill itself."),
    ]


# --- platform health --------------------------------------------------------------------------

def pool_pending_rules(pool: NodePoolConfig, services: Sequence[InferenceServiceConfig]) -> list[Rule]:
    if not services:
        return []
    namespaces = "|".join(sorted({_quote_regex(s.project) for s in services}))
    pods = "|".join(sorted(_quote_regex(s.name) for s in services))
    return [_alert(
        "GpuPoolPodsPending",
        f'sum({m.KSM_POD_PHASE}{{phase="Pending", namespace=~"{namespaces}", pod=~"({pods})-[a-z0-9]+-[a-z0-9]+"}}) > 0',
        PENDING_GPU_FOR, CRITICAL, {"node_pool": pool.name, "scope": SCOPE_POOL},
        f"GPU pods pending in pool {pool.name} for {PENDING_GPU_FOR}",
        f"{{{{ $value }}}} pod(s) of services on pool {pool.name} ({', '.join(s.name for s in services)}) have "
        f"waited {PENDING_GPU_FOR} for a node: the pool cannot scale (max size, spot or GPU capacity, quota).",
        "Check the Cluster Autoscaler's events for the pool, its maxSize and the project's GPU quota; for spot, "
        "add instance types with the same GPU.")]


def cluster_health_rules(cfg: MonitoredStack) -> list[Rule]:
    rules: list[Rule] = []
    if cfg.gpu_pools:
        rules.append(_alert(
            "NvidiaDevicePluginDown", f'max({m.KSM_DAEMONSET_UNAVAILABLE}{{daemonset=~".*nvidia-device-plugin.*"}}) > 0',
            DEVICE_PLUGIN_FOR, CRITICAL, {"scope": SCOPE_CLUSTER},
            "NVIDIA device plugin unavailable on {{ $value }} node(s)",
            "Nodes without a running device plugin report no nvidia.com/gpu: GPU pods cannot schedule there.",
            "kubectl -n kube-system describe daemonset of the nvidia-device-plugin; check the node's driver and AMI."))
    rules.append(_alert(
        "ClusterAutoscalerErrors", f"sum(increase({m.AUTOSCALER_ERRORS}[15m])) > 0 or "
                                   f"min({m.AUTOSCALER_SAFE}) == 0",
        "15m", WARNING, {"scope": SCOPE_CLUSTER},
        "Cluster Autoscaler is erroring",
        "The Cluster Autoscaler reported errors in the last 15 minutes, or considers the cluster unsafe to autoscale.",
        "kubectl -n kube-system logs deploy/cluster-autoscaler; check its Pod Identity role and the node groups' tags."))
    return rules


# --- one rule set per subject ---------------------------------------------------------------------

GPU_IDLE, SLO, QUALITY, SPEND, PLATFORM = (
    "ai-platform.gpu-idle", "ai-platform.slo", "ai-platform.model-quality", "ai-platform.spend", "ai-platform.platform")


@dataclass(frozen=True)
class RuleSet:
    """The ``spec.groups`` of one PrometheusRule: the cluster's, or one pool's, project's or service's.

    One object per subject keeps every object's size independent of how many services the stack has
    (the Operator writes each PrometheusRule to its own rule file, and refuses a file over half a MiB).
    A group's name says what its rules are about; the same name recurs across objects, one file each.
    """

    scope: str
    """cluster, pool, project or service."""
    subject: str
    """The pool's, project's or service's name ("" for the cluster)."""
    groups: list[Group]


def _groups(*named: tuple[str, list[Rule]]) -> list[Group]:
    return [{"name": name, "rules": rules} for name, rules in named if rules]


def rule_sets(cfg: MonitoredStack, thresholds: Thresholds) -> list[RuleSet]:
    """Every generated PrometheusRule's groups, the cluster's first; sets without rules are left out."""
    by_pool: dict[str, list[InferenceServiceConfig]] = {}
    for svc in cfg.services:
        by_pool.setdefault(svc.node_pool, []).append(svc)
    sets = [RuleSet(SCOPE_CLUSTER, "", _groups(
        (GPU_IDLE, [gpu_utilization_record()]), (SPEND, [project_cost_record()]), (PLATFORM, cluster_health_rules(cfg))))]
    sets += [RuleSet(SCOPE_POOL, pool.name, _groups(
        (GPU_IDLE, pool_idle_rules(cfg, pool)), (PLATFORM, pool_pending_rules(pool, by_pool.get(pool.name, [])))))
        for pool in cfg.gpu_pools]
    limits = cfg.budgets.monthly_limits_usd if cfg.budgets is not None else {}
    sets += [RuleSet(SCOPE_PROJECT, project.name, _groups((SPEND, project_spend_rules(cfg, project, limits[project.name]))))
             for project in cfg.projects if project.name in limits]
    sets += [RuleSet(SCOPE_SERVICE, svc.name, _groups(
        (GPU_IDLE, service_idle_rules(cfg, svc)), (SLO, service_slo_rules(cfg, svc)),
        (QUALITY, service_quality_rules(cfg, svc, thresholds)))) for svc in cfg.services]
    return [s for s in sets if s.groups]


def rule_groups(cfg: MonitoredStack, thresholds: Thresholds) -> list[Group]:
    """Every rule set's groups in one list (group names recur: write them as one file per set)."""
    return [g for rule_set in rule_sets(cfg, thresholds) for g in rule_set.groups]


def alerts_for(groups: Sequence[Group], service: str) -> set[str]:
    """The alert names of ``groups`` labelled with ``service``."""
    return {r["alert"] for g in groups for r in g["rules"] if "alert" in r and r["labels"].get("service") == service}
