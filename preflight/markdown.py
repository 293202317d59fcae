"""The pull-request comment (``preview --markdown PATH``), in the manner of Infracost's.

The comment is built from the JSON report alone (plus the cost change when ``--baseline`` is
given), so CI can also render it from a saved report. It is a header followed by *parts*, each a
function ``(report, diff) -> list of lines`` registered in :data:`PARTS`, in order:

1. :func:`cost_part`: summary line; min/expected/max of the stack (baseline, new, change); a
   warning per project whose worst case (max) moved; per-project table with each figure
   ``old → new`` and % of budget on the budget gate's basis (named); the changed resources with
   what changed (the rest counted); usage-based lines with unit prices and assumptions; fixed
   small charges, commitments and spot notes; assumptions.
2. :func:`policy_part`: the policy results (no lines when the report has no ``policy`` section).

Every value that comes from the program (names, types, messages) goes through ``preflight.mdtext``'s
``cell`` or ``text``, so a resource name cannot break the table or inject HTML into the comment.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .cost import BASIS, FIGURES, GATE_POLICY, budget_basis, money, notes_text, resource_name, short_type, usage_rows
from .mdtext import cell, text
from .policy import markdown_part

Part = Callable[[Mapping[str, Any], "Mapping[str, Any] | None"], list[str]]

MARKER = "<!-- preflight-comment:{project}:{stack} -->"
"""First line of the comment: CI finds and updates its own earlier comment by it."""


def usd(value: float | None) -> str:
    return "–" if value is None else f"${money(value)}"


def usd_change(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) < 0.005:
        return "$0.00"
    return f"{'+' if value > 0 else '-'}${abs(value):,.2f}"


def share(value: float | None, budget: Any) -> str:
    if value is None or not isinstance(budget, (int, float)) or isinstance(budget, bool) or budget <= 0:
        return "–"
    return f"{value / budget:.0%}"


def _figure(entry: Any, figure: str = BASIS) -> float | None:
    if isinstance(entry, Mapping):
        value = entry.get(figure)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def moved(change: Mapping[str, Any] | None, fallback: float | None) -> str:
    """``$a → $b (+$c)`` when a figure moved, ``$b`` when it did not, from a diff's {baseline, new, change}."""
    if not change:
        return usd(fallback)
    before, after, delta = change.get("baseline"), change.get("new"), change.get("change") or 0.0
    if before is None:
        return f"{usd(after)} (new)"
    if after is None:
        return f"{usd(before)} → –"
    if abs(delta) < 0.005:
        return usd(after)
    return f"{usd(before)} → {usd(after)} ({usd_change(delta)})"


def summary_line(cost: Mapping[str, Any], diff: Mapping[str, Any] | None) -> str:
    total = cost.get("total") or {}
    new = _figure(total) or 0.0
    span = f"(min {usd(total.get('min'))}, max {usd(total.get('max'))})"
    if diff is None:
        return f"**Monthly cost estimate: {usd(new)}** expected {span}. No baseline given."
    change = (diff.get("total") or {}).get("change") or 0.0
    old = (diff.get("total") or {}).get("baseline") or 0.0
    if abs(change) < 0.005:
        worst = (((diff.get("total") or {}).get("figures") or {}).get("max") or {}).get("change") or 0.0
        moved_max = " The worst case (max) moves: see the warning below." if abs(worst) >= 0.005 else ""
        return f"**Monthly cost will not change: {usd(new)}** expected {span}.{moved_max}"
    direction = "increase" if change > 0 else "decrease"
    relative = f" ({change / old:+.1%})" if old else ""
    return (f"**Monthly cost will {direction} by ${abs(change):,.2f}{relative}**, "
            f"from {usd(old)} to {usd(new)} expected {span}.")


