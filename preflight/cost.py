"""preflight's cost view: the ``cost`` section, the cost table, and the change against a baseline.

The figures come from ``ai_platform_finops.estimator`` (the same code the policy pack runs) over
the recorded resources; budgets come from the recorded ``aws:budgets/budget:Budget`` resources
through ``ai_platform_finops.budgets``, as the pack reads them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from ai_platform_finops.budgets import monthly_limits
from ai_platform_finops.estimator import estimate

from components.config import StackConfig

from .bounded import REPORT_LIMIT, BoundedReadError, load_json
from .engine import Recording
from .report import SCHEMA

BASIS = "expected"
"""The figure compared against baselines and budgets in tables and the PR comment."""
EPSILON = 0.005


COST_SCHEMA: dict[str, Any] = json.loads((Path(__file__).parent / "report.schema.json").read_text())["$defs"]["cost"]
"""The ``cost`` section's JSON Schema, from the report's schema file (the one documented source)."""
"""JSON Schema of the report's ``cost`` section (for ``preflight/report.schema.json``'s ``cost``)."""


class BaselineError(Exception):
    """A --baseline file preflight cannot compare against; the message says why."""


def estimator_resources(recording: Recording) -> list[dict[str, Any]]:
    """The recorded resources in the estimator's input shape."""
    return [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "inputs": r.inputs,
            "dependencies": r.dependencies,
            "property_dependencies": r.property_dependencies,
        }
        for r in recording.resources
    ]


