"""AWS Budgets as recorded resources: which project each budget covers, its limit, its subscribers.

preflight (to show "% of budget") and the policy pack (``budget-coverage``, ``cost-within-budget``)
read budgets from the recorded ``aws:budgets/budget:Budget`` resources with these functions, so
both agree on what a budget covers. The input shape is the estimator's (see
``ai_platform_finops.estimator``): mappings with ``urn``, ``type``, ``name`` and engine-form
``inputs``.

A budget covers a project when its ``costFilters`` hold a ``TagKeyValue`` filter whose value is
``user:<project tag key>$<project>`` (the format AWS Budgets uses for cost-allocation tags; the
``user:`` prefix marks a user-defined tag), or when its ``filterExpression`` has a ``tags`` term
on the project tag key, at the root or as an operand of ``ands``/``ors`` (an expression names
tag keys bare). A filter listing several projects makes one shared budget: it covers each of
them, but gives none of them a limit of its own.

Only a ``COST`` budget covers a project's spend. ``USAGE`` budgets count usage units (hours, GB),
``RI_UTILIZATION``/``RI_COVERAGE`` and ``SAVINGS_PLANS_UTILIZATION``/``SAVINGS_PLANS_COVERAGE``
track commitment percentages: none of them alerts when the project's bill grows (AWS Budgets
API, ``Budget.BudgetType``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .resource_types import BUDGET
from .values import UNKNOWN, known_str, number, seq, unwrap
TAG_FILTER = "TagKeyValue"
COST = "COST"
"""The one budget type that covers spend."""


def tag_filter_value(project_tag_key: str, project: str) -> str:
    """The ``TagKeyValue`` cost-filter value selecting one project: ``user:<key>$<project>``."""
    return f"user:{project_tag_key}${project}"


def filtered_project(value: Any, project_tag_key: str) -> str | None:
    """The project a ``TagKeyValue`` value selects, or None when it is about another key."""
    text = known_str(value)
    prefix = f"user:{project_tag_key}$"
    if text is None or not text.startswith(prefix):
        return None
    return text[len(prefix):] or None


def tag_filter_expression(tags: Mapping[str, str]) -> dict[str, Any]:
    """A Budgets ``filterExpression`` (SDK snake_case) selecting spend carrying every one of ``tags``.

    Two or more tags are combined with ``ands`` (AWS takes one root per expression), one alone is the root.
    """
    terms = [{"tags": {"key": key, "values": [value], "match_options": ["EQUALS"]}} for key, value in tags.items()]
    if len(terms) == 1:
        return terms[0]
    return {"ands": terms}


def _expression_projects(expression: Any, project_tag_key: str) -> list[str]:
    expression = unwrap(expression)
    if not isinstance(expression, Mapping):
        return []
    terms = [expression] + [unwrap(t) for key in ("ands", "ors") for t in seq(expression.get(key))]
    found: list[str] = []
    for term in terms:
        tags = unwrap(term.get("tags")) if isinstance(term, Mapping) else None
        if isinstance(tags, Mapping) and known_str(tags.get("key")) == project_tag_key:
            found.extend(v for v in (known_str(x) for x in seq(tags.get("values"))) if v)
    return found


@dataclass(frozen=True)
class BudgetInfo:
    urn: str
    name: str
    projects: tuple[str, ...]
    """Projects its TagKeyValue filter selects (several: a shared budget)."""
    limit_usd: float | None
    """None when the limit is unknown at preview or not in USD."""
    budget_type: str | None
    time_unit: str | None
    notifications: int
    subscribers: int
    """Email addresses plus SNS topics over all notifications (an SNS ARN unknown at preview counts)."""

    @property
    def covers_spend(self) -> bool:
        """A COST budget: the only type whose limit is the project's spend."""
        return self.budget_type == COST

    @property
    def is_monthly_cost(self) -> bool:
        return self.covers_spend and self.time_unit == "MONTHLY"


def _budget(resource: Mapping[str, Any], project_tag_key: str) -> BudgetInfo:
    inputs = unwrap(resource.get("inputs"))
    inputs = inputs if isinstance(inputs, Mapping) else {}
    projects: list[str] = []
    for cost_filter in seq(inputs.get("costFilters")):
        cost_filter = unwrap(cost_filter)
        if not isinstance(cost_filter, Mapping) or known_str(cost_filter.get("name")) != TAG_FILTER:
            continue
        for value in seq(cost_filter.get("values")):
            project = filtered_project(value, project_tag_key)
            if project is not None and project not in projects:
                projects.append(project)
    for project in _expression_projects(inputs.get("filterExpression"), project_tag_key):
        if project not in projects:
            projects.append(project)
    unit = known_str(inputs.get("limitUnit"))
    limit = number(inputs.get("limitAmount")) if unit in (None, "USD") else None
    notifications = [n for n in (unwrap(x) for x in seq(inputs.get("notifications"))) if isinstance(n, Mapping)]
    subscribers = 0
    for notification in notifications:
        for key in ("subscriberEmailAddresses", "subscriberSnsTopicArns"):
            raw = unwrap(notification.get(key))
            if raw == UNKNOWN:
                subscribers += 1  # a list computed at apply time: at least one subscriber
            else:
                subscribers += sum(1 for v in seq(raw) if isinstance(unwrap(v), str) and unwrap(v))
    return BudgetInfo(
        urn=str(resource.get("urn") or ""),
        name=str(resource.get("name") or ""),
        projects=tuple(projects),
        limit_usd=limit,
        budget_type=known_str(inputs.get("budgetType")),
        time_unit=known_str(inputs.get("timeUnit")),
        notifications=len(notifications),
        subscribers=subscribers,
    )


def budgets(resources: Iterable[Mapping[str, Any]], project_tag_key: str) -> list[BudgetInfo]:
    """Every recorded budget, in resource order."""
    return [_budget(r, project_tag_key) for r in resources if isinstance(r, Mapping) and r.get("type") == BUDGET]


def budgets_by_project(resources: Iterable[Mapping[str, Any]], project_tag_key: str) -> dict[str, list[BudgetInfo]]:
    """COST budgets per project they cover (a shared budget is listed under each of its projects);
    other budget types never cover spend."""
    out: dict[str, list[BudgetInfo]] = {}
    for info in budgets(resources, project_tag_key):
        if not info.covers_spend:
            continue
        for project in info.projects:
            out.setdefault(project, []).append(info)
    return out


def monthly_limits(resources: Iterable[Mapping[str, Any]], project_tag_key: str) -> dict[str, float]:
    """Each project's monthly USD limit: its strictest single-project MONTHLY COST budget."""
    limits: dict[str, float] = {}
    for info in budgets(resources, project_tag_key):
        if len(info.projects) != 1 or not info.is_monthly_cost or info.limit_usd is None:
            continue
        project = info.projects[0]
        limits[project] = min(limits.get(project, info.limit_usd), info.limit_usd)
    return limits
