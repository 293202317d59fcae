"""Recommendations from measured GPU use and the stack config, inside the guardrails.

Guardrails (each enforced here, before any pricing):
- never below what the policy pack requires: min replicas of ``inference-availability`` and
  ``high-risk-safeguards`` in the environments where they apply (read from the stack's pack config,
  else the pack's defaults), no off-peak schedule on a pool serving such an environment's inference,
  instance types only from ``gpu-instance-allowlist`` when the pack config lists them;
- never governance or budgets: :mod:`.edits` can only touch pool capacity/schedule and
  ``replicas.min``;
- ``advisor: {ignore: true, reason}`` on a pool or service: nothing proposed, listed with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from ai_platform_finops.catalog import gpu_count, gpu_specs, price_table

from components.config import CapacityType, InferenceServiceConfig, NodePoolConfig, RiskTier, StackConfig

from . import queries, stats
from .edits import POOLS, SERVICES, Edit
from .prometheus import Metrics

IDLE_UTIL = 5.0
"""GPU utilisation (%) below which an hour counts as idle."""
IDLE_FRACTION = 0.9
"""A non-prod pool idle this share of the window (or more) is a scale-to-zero candidate."""
WARM_UP_HOURS = 1
"""A proposed schedule scales up this long before the first busy hour (node boot plus model load)."""
REPLICA_TARGET_UTIL = 60.0
"""GPU utilisation (%) per replica the minimum is sized for at the p95 load."""
FB_HEADROOM = 1.2
"""The smaller type's GPU memory must hold the p99 frame-buffer use with 20% to spare."""
LOAD_PERCENTILE = 95.0
FB_PERCENTILE = 99.0
DEFAULT_FLOOR = {"inference-availability": (["prod"], 2), "high-risk-safeguards": (["prod"], 2)}


@dataclass
class Recommendation:
    kind: str
    target: str
    title: str
    edits: list[Edit]
    evidence: list[dict[str, Any]]
    confidence: str
    risk: str
    monthly: dict[str, float] = field(default_factory=dict)
    patched: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "title": self.title,
                "changes": [e.as_dict() for e in self.edits], "evidence": self.evidence,
                "monthly_usd": self.monthly, "confidence": self.confidence, "risk": self.risk,
                "patched": self.patched}


@dataclass
class Findings:
    recommendations: list[Recommendation] = field(default_factory=list)
    not_judged: list[dict[str, str]] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)
    held: list[dict[str, str]] = field(default_factory=list)
    """Changes a guardrail stopped."""

    def skip(self, target: str, reason: str) -> None:
        self.not_judged.append({"target": target, "reason": reason})

    def hold(self, target: str, reason: str) -> None:
        self.held.append({"target": target, "reason": reason})


@dataclass(frozen=True)
class Policy:
    """What the stack's pack config requires, as far as the advisor's changes go."""

    environment: str
    floors: Mapping[str, tuple[list[str], int]]
    allowed_types: frozenset[str] | None

    @classmethod
    def from_pack_config(cls, config: Mapping[str, Any] | None, environment: str) -> "Policy":
        config = config or {}
        entry = config.get("all")
        env = entry.get("environment", environment) if isinstance(entry, Mapping) else environment
        floors: dict[str, tuple[list[str], int]] = {}
        for name, (envs, count) in DEFAULT_FLOOR.items():
            settings = config.get(name)
            settings = settings if isinstance(settings, Mapping) else {}
            key = "replicaEnvironments" if name == "high-risk-safeguards" else "environments"
            floors[name] = (list(settings.get(key, envs)), int(settings.get("minReplicas", count)))
        allow = config.get("gpu-instance-allowlist")
        types = allow.get("allowedInstanceTypes") if isinstance(allow, Mapping) else None
        return cls(str(env), floors, frozenset(types) if isinstance(types, list) else None)

    def replica_floor(self, service: InferenceServiceConfig) -> tuple[int, str]:
        floor, why = 1, "replicas.min is at least 1"
        envs, count = self.floors["inference-availability"]
        if self.environment in envs and count > floor:
            floor, why = count, f"inference-availability requires {count} in {self.environment}"
        envs, count = self.floors["high-risk-safeguards"]
        if service.model.risk_tier == RiskTier.HIGH and self.environment in envs and count > floor:
            floor, why = count, f"high-risk-safeguards requires {count} for a high-risk model in {self.environment}"
        return floor, why

    @property
    def availability_applies(self) -> bool:
        return self.environment in self.floors["inference-availability"][0]


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(query: queries.Query, metrics: Metrics, percentile: float | None, value: Any, statistic: str) -> dict[str, Any]:
    w = metrics.window
    return {"query": query.promql, "measures": query.meaning, "unit": query.unit,
            "window": {"start": _iso(w.start), "end": _iso(w.end), "step_seconds": w.step},
            "percentile": percentile, "statistic": statistic, "value": value}


