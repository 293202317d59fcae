"""``python -m preflight advise --stack NAME``: the report, and with ``--patch`` the stack-file change.

Exit codes: 0 report written (whether or not it proposes anything); 2 bad input, unreachable or
failing sources, with one message and nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from components.config import ConfigError, StackConfig, validate_flat_config

from ..bounded import CONFIG_LIMIT, BoundedReadError, load_json, read_text
from ..safe_io import atomic_write_text
from ..stackfile import StackConfigSource, read_stack_config
from . import costexplorer, edits as edits_mod, pricing, prometheus, render, rules, stats
from .arguments import MAX_DAYS
from .queries import STEP_SECONDS

SCHEMA = "preflight-advise/v1"


class AdviseError(Exception):
    """One ``source: what is wrong`` line; exit 2, nothing written."""


def outputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    return [("--json", args.json), ("--markdown", args.markdown), ("--save-metrics", args.save_metrics),
            ("--save-costs", args.save_costs)]


def inputs(args: argparse.Namespace, source: StackConfigSource) -> list[Path]:
    found = [Path(p) for p in (args.metrics, args.costs) if p]
    if source.path is not None:
        found += [source.path, *sorted(source.path.parent.glob("Pulumi.*.yaml"))]
    return found


def _window(args: argparse.Namespace) -> prometheus.Window:
    if not 1 <= args.days <= MAX_DAYS:
        raise AdviseError(f"--days: {args.days}: between 1 and {MAX_DAYS}")
    if args.end:
        try:
            end_time = datetime.fromisoformat(args.end.replace("Z", "+00:00"))
        except ValueError:
            raise AdviseError(f"--end: {args.end!r} is not an ISO 8601 time such as 2026-11-30T00:00:00Z") from None
        if end_time.tzinfo is None:
            end_time = end_time.replace(tzinfo=timezone.utc)
    else:
        end_time = datetime.now(timezone.utc)
    end = int(end_time.timestamp()) // STEP_SECONDS * STEP_SECONDS
    return prometheus.Window(end - args.days * 86400, end, STEP_SECONDS)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pack_config(project_dir: Path, stack: str) -> dict[str, Any] | None:
    path = project_dir / "policypacks" / "ai-governance" / "config" / f"{stack}.json"
    if not path.is_file():
        return None
    try:
        document = load_json(path)
    except BoundedReadError as exc:
        raise AdviseError(str(exc)) from None
    return document if isinstance(document, dict) else None


def _metrics(args: argparse.Namespace, cfg: StackConfig, window: prometheus.Window) -> prometheus.Metrics | None:
    try:
        if args.prometheus:
            metrics = prometheus.fetch(args.prometheus, rules.all_queries(cfg), window)
        elif args.metrics:
            metrics = prometheus.load(args.metrics)
        else:
            return None
    except prometheus.MetricsError as exc:
        raise AdviseError(str(exc)) from None
    asked = rules.all_queries(cfg)
    if asked and not any(metrics.samples(q) for q in asked if metrics.samples(q) is not None):
        raise AdviseError(f"{metrics.source}: no series for any of the {len(asked)} queries over "
                          f"{_iso(metrics.window.start)} to {_iso(metrics.window.end)}; does it scrape the DCGM "
                          "exporter and kube-state-metrics (docs/advisor.md)?")
    return metrics


def _costs(args: argparse.Namespace, cfg: StackConfig, window: prometheus.Window,
           client_factory: Callable[[], Any] | None) -> costexplorer.Costs | None:
    tag_key = cfg.tags.key("project")
    try:
        if args.cost_explorer:
            end = datetime.fromtimestamp(window.end, tz=timezone.utc).date()
            client = (client_factory or costexplorer.make_client)()
            return costexplorer.fetch(client, tag_key, end - timedelta(days=args.days), end)
        if args.costs:
            return costexplorer.load(args.costs, tag_key)
    except costexplorer.CostsError as exc:
        raise AdviseError(str(exc)) from None
    return None


def forecast_section(cfg: StackConfig, costs: costexplorer.Costs) -> dict[str, Any]:
    budgets = dict(cfg.budgets.monthly_limits_usd) if cfg.budgets is not None else {}
    projects: dict[str, Any] = {}
    method = None
    for name in sorted(set(costs.by_project) | set(budgets)):
        result = stats.month_end(costs.days, costs.series(name))
        method = method or result.method
        entry = result.as_dict()
        budget = budgets.get(name)
        entry["budget"] = budget
        entry["status"] = (None if budget is None else "over" if result.forecast > budget
                           else "at risk" if result.upper > budget else "within")
        projects[name] = entry
    return {"method": method, "projects": projects}


def anomalies_section(costs: costexplorer.Costs) -> tuple[list[dict[str, Any]], str]:
    found: list[dict[str, Any]] = []
    method = ""
    for project in sorted(costs.by_project):
        values = costs.series(project)
        days, method = stats.anomalous_days(values)
        for index, z, expected in days:
            day = costs.days[index]
            drivers = []
            for service, daily in (costs.by_service.get(project) or {}).items():
                series = [daily.get(d, 0.0) for d in costs.days]
                # The usual spend of the same weekday (the weekly pattern), else of every day.
                same = [v for d, v in zip(costs.days, series) if d.weekday() == day.weekday() and d != day]
                usual = stats.percentile(same if len(same) >= 2 else series, 50)
                drivers.append({"service": service, "amount": round(series[index], 2), "usual": round(usual, 2),
                                "delta": round(series[index] - usual, 2)})
            drivers = [d for d in drivers if abs(d["delta"]) >= 0.01]
            drivers.sort(key=lambda d: -abs(d["delta"]))
            found.append({"project": project, "date": day.isoformat(), "amount": round(values[index], 2),
                          "expected": round(expected, 2), "z": round(z, 2), "drivers": drivers[:3]})
    return found, f"robust z-score (|z| >= {stats.Z_THRESHOLD:g}) of the {method}" if method else ""


def run(args: argparse.Namespace, client_factory: Callable[[], Any] | None = None) -> int:
    project_dir: Path = args.project_dir.resolve()
    source = read_stack_config(project_dir, args.stack)
    cfg = validate_flat_config(source.config, source.project, source.source, source.secret_keys)
    if not (args.prometheus or args.metrics or args.cost_explorer or args.costs):
        raise AdviseError("give GPU use (--prometheus URL or --metrics FILE), spend (--cost-explorer or --costs FILE), or both")
    if args.save_metrics and not args.prometheus:
        raise AdviseError("--save-metrics: only with --prometheus (it saves that server's answers)")
    if args.save_costs and not args.cost_explorer:
        raise AdviseError("--save-costs: only with --cost-explorer (it saves Cost Explorer's answers)")
    window = _window(args)
    metrics = _metrics(args, cfg, window)
    if metrics is not None:
        window = metrics.window
    costs = _costs(args, cfg, window, client_factory)
    if metrics is None and costs is not None:  # spend alone: the window is the days it covers
        first = datetime.combine(costs.days[0], datetime.min.time(), tzinfo=timezone.utc)
        window = prometheus.Window(int(first.timestamp()), int(first.timestamp()) + len(costs.days) * 86400, 86400)
    policy = rules.Policy.from_pack_config(_pack_config(project_dir, args.stack), cfg.environment)
    found = rules.findings(cfg, metrics, policy)

    baseline = pricing.price(project_dir, source, [])
    kept: list[rules.Recommendation] = []
    for rec in found.recommendations:
        try:
            after = pricing.price(project_dir, source, rec.edits)
        except ConfigError as exc:
            found.hold(rec.target, f"{rec.title}: the changed stack would fail its own checks: {exc}")
            continue
        rec.monthly = {"before": round(baseline.expected, 2), "after": round(after.expected, 2),
                       "saving": pricing.saving(baseline, after)}
        kept.append(rec)
    kept.sort(key=lambda r: -(r.monthly.get("saving") or 0.0))
    chosen = [r for r in kept if r.confidence != "low"]
    combined = [e for r in chosen for e in r.edits]
    report: dict[str, Any] = {
        "schema": SCHEMA, "project": source.project, "stack": args.stack, "environment": cfg.environment,
        "window": {"start": _iso(window.start), "end": _iso(window.end), "days": round((window.end - window.start) / 86400, 2),
                   "step_seconds": window.step},
        "sources": {"metrics": metrics.source if metrics else None, "costs": costs.source if costs else None},
        "recommendations": [], "held": found.held, "not_judged": found.not_judged, "ignored": found.ignored,
    }
    diff_text, patched = "", ""
    if combined:
        after_all = pricing.price(project_dir, source, combined)
        report["total_saving_usd"] = pricing.saving(baseline, after_all)
        diff = pricing.cost_diff(baseline.report, after_all.report)
        report["cost_diff"] = diff
        assert source.path is not None
        original = read_text(source.path, CONFIG_LIMIT, source.source)
        patched = edits_mod.patch_text(original, source.project, combined)
        diff_text = edits_mod.unified_diff(original, patched, source.source)
        for rec in chosen:
            rec.patched = bool(args.patch)
    report["recommendations"] = [r.as_dict() for r in kept]
    if costs is not None:
        report["forecast"] = forecast_section(cfg, costs)
        report["anomalies"], report["anomaly_method"] = anomalies_section(costs)

    human = render.text(report)
    to_stdout = args.json == "-"
    stream = sys.stderr if to_stdout else sys.stdout
    if args.save_metrics and metrics is not None:
        atomic_write_text(args.save_metrics, json.dumps(metrics.document(), separators=(",", ":")) + "\n")
    if args.save_costs and costs is not None:
        atomic_write_text(args.save_costs, json.dumps(costs.pages, indent=1, default=str) + "\n")
    if args.json:
        text = json.dumps(report, indent=2, allow_nan=False) + "\n"
        sys.stdout.write(text) if to_stdout else atomic_write_text(args.json, text)
    if args.markdown:
        atomic_write_text(args.markdown, render.markdown(report, diff_text))
    print(human, file=stream, end="")
    if args.patch and diff_text:
        assert source.path is not None
        atomic_write_text(source.path, patched)
        print(f"\nPatched {source.source} (review, then open a pull request; preflight's cost diff shows the saving):\n",
              file=stream)
        print(diff_text, file=stream, end="")
    elif diff_text:
        print(f"\n--patch would change {source.source}:\n", file=stream)
        print(diff_text, file=stream, end="")
    return 0