def figures_table(cost: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    """Min, expected and max of the whole stack: baseline, new, change."""
    total = cost.get("total") or {}
    lines = ["| | Min | Expected | Max |", "|---|---:|---:|---:|"]
    if diff is None:
        return lines + ["| **New** | " + " | ".join(f"**{usd(_figure(total, f))}**" for f in FIGURES) + " |", ""]
    figures = (diff.get("total") or {}).get("figures") or {}
    lines.append("| Baseline | " + " | ".join(usd((figures.get(f) or {}).get("baseline")) for f in FIGURES) + " |")
    lines.append("| **New** | " + " | ".join(f"**{usd(_figure(total, f))}**" for f in FIGURES) + " |")
    lines.append("| Change | " + " | ".join(usd_change((figures.get(f) or {}).get("change") or 0.0) for f in FIGURES) + " |")
    return lines + [""]


def cost_part(report: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    cost = report.get("cost")
    if not isinstance(cost, Mapping):
        return []
    gate = budget_basis(cost)
    basis = gate["figure"]
    lines = ["### Monthly cost estimate", "", summary_line(cost, diff), "", *figures_table(cost, diff)]
    lines += [f"> :warning: {text(warning)}  " for warning in (diff or {}).get("warnings") or []]
    if diff is not None and diff.get("warnings"):
        lines.append("")
    projects: Mapping[str, Any] = cost.get("by_project") or {}
    changes: Mapping[str, Any] = (diff or {}).get("by_project") or {}
    lines += [f"| Project | Min | Expected | Max | Budget | % of budget ({basis}) |",
              "|---|---:|---:|---:|---:|---:|"]
    budget_total = 0.0
    has_budget = False
    for name in sorted(set(projects) | set(changes)):
        entry = projects.get(name) or {}
        figures = (changes.get(name) or {}).get("figures") if diff is not None else None
        budget = entry.get("budget")
        if isinstance(budget, (int, float)) and not isinstance(budget, bool):
            budget_total += budget
            has_budget = True
        cells = [moved((figures or {}).get(f), _figure(entry, f)) for f in FIGURES]
        share_text = share(_figure(entry, basis), budget)
        if figures is not None:
            before = share((figures.get(basis) or {}).get("baseline"), (changes.get(name) or {}).get("baseline_budget"))
            if before != share_text and before != "–":
                share_text = f"{before} → {share_text}"
        lines.append(f"| {cell(name)} | {' | '.join(cells)} | {usd(budget) if budget is not None else '–'} | {share_text} |")
    total_figures = (diff.get("total") or {}).get("figures") if diff else None
    total = cost.get("total") or {}
    cells = [f"**{moved((total_figures or {}).get(f), _figure(total, f))}**" for f in FIGURES]
    lines.append(
        f"| **Total** | {' | '.join(cells)} | **{usd(budget_total) if has_budget else '–'}** | "
        f"**{share(_figure(total, basis), budget_total if has_budget else None)}** |"
    )
    lines += ["", f"% of budget compares the **{basis}** figure with each project's monthly budget: the basis of "
                  f"<code>{GATE_POLICY}</code> ({text(gate['source'])}).", ""]
    lines += [*resource_list(cost, diff), *usage_list(cost), *notes_list(cost), *assumption_list(cost)]
    catalog = cost.get("catalog") or {}
    lines += [
        f"<sub>USD a month of {cell(cost.get('hours_per_month'))} h; EC2 on-demand prices: "
        f"{cell(catalog.get('region'))} snapshot of {cell(catalog.get('date'))}; every unit price in "
        f"<code>ai_platform_finops.rates</code>. The headline uses the {BASIS} figure. Generated by "
        f"<code>python -m preflight preview --markdown</code>.</sub>",
        "",
    ]
    return lines


def resource_list(cost: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    """Without a baseline, every priced resource (collapsed); with one, the changed ones and a count of the rest."""
    items = [i for i in cost.get("items") or [] if isinstance(i, Mapping)]
    if diff is None:
        lines = [f"<details><summary>Per-resource estimate: {len(items)} priced resource(s)</summary>", "",
                 "| Resource | Type | Project | Min | Expected | Max |", "|---|---|---|---:|---:|---:|"]
        ordered = sorted(items, key=lambda i: (str(i.get("project")), -(_figure(i) or 0.0), str(i.get("urn"))))
        for item in ordered:
            lines.append(f"| {cell(resource_name(str(item.get('urn'))))} | {cell(short_type(str(item.get('type'))))} | "
                         f"{cell(item.get('project'))} | " + " | ".join(usd(_figure(item, f)) for f in FIGURES) + " |")
        return lines + ["", "</details>", ""]
    changed = [c for c in diff.get("items") or [] if isinstance(c, Mapping)]
    unchanged = diff.get("unchanged") or 0
    lines = [f"**Changed resources: {len(changed)}** ({unchanged} unchanged priced resource(s) not listed)", ""]
    if not changed:
        return lines
    lines += ["| | Resource | Type | Project | What changed | Min | Expected | Max |",
              "|---|---|---|---|---|---:|---:|---:|"]
    order = {"~": 0, "+": 1, "-": 2}
    for item in sorted(changed, key=lambda c: (order.get(str(c.get("change")), 3), str(c.get("project")), str(c.get("urn")))):
        figures = item.get("figures") or {}
        what = {"+": "added", "-": "removed"}.get(str(item.get("change"))) or "; ".join(item.get("changes") or []) or "figures only"
        attributes = item.get("attributes") if item.get("change") == "+" else None
        if isinstance(attributes, Mapping) and attributes:
            what += ": " + ", ".join(f"{key} {value}" for key, value in attributes.items())
        lines.append(
            f"| {cell(item.get('change'))} | {cell(resource_name(str(item.get('urn'))))} | {cell(short_type(str(item.get('type'))))} | "
            f"{cell(item.get('project'))} | {cell(what)} | " + " | ".join(moved(figures.get(f), None) for f in FIGURES) + " |"
        )
    return lines + [""]


def usage_list(cost: Mapping[str, Any]) -> list[str]:
    rows = usage_rows(cost)
    if not rows:
        return []
    lines = ["**Usage-based lines** (in the figures above; set the assumptions per stack under "
             "<code>finops.usage</code> in the stack config):", "",
             "| Line | Project | Assumption | Unit price | Monthly |", "|---|---|---|---|---:|"]
    for name, type_, project, assumed, prices, amount in rows:
        lines.append(f"| {cell(name)} ({cell(short_type(type_))}) | {cell(project)} | {cell(assumed)} | {cell(prices)} | {usd(amount)} |")
    return lines + [""]


def notes_list(cost: Mapping[str, Any]) -> list[str]:
    notes = notes_text(cost)
    return [*(f"- {text(note)}" for note in notes), ""] if notes else []


def assumption_list(cost: Mapping[str, Any]) -> list[str]:
    assumptions = [a for a in cost.get("assumptions") or [] if isinstance(a, str)]
    if not assumptions:
        return []
    return [f"<details><summary>Assumptions ({len(assumptions)})</summary>", "",
            *(f"- {text(a)}" for a in assumptions), "", "</details>", ""]


def policy_part(report: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    """The policy results (``report["policy"]``), rendered by ``preflight.policy.markdown_part``."""
    return markdown_part(report)


PARTS: list[Part] = [cost_part, policy_part]


def render_comment(report: Mapping[str, Any], diff: Mapping[str, Any] | None = None) -> str:
    """The whole PR comment for ``report`` (and its cost change against a baseline, if any)."""
    project, stack = report.get("project"), report.get("stack")
    lines = [MARKER.format(project=project, stack=stack), f"## preflight: {text(project)} / {text(stack)}", ""]
    for part in PARTS:
        lines += part(report, diff)
    return "\n".join(lines).rstrip("\n") + "\n"