def all_queries(cfg: StackConfig) -> list[str]:
    """Every query the advisor asks for this stack (what --save-metrics saves)."""
    out: list[str] = []
    for pool in cfg.node_pools:
        if pool.is_gpu:
            out += [q.promql for q in queries.pool_queries(pool.name)]
    for svc in cfg.services:
        if svc.resources.gpus > 0:
            out += [q.promql for q in queries.service_queries(svc.project, svc.name)]
    return out


def _by_key(qs: list[queries.Query]) -> dict[str, queries.Query]:
    return {q.key: q for q in qs}


def _hourly_price(instance_type: str, region: str) -> float | None:
    table = price_table(region) or price_table("us-east-1")
    return table.price(instance_type) if table else None


def _weekly_windows(samples: list[tuple[float, float]], metrics: Metrics, tz: str) -> list[stats.BusyHours | None]:
    """The busy window of each whole week of the window, to see whether the pattern repeats."""
    w = metrics.window
    week = 7 * 86400
    out = []
    start = w.start
    while start + week <= w.end + w.step:
        part = [(t, v) for t, v in samples if start <= t < start + week]
        out.append(stats.busy_hours(stats.hourly_profile(part, start, start + week - w.step, w.step, tz), IDLE_UTIL))
        start += week
    return out


def _schedule(pool: NodePoolConfig, cfg: StackConfig, metrics: Metrics, samples: list[tuple[float, float]],
              q: queries.Query, policy: Policy, services: list[InferenceServiceConfig], found: Findings) -> None:
    target = f"pool:{pool.name}"
    current = pool.schedule(cfg.environment)
    tz = current.time_zone if current is not None else "UTC"
    w = metrics.window
    profile = stats.hourly_profile(samples, w.start, w.end, w.step, tz, LOAD_PERCENTILE)
    busy = stats.busy_hours(profile, IDLE_UTIL)
    if busy is None:
        return  # idle all window: scale-to-zero's case, not a schedule's
    start_hour = max(busy.start_hour - WARM_UP_HOURS, 0)
    if busy.end_hour >= 24 or (busy.days == "*" and busy.end_hour - start_hour >= 22):
        return  # busy around the clock: no idle window to schedule
    if services and policy.availability_applies:
        found.hold(target, f"an off-peak schedule would take {', '.join(s.name for s in services)} to zero replicas; "
                           f"inference-availability requires them up in {policy.environment}")
        return
    proposal = {"scaleDown": f"0 {busy.end_hour} * * {busy.days}", "scaleUp": f"0 {start_hour} * * {busy.days}",
                "timeZone": tz}
    if current is not None and (current.scale_down, current.scale_up, current.time_zone) == (
            proposal["scaleDown"], proposal["scaleUp"], proposal["timeZone"]):
        return
    weeks = _weekly_windows(samples, metrics, tz)
    repeats = len(weeks) >= 2 and all(x == busy for x in weeks)
    confidence = "high" if repeats else "medium" if weeks else "low"
    hours = (f"{start_hour:02d}:00-{busy.end_hour:02d}:00 {'Monday to Friday' if busy.days == 'MON-FRI' else 'every day'} ({tz})")
    kind = "schedule-adjust" if current is not None else "schedule"
    title = (f"{'Adjust' if current else 'Add'} the off-peak schedule of {pool.name}: up {hours}"
             + (", down at weekends" if busy.days == "MON-FRI" else ""))
    before = ({"scaleDown": current.scale_down, "scaleUp": current.scale_up, "timeZone": current.time_zone}
              if current is not None else None)
    evidence = [_evidence(q, metrics, LOAD_PERCENTILE, {f"{d} {h:02d}h": round(v, 1) for (d, h), v in sorted(profile.items())
                                                         if v >= IDLE_UTIL},
                          f"p95 per hour of the week in {tz}, missing points as 0; busy hours (>= {IDLE_UTIL:g}%) shown"),
                {"statistic": "weekly busy windows", "value": [None if x is None else f"{x.days} {x.start_hour}-{x.end_hour}"
                                                               for x in weeks]}]
    found.recommendations.append(Recommendation(
        kind, target, title, [Edit(POOLS, pool.name, ("offPeak",), proposal, before)], evidence, confidence,
        f"work outside {hours} waits for nodes (about {WARM_UP_HOURS} h of warm-up margin is kept before the first busy hour)"))


