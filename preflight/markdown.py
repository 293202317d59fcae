"""The pull-request comment (``preview --markdown PATH``), in the manner of Infracost's.

The comment is built from the JSON report alone (plus the cost change when ``--baseline`` is
given), so CI can also render it from a saved report. It is a header followed by *parts*, each a
function ``(report, diff) -> list of lines`` registered in :data:`PARTS`, in order:

1. :func:`cost_part`: summary line, per-project table (baseline, new, change, budget, % of
   budget), collapsible per-resource list and assumptions.
2. :func:`policy_part`: the policy results. **Policy engineer: render ``report["policy"]``
   there** (it returns no lines while the report has no ``policy`` section).

Every value that comes from the program (names, types, messages) goes through :func:`cell` or
:func:`text`, so a resource name cannot break the table or inject HTML into the comment.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .cost import BASIS, money, resource_name, short_type

Part = Callable[[Mapping[str, Any], "Mapping[str, Any] | None"], list[str]]

MARKER = "<!-- preflight-comment:{project}:{stack} -->"
"""First line of the comment: CI finds and updates its own earlier comment by it."""


def text(value: Any) -> str:
    """Free text safe for Markdown outside tables: no raw HTML."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return text(value).replace("|", "\\|").replace("\n", " ")


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


def _figure(entry: Any) -> float | None:
    if isinstance(entry, Mapping):
        value = entry.get(BASIS)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def summary_line(cost: Mapping[str, Any], diff: Mapping[str, Any] | None) -> str:
    total = cost.get("total") or {}
    new = _figure(total) or 0.0
    span = f"(min {usd(total.get('min'))}, max {usd(total.get('max'))})"
    if diff is None:
        return f"**Monthly cost estimate: {usd(new)}** expected {span}. No baseline given."
    change = (diff.get("total") or {}).get("change") or 0.0
    old = (diff.get("total") or {}).get("baseline") or 0.0
    if abs(change) < 0.005:
        return f"**Monthly cost will not change: {usd(new)}** expected {span}."
    direction = "increase" if change > 0 else "decrease"
    relative = f" ({change / old:+.1%})" if old else ""
    return (f"**Monthly cost will {direction} by ${abs(change):,.2f}{relative}**, "
            f"from {usd(old)} to {usd(new)} expected {span}.")


def cost_part(report: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    cost = report.get("cost")
    if not isinstance(cost, Mapping):
        return []
    lines = ["### Monthly cost estimate", "", summary_line(cost, diff), ""]
    projects: Mapping[str, Any] = cost.get("by_project") or {}
    changes: Mapping[str, Any] = (diff or {}).get("by_project") or {}
    lines += ["| Project | Baseline | New | Change | Budget | % of budget |",
              "|---|---:|---:|---:|---:|---:|"]
    budget_total = 0.0
    has_budget = False
    for name in sorted(set(projects) | set(changes)):
        entry = projects.get(name) or {}
        change = changes.get(name)
        new = _figure(entry)
        budget = entry.get("budget")
        if isinstance(budget, (int, float)) and not isinstance(budget, bool):
            budget_total += budget
            has_budget = True
        lines.append(
            f"| {cell(name)} | {usd(change.get('baseline')) if change else '–'} | {usd(new)} | "
            f"{usd_change(change.get('change')) if change else '–'} | {usd(budget) if budget is not None else '–'} | "
            f"{share(new, budget)} |"
        )
    total = diff.get("total") if diff else None
    new_total = _figure(cost.get("total"))
    lines.append(
        f"| **Total** | **{usd(total.get('baseline')) if total else '–'}** | **{usd(new_total)}** | "
        f"**{usd_change(total.get('change')) if total else '–'}** | **{usd(budget_total) if has_budget else '–'}** | "
        f"**{share(new_total, budget_total if has_budget else None)}** |"
    )
    lines += ["", *resource_list(cost, diff), *assumption_list(cost)]
    catalog = cost.get("catalog") or {}
    lines += [
        f"<sub>USD a month of {cell(cost.get('hours_per_month'))} h; EC2 on-demand prices: "
        f"{cell(catalog.get('region'))} snapshot of {cell(catalog.get('date'))}. \"New\" and \"Change\" use the "
        f"{BASIS} figure. Generated by <code>python -m preflight preview --markdown</code>.</sub>",
        "",
    ]
    return lines


def resource_list(cost: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    items = [i for i in cost.get("items") or [] if isinstance(i, Mapping)]
    marks: dict[str, Mapping[str, Any]] = {}
    removed: list[Mapping[str, Any]] = []
    for change in (diff or {}).get("items") or []:
        if change.get("change") == "-":
            removed.append(change)
        else:
            marks[str(change.get("urn"))] = change
    changed = len(marks) + len(removed)
    summary = f"{len(items)} priced resource(s)" + (f", {changed} changed" if diff is not None else "")
    lines = [f"<details><summary>Per-resource estimate: {summary}</summary>", "",
             "| | Resource | Type | Project | Baseline | New | Min – max | Change |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    ordered = sorted(items, key=lambda i: (str(i.get("project")), -(_figure(i) or 0.0), str(i.get("urn"))))
    for item in ordered:
        mark = marks.get(str(item.get("urn")))
        if diff is None:
            flag, before, delta = "", "–", "–"
        elif mark is None:
            flag, before, delta = "", usd(_figure(item)), "$0.00"
        else:
            flag, before, delta = str(mark.get("change")), usd(mark.get("baseline")), usd_change(mark.get("delta"))
        lines.append(
            f"| {flag} | {cell(resource_name(str(item.get('urn'))))} | {cell(short_type(str(item.get('type'))))} | "
            f"{cell(item.get('project'))} | {before} | {usd(_figure(item))} | "
            f"{usd(item.get('min'))} – {usd(item.get('max'))} | {delta} |"
        )
    for item in removed:
        lines.append(
            f"| - | {cell(resource_name(str(item.get('urn'))))} | {cell(short_type(str(item.get('type'))))} | "
            f"{cell(item.get('project'))} | {usd(item.get('baseline'))} | – | – | {usd_change(item.get('delta'))} |"
        )
    lines += ["", "</details>", ""]
    return lines


def assumption_list(cost: Mapping[str, Any]) -> list[str]:
    assumptions = [a for a in cost.get("assumptions") or [] if isinstance(a, str)]
    if not assumptions:
        return []
    return [f"<details><summary>Assumptions ({len(assumptions)})</summary>", "",
            *(f"- {text(a)}" for a in assumptions), "", "</details>", ""]


def policy_part(report: Mapping[str, Any], diff: Mapping[str, Any] | None) -> list[str]:
    """The policy results (``report["policy"]``), rendered by ``preflight.policy.markdown_part``."""
    from .policy import markdown_part  # local import: policy imports this module's cell/text

    return markdown_part(report)


PARTS: list[Part] = [cost_part, policy_part]


def render_comment(report: Mapping[str, Any], diff: Mapping[str, Any] | None = None) -> str:
    """The whole PR comment for ``report`` (and its cost change against a baseline, if any)."""
    project, stack = report.get("project"), report.get("stack")
    lines = [MARKER.format(project=project, stack=stack), f"## preflight: {text(project)} / {text(stack)}", ""]
    for part in PARTS:
        lines += part(report, diff)
    return "\n".join(lines).rstrip("\n") + "\n"