def cost_section(recording: Recording, cfg: StackConfig, as_of: date | None = None,
                 budget_basis: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The report's ``cost`` section for ``recording`` of the stack configured by ``cfg``.

    ``budget_basis``: the budget gate's basis (:func:`gate_basis`); default the policy's default."""
    resources = estimator_resources(recording)
    key = cfg.tags.key("project")
    result = estimate(
        resources,
        region=cfg.region or "us-east-1",
        project_tag_key=key,
        default_project=cfg.finops.project,
        spot_fraction=cfg.finops.spot_price_fraction,
        as_of=as_of,
        usage=cfg.finops.usage_assumptions,
    )
    section = result.section(monthly_limits(resources, key))
    section["budget_basis"] = dict(budget_basis or {"figure": GATE_DEFAULT_BASIS, "source": None})
    return section


# --- the budget gate's basis -------------------------------------------------------------------

GATE_POLICY = "cost-within-budget"
GATE_DEFAULT_BASIS = "expected"
"""``cost-within-budget``'s own default for its ``basis`` setting (policypacks/ai-governance)."""
FIGURES = ("min", "expected", "max")


def gate_basis(config_file: Path | None, shown_as: str | None = None) -> dict[str, Any]:
    """Which figure the stack's budget gate compares with budgets, read from its pack config.

    ``{"figure": "max", "source": "policypacks/ai-governance/config/prod.json: cost-within-budget.basis"}``;
    without a config file or a ``basis`` setting, the policy's default (``source`` says so)."""
    from .analyzer import PolicyPackError, load_policy_config  # the pack config reader, one implementation

    where = shown_as or (str(config_file) if config_file is not None else None)
    if config_file is None or not config_file.is_file():
        return {"figure": GATE_DEFAULT_BASIS, "source": f"{GATE_POLICY}'s default (no pack config)"}
    try:
        entry = load_policy_config(config_file).get(GATE_POLICY)
    except PolicyPackError:
        return {"figure": GATE_DEFAULT_BASIS, "source": f"{GATE_POLICY}'s default ({where} unreadable)"}
    value = (entry.properties if entry is not None else {}).get("basis")
    if value in FIGURES:
        return {"figure": value, "source": f"{where}: {GATE_POLICY}.basis"}
    return {"figure": GATE_DEFAULT_BASIS, "source": f"{GATE_POLICY}'s default ({where} does not set basis)"}


# --- baseline ---------------------------------------------------------------------------------

def load_baseline(path: str) -> dict[str, Any]:
    """An earlier ``preview --json`` report with a cost section."""
    try:
        report = load_json(path, limit=REPORT_LIMIT)
    except BoundedReadError as exc:
        if exc.problem == "not found":
            raise BaselineError(f"{path}: baseline report not found") from None
        what = "not a JSON report" if exc.kind == "json" else "the baseline report"
        raise BaselineError(f"{path}: {what}: {exc.problem}") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        found = report.get("schema") if isinstance(report, dict) else type(report).__name__
        raise BaselineError(
            f"{path}: baseline has schema {found!r}, expected {SCHEMA!r}: pass a report written by "
            "`python -m preflight preview --json PATH`"
        )
    cost = report.get("cost")
    if not isinstance(cost, dict) or not isinstance(cost.get("items"), list) or not isinstance(cost.get("by_project"), dict):
        raise BaselineError(f"{path}: the baseline report has no cost section (written by an older preflight?)")
    return report


def _stackless(urn: str) -> str:
    """A URN without its stack, so a baseline of the same program matches across stacks."""
    parts = urn.split("::")
    if len(parts) >= 2 and parts[0].startswith("urn:pulumi:"):
        parts[0] = "urn:pulumi:"
    return "::".join(parts)


def _value(entry: Mapping[str, Any] | None) -> float | None:
    if not isinstance(entry, Mapping):
        return None
    value = entry.get(BASIS)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _figures(entry: Mapping[str, Any] | None) -> dict[str, float | None]:
    entry = entry if isinstance(entry, Mapping) else {}
    return {f: _num(entry.get(f)) for f in FIGURES}


def _triple(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per figure (min, expected, max): baseline, new and change."""
    old, new = _figures(before), _figures(after)
    return {f: {"baseline": old[f], "new": new[f], "change": round((new[f] or 0.0) - (old[f] or 0.0), 2)}
            for f in FIGURES}


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "none" if value is None else str(value)


def attribute_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """``["instance type g5.2xlarge → g6e.2xlarge", "maxSize 6 → 12"]``: the price drivers that changed.

    A baseline written before items carried ``attributes`` has none to compare: nothing is named."""
    old, new = before.get("attributes"), after.get("attributes")
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return []
    keys = [*new, *(k for k in old if k not in new)]
    return [f"{key} {_shown(old.get(key))} → {_shown(new.get(key))}" for key in keys if old.get(key) != new.get(key)]


def _item_key(item: Mapping[str, Any]) -> str:
    """An item's identity across stacks: one resource may carry two items (a Helm release's volumes
    and the load balancer its values declare)."""
    attributes = _mapping(item.get("attributes"))
    return _stackless(str(item.get("urn"))) + ("#load-balancer" if "load balancer" in attributes else "")


def _moved(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return any(abs((_num(after.get(f)) or 0) - (_num(before.get(f)) or 0)) > EPSILON for f in FIGURES)


def cost_diff(baseline: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, Any]:
    """The change of ``report`` against ``baseline``: min, expected and max per project and per resource,
    what changed on each changed resource, a warning per project whose worst case (max) moved."""
    old, new = baseline.get("cost") or {}, report.get("cost") or {}
    old_projects: Mapping[str, Any] = old.get("by_project") or {}
    new_projects: Mapping[str, Any] = new.get("by_project") or {}
    projects: dict[str, Any] = {}
    for name in sorted(set(old_projects) | set(new_projects)):
        before, after = _value(old_projects.get(name)), _value(new_projects.get(name))
        new_entry, old_entry = _mapping(new_projects.get(name)), _mapping(old_projects.get(name))
        projects[name] = {
            "baseline": before,
            "new": after,
            "change": round((after or 0.0) - (before or 0.0), 2),
            "budget": new_entry.get("budget"),
            "baseline_budget": old_entry.get("budget"),
            "figures": _triple(old_projects.get(name), new_projects.get(name)),
        }
    old_items = {_item_key(i): i for i in old.get("items") or [] if isinstance(i, Mapping)}
    new_items = {_item_key(i): i for i in new.get("items") or [] if isinstance(i, Mapping)}
    items: list[dict[str, Any]] = []
    unchanged = 0
    # In URN order: the program's registration order varies between runs, the report must not.
    for key, item in sorted(new_items.items()):
        before_item = old_items.get(key)
        after = _value(item)
        if before_item is None:
            items.append(_item("+", item, None, after, None))
            continue
        changes = attribute_changes(before_item, item)
        if _moved(before_item, item) or changes or item.get("project") != before_item.get("project"):
            if item.get("project") != before_item.get("project"):
                changes.append(f"project {_shown(before_item.get('project'))} → {_shown(item.get('project'))}")
            items.append(_item("~", item, _value(before_item), after, before_item, changes))
        else:
            unchanged += 1
    for key, item in sorted(old_items.items()):
        if key not in new_items:
            items.append(_item("-", item, _value(item), None, item))
    old_total, new_total = _value(old.get("total")) or 0.0, _value(new.get("total")) or 0.0
    return {
        "basis": BASIS,
        "budget_basis": new.get("budget_basis"),
        "baseline": {"project": baseline.get("project"), "stack": baseline.get("stack"),
                     "catalog": old["catalog"].get("date") if isinstance(old.get("catalog"), Mapping) else None},
        "total": {"baseline": old_total, "new": new_total, "change": round(new_total - old_total, 2),
                  "figures": _triple(old.get("total"), new.get("total"))},
        "by_project": projects,
        "items": items,
        "unchanged": unchanged,
        "warnings": worst_case_warnings(projects, items),
    }


def _cause(item: Mapping[str, Any]) -> str:
    name = resource_name(str(item.get("urn")))
    figures = item.get("figures") or {}
    top = figures.get("max") or {}
    if item.get("change") == "+":
        return f"{name} added (max ${money(top.get('new'))})"
    if item.get("change") == "-":
        return f"{name} removed (max ${money(top.get('baseline'))})"
    changes = item.get("changes") or []
    if changes:
        return f"{name} {', '.join(changes)}"
    return f"{name} max ${money(top.get('baseline'))} → ${money(top.get('new'))}"


def worst_case_warnings(projects: Mapping[str, Any], items: list[dict[str, Any]]) -> list[str]:
    """One line per project whose max moved, whatever expected did, naming the changes that moved it."""
    out: list[str] = []
    for name, entry in projects.items():
        top = (entry.get("figures") or {}).get("max") or {}
        change = top.get("change") or 0.0
        if abs(change) < EPSILON:
            continue
        causes = [_cause(i) for i in items if i.get("project") == name
                  and abs(((i.get("figures") or {}).get("max") or {}).get("change") or 0.0) >= EPSILON]
        verb = "rises" if change > 0 else "falls"
        out.append(f"{name}: worst case {verb} by ${abs(change):,.2f}/month (max ${money(top.get('baseline') or 0.0)} → "
                   f"${money(top.get('new') or 0.0)})" + (f": {'; '.join(causes)}" if causes else ""))
    return out


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _item(change: str, item: Mapping[str, Any], before: float | None, after: float | None,
          before_item: Mapping[str, Any] | None, changes: list[str] | None = None) -> dict[str, Any]:
    return {
        "change": change,
        "urn": item.get("urn"),
        "type": item.get("type"),
        "project": item.get("project"),
        "baseline": before,
        "new": after,
        "delta": round((after or 0.0) - (before or 0.0), 2),
        "figures": _triple(before_item, item if change != "-" else None),
        "changes": changes or [],
        "attributes": dict(item["attributes"]) if isinstance(item.get("attributes"), Mapping) else {},
    }


# --- human view -------------------------------------------------------------------------------

def budget_basis(section: Mapping[str, Any]) -> dict[str, Any]:
    """The section's budget-gate basis; a report written before it was recorded: the policy's default."""
    found = section.get("budget_basis")
    if isinstance(found, Mapping) and found.get("figure") in FIGURES:
        return {"figure": found["figure"], "source": found.get("source") or f"{GATE_POLICY}'s default"}
    return {"figure": GATE_DEFAULT_BASIS, "source": f"{GATE_POLICY}'s default"}


def rate(value: Any) -> str:
    """A unit price as AWS prints it: $0.0225, $0.50, $1.00."""
    whole, _, frac = f"{_num(value) or 0.0:.4f}".rstrip("0").partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


ASSUMED_UNITS = {"GB": "GB a month", "LCU-h": "LCU an hour each", "NLCU-h": "NLCU an hour each",
                 "IPv4 address-h": "AZs (a public IPv4 address each)"}


def usage_rows(section: Mapping[str, Any]) -> list[tuple[str, str, str, str, str, float]]:
    """(name, type, project, assumption, unit prices, USD) per usage-based line of the section."""
    rows = []
    for entry in (section.get("usage") or {}).get("lines") or []:
        if not isinstance(entry, Mapping):
            continue
        parts, prices = [], []
        for line in entry.get("lines") or []:
            if not isinstance(line, Mapping):
                continue
            unit, key = str(line.get("unit")), line.get("setting")
            if key:
                parts.append(f"{_shown(line.get('assumed'))} {ASSUMED_UNITS.get(unit, unit)} ({key})")
            else:
                parts.append(f"{_shown(line.get('quantity'))} {unit}")
            prices.append(f"{rate(line.get('unit_price'))}/{unit}")
        rows.append((str(entry.get("name")), str(entry.get("type")), str(entry.get("project")), "; ".join(parts),
                     " + ".join(prices), _num(entry.get("usd")) or 0.0))
    return rows


def notes_text(section: Mapping[str, Any]) -> list[str]:
    """Fixed small charges, the commitments note and the spot note, as sentences."""
    out: list[str] = []
    fixed = section.get("fixed")
    if isinstance(fixed, Mapping):
        keys, ips = fixed.get("kms_keys") or {}, fixed.get("public_ipv4") or {}
        out.append(
            f"Fixed small charges (in the figures): {_shown(keys.get('count'))} KMS key(s) x {rate(keys.get('unit_price'))} "
            f"= ${money(keys.get('usd'))}; {_shown(ips.get('count'))} public IPv4 address(es) x {_shown(ips.get('hours'))} h x "
            f"{rate(ips.get('unit_price'))} = ${money(ips.get('usd'))}; together ${money(fixed.get('usd'))} a month."
        )
    commitments = section.get("commitments")
    if isinstance(commitments, Mapping):
        plan = commitments.get("savings_plan") or {}
        discount = _num(plan.get("discount")) or 0.0
        out.append(
            f"Commitments: the 24x7 on-demand base (EC2 compute at the minimum sizes) is "
            f"${money(commitments.get('on_demand_base'))} a month; a {plan.get('term')} covering it would save about "
            f"${money(plan.get('saving'))} a month at an assumed {discount:.0%} off on-demand (rate as of "
            f"{plan.get('as_of')}; the real rate is per instance type: https://aws.amazon.com/savingsplans/compute-pricing/)."
        )
    for pool in section.get("spot") or []:
        if not isinstance(pool, Mapping):
            continue
        spot, demand = pool.get("spot") or {}, pool.get("on_demand") or {}
        out.append(
            f"Spot: {pool.get('name')} ({pool.get('project')}) is ${money(spot.get('min'))}-${money(spot.get('max'))} a month "
            f"at the assumed spot price; if it falls back to on-demand, ${money(demand.get('min'))}-"
            f"${money(demand.get('max'))} (expected ${money(demand.get('expected'))})."
        )
    return out


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def signed(value: float) -> str:
    return f"{'+' if value > 0 else '-' if value < 0 else ''}{abs(value):,.2f}"


def percent(value: float | None, budget: Any) -> str:
    if value is None or not isinstance(budget, (int, float)) or isinstance(budget, bool) or budget <= 0:
        return "-"
    return f"{value / budget:.1%}"


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "?"


def short_type(type_: str) -> str:
    """``aws:eks/nodeGroup:NodeGroup`` -> ``eks:NodeGroup``."""
    parts = type_.split(":")
    if len(parts) == 3:
        return f"{parts[1].split('/')[0]}:{parts[2]}"
    return type_


def render_cost(section: Mapping[str, Any], diff: Mapping[str, Any] | None = None) -> str:
    """The cost table of the human view."""
    catalog = section.get("catalog") or {}
    lines = ["", f"Cost estimate (USD a month, {section.get('hours_per_month')} h; EC2 prices: "
                 f"{catalog.get('region') or '?'} snapshot of {catalog.get('date') or '?'})"]
    projects: Mapping[str, Any] = section.get("by_project") or {}
    change = (diff or {}).get("by_project") or {}
    width = max([len("Project"), len("Total"), *(len(p) for p in projects)])
    head = f"    {'Project':<{width}}  {'Min':>12}  {'Expected':>12}  {'Max':>12}  {'Budget':>12}  {'% budget':>8}"
    if diff is not None:
        head += f"  {'Baseline':>12}  {'Change':>12}"
    lines.append(head)
    total = section.get("total") or {}
    gate = budget_basis(section)
    budgets = [p.get("budget") for p in projects.values() if isinstance(p.get("budget"), (int, float))]
    rows = [(name, entry) for name, entry in projects.items()] + [("Total", {**total, "budget": sum(budgets) if budgets else None})]
    for name, entry in rows:
        row = (f"    {name:<{width}}  {money(entry.get('min')):>12}  {money(entry.get('expected')):>12}  "
               f"{money(entry.get('max')):>12}  {money(entry.get('budget')):>12}  "
               f"{percent(entry.get(gate['figure']), entry.get('budget')):>8}")
        if diff is not None:
            delta = (diff.get("total") if name == "Total" else change.get(name)) or {}
            row += f"  {money(delta.get('baseline')):>12}  {signed(delta.get('change') or 0.0):>12}"
        lines.append(row)
    lines.append(f"    % budget: the {gate['figure']} figure, the basis of {GATE_POLICY} ({gate['source']}).")
    items = sorted(section.get("items") or [], key=lambda i: -(i.get("expected") or 0))
    if not items:
        lines += ["", "    No priced resource in this stack."]
    if items:
        lines += ["", "    Resources (USD a month: expected, with min - max):"]
        name_width = max(len(resource_name(str(i.get("urn")))) for i in items)
        for item in items:
            lines.append(
                f"      {resource_name(str(item.get('urn'))):<{name_width}}  {short_type(str(item.get('type'))):<22}  "
                f"{str(item.get('project')):<16}  {money(item.get('expected')):>12}  "
                f"({money(item.get('min'))} - {money(item.get('max'))})"
            )
    if diff is not None:
        base = diff.get("baseline") or {}
        lines += ["", f"    Changes against the baseline ({base.get('project')}/{base.get('stack')}, expected):"]
        changed = diff.get("items") or []
        if not changed:
            lines.append("      none")
        for item in changed:
            lines.append(
                f"      {item.get('change')} {resource_name(str(item.get('urn'))):<40}  {short_type(str(item.get('type'))):<22}  "
                f"{money(item.get('baseline')):>12} -> {money(item.get('new')):>12}  {signed(item.get('delta') or 0.0):>12}"
                + (f"  ({', '.join(item.get('changes') or [])})" if item.get("changes") else "")
            )
        lines += [f"    WARNING {warning}" for warning in diff.get("warnings") or []]
    usage = usage_rows(section)
    if usage:
        lines += ["", "    Usage-based lines (in the figures; change the assumptions under finops.usage):"]
        lines += [f"      {name:<34}  {money(usd):>10}  {assumed}; at {prices}" for name, _, _, assumed, prices, usd in usage]
    lines += ["", *(f"    {line}" for line in notes_text(section))]
    assumptions = section.get("assumptions") or []
    if assumptions:
        lines += ["", "    Assumptions:"]
        lines += [f"      - {text}" for text in assumptions]
    return "\n".join(lines)