def _scale_to_zero(pool: NodePoolConfig, cfg: StackConfig, metrics: Metrics, samples: list[tuple[float, float]],
                   q: queries.Query, services: list[InferenceServiceConfig], found: Findings) -> None:
    if cfg.is_prod or services or (pool.min_size == 0 and pool.effective_desired_size == 0):
        return
    w = metrics.window
    grid = stats.filled(samples, w.start, w.end, w.step)
    busy_share = sum(1 for v in grid if v >= IDLE_UTIL) / len(grid)
    if busy_share > 1 - IDLE_FRACTION:
        return
    edits = [Edit(POOLS, pool.name, ("minSize",), 0, pool.min_size),
             Edit(POOLS, pool.name, ("desiredSize",), 0, pool.desired_size)]
    found.recommendations.append(Recommendation(
        "scale-to-zero", f"pool:{pool.name}", f"Scale {pool.name} to zero: no service runs on it and its GPUs were "
        f"busy {busy_share:.0%} of the window", edits,
        [_evidence(q, metrics, None, round(busy_share, 3), f"share of 5-minute points at or above {IDLE_UTIL:g}%")],
        "high" if w.end - w.start >= 7 * 86400 else "medium",
        "the first pod after idle waits for a node to boot (minutes)"))


def _spot(pool: NodePoolConfig, cfg: StackConfig, found: Findings) -> None:
    if cfg.is_prod or pool.capacity_type != CapacityType.ON_DEMAND:
        return
    found.recommendations.append(Recommendation(
        "spot", f"pool:{pool.name}", f"Run {pool.name} on spot capacity ({cfg.environment} is not prod)",
        [Edit(POOLS, pool.name, ("capacityType",), CapacityType.SPOT.value, pool.capacity_type.value)],
        [{"statistic": "config", "value": f"capacityType ON_DEMAND in a {cfg.environment} stack"}], "high",
        "spot nodes can be reclaimed with two minutes' notice; list several instance types with the same GPU "
        "so the pool stays fillable"))


def _smaller_type(pool: NodePoolConfig, cfg: StackConfig, metrics: Metrics, fb: list[tuple[float, float]],
                  q: queries.Query, services: list[InferenceServiceConfig], policy: Policy, found: Findings) -> None:
    specs = gpu_specs()
    current = pool.instance_types[0]
    spec = specs[current]
    per_gpu = gpu_count(current)
    need_mib = stats.percentile([v for _, v in fb], FB_PERCENTILE) * FB_HEADROOM
    region = cfg.region or "us-east-1"
    price_now = _hourly_price(current, region)
    if price_now is None or per_gpu == 0:
        return
    pod_gpus = max((s.resources.gpus for s in services), default=1)
    candidates = []
    for name, other in specs.items():
        count = gpu_count(name)
        if other.gpu_model != spec.gpu_model or count != per_gpu or name == current:
            continue
        if other.gpu_memory_gib / count * 1024 < need_mib or count < pod_gpus:
            continue
        cost = _hourly_price(name, region)
        if cost is None or cost >= price_now:
            continue
        if policy.allowed_types is not None and name not in policy.allowed_types:
            found.hold(f"pool:{pool.name}", f"{name} would fit but gpu-instance-allowlist does not list it")
            continue
        candidates.append((cost, name))
    if not candidates:
        return
    best = min(candidates)[1]
    fits = {n for _, n in candidates}
    new_types = [best] + [t for t in pool.instance_types[1:] if t in fits and t != best]
    found.recommendations.append(Recommendation(
        "smaller-instance", f"pool:{pool.name}",
        f"Move {pool.name} from {current} to {best} (same {spec.gpu_model} GPUs, {per_gpu} per node; "
        f"{specs[best].gpu_memory_gib / per_gpu:g} GiB each holds the p99 use of {need_mib / FB_HEADROOM / 1024:.1f} GiB)",
        [Edit(POOLS, pool.name, ("instanceTypes",), new_types, list(pool.instance_types))],
        [_evidence(q, metrics, FB_PERCENTILE, round(need_mib / FB_HEADROOM, 1),
                   f"p99 of the fullest GPU's frame buffer (MiB); needs x{FB_HEADROOM:g} headroom")],
        "high" if len(fb) >= 7 * 86400 / metrics.window.step * 0.8 else "medium",
        "GPU memory peaks above the window's p99 would fail to load; the smaller type's CPU and memory must still hold "
        "the pods' requests (preflight's preview and the policy pack check the placement)"))


def _nodes_for(services: list[tuple[InferenceServiceConfig, int]], per_node: int) -> int:
    return sum(math.ceil(replicas / max(per_node // max(s.resources.gpus, 1), 1)) for s, replicas in services)


def _replicas(svc: InferenceServiceConfig, cfg: StackConfig, metrics: Metrics, policy: Policy, found: Findings,
              pool_edits: dict[str, list[Edit]]) -> None:
    target = f"service:{svc.project}/{svc.name}"
    qs = _by_key(queries.service_queries(svc.project, svc.name))
    util = metrics.samples(qs["service_util_sum"].promql)
    if not util:
        found.skip(target, "no GPU utilisation series for its pods (DCGM exporter with pod mapping?)")
        return
    p95 = stats.percentile([v for _, v in util], LOAD_PERCENTILE)
    needed = math.ceil(p95 / 100 / (REPLICA_TARGET_UTIL / 100) / svc.resources.gpus) if p95 > 0 else 0
    floor, why = policy.replica_floor(svc)
    proposed = max(needed, floor, 1)
    if proposed >= svc.replicas.min:
        if needed < svc.replicas.min and floor >= svc.replicas.min:
            found.hold(target, f"p95 load needs {max(needed, 1)} replica(s) but {why}")
        return
    edits = [Edit(SERVICES, svc.name, ("replicas", "min"), proposed, svc.replicas.min)]
    pool = next((p for p in cfg.node_pools if p.name == svc.node_pool), None)
    if pool is not None and not pool.advisor.ignore and pool.gpus_per_instance:
        on_pool = [s for s in cfg.services if s.node_pool == pool.name]
        before = _nodes_for([(s, s.replicas.min) for s in on_pool], pool.gpus_per_instance)
        after = _nodes_for([(s, proposed if s.name == svc.name else s.replicas.min) for s in on_pool], pool.gpus_per_instance)
        freed = before - after
        if freed > 0:
            new_min = max(pool.min_size - freed, after if pool.min_size >= before else pool.min_size, 0)
            new_desired = max(pool.effective_desired_size - freed, new_min)
            if new_min < pool.min_size:
                edits.append(Edit(POOLS, pool.name, ("minSize",), new_min, pool.min_size))
            if new_desired < pool.effective_desired_size:
                edits.append(Edit(POOLS, pool.name, ("desiredSize",), new_desired, pool.desired_size))
    found.recommendations.append(Recommendation(
        "min-replicas", target,
        f"Lower {svc.name}'s minimum replicas from {svc.replicas.min} to {proposed} (p95 load is {p95 / 100:.2f} "
        f"GPU(s) busy; {REPLICA_TARGET_UTIL:g}% per replica needs {max(needed, 1)})",
        edits,
        [_evidence(qs["service_util_sum"], metrics, LOAD_PERCENTILE, round(p95, 1),
                   "p95 of the summed GPU utilisation of its pods (100 = one GPU busy)")],
        "high" if len(util) >= 7 * 86400 / metrics.window.step * 0.8 else "medium",
        f"a burst above the window's p95 waits for the HPA to add replicas and the pool to add nodes; {why}"))


def findings(cfg: StackConfig, metrics: Metrics | None, policy: Policy) -> Findings:
    found = Findings()
    for svc in cfg.services:
        if svc.advisor.ignore:
            found.ignored.append({"target": f"service:{svc.project}/{svc.name}", "reason": svc.advisor.reason or ""})
    for pool in cfg.node_pools:
        target = f"pool:{pool.name}"
        if pool.advisor.ignore:
            found.ignored.append({"target": target, "reason": pool.advisor.reason or ""})
            continue
        if not pool.is_gpu:
            continue
        services = [s for s in cfg.services if s.node_pool == pool.name]
        _spot(pool, cfg, found)
        if metrics is None:
            continue
        qs = _by_key(queries.pool_queries(pool.name))
        util = metrics.samples(qs["pool_util"].promql)
        if not util:
            found.skip(target, "no GPU utilisation series for its nodes (no node ran, or DCGM/kube-state-metrics "
                               "labels missing): no schedule, scale-to-zero or type change judged")
        else:
            _schedule(pool, cfg, metrics, util, qs["pool_util"], policy, services, found)
            _scale_to_zero(pool, cfg, metrics, util, qs["pool_util"], services, found)
        fb = metrics.samples(qs["pool_fb_used"].promql)
        if not fb:
            found.skip(target, "no frame-buffer series: no instance type change judged")
        else:
            _smaller_type(pool, cfg, metrics, fb, qs["pool_fb_used"], services, policy, found)
    if metrics is not None:
        for svc in cfg.services:
            if svc.advisor.ignore or svc.resources.gpus == 0:
                continue
            _replicas(svc, cfg, metrics, policy, found, {})
    return found
