"""Budgets: only a COST budget covers a project's spend (budget-coverage) and gives it a limit
(cost-within-budget); USAGE, RI and Savings Plans budgets track other things and cover nothing."""

from __future__ import annotations

import pytest

from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, allowed, check, disallowed, params

COVERAGE, COST = "budget-coverage", "cost-within-budget"
NOT_SPEND = ("USAGE", "RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE")


def retyped(kind: str, limit: float | None = None):
    """The good stack with its one project budget of type ``kind`` (and limit)."""
    def apply(stack: list[RecordedResource]) -> list[RecordedResource]:
        def edit(r: RecordedResource) -> None:
            r.inputs["budgetType"] = kind
            if limit is not None:
                r.inputs["limitAmount"] = f"{limit:.2f}"
        return b.replace(stack, "budget-project-nova", edit)
    return apply


def plus(kind: str, limit: float):
    """The good stack with a second budget of type ``kind`` on the same project."""
    def apply(stack: list[RecordedResource]) -> list[RecordedResource]:
        extra = b.budget("project-nova", limit)
        extra.inputs["budgetType"] = kind
        extra.urn = extra.urn + f"-{kind.lower()}"
        extra.name = f"{extra.name}-{kind.lower()}"
        return [*stack, extra]
    return apply


CASES: list[Case] = [
    allowed("cost-budget-covers", retyped("COST"), COVERAGE, COST),
    *[disallowed(f"{kind.lower()}-budget-covers-nothing", retyped(kind), COVERAGE, expect=[COVERAGE],
                 message="has no COST budget") for kind in NOT_SPEND],
    allowed("usage-budget-beside-a-cost-budget", plus("USAGE", 1.0), COVERAGE, COST),
    # A tiny limit on a non-COST budget is no spend limit: the estimate is not judged against it.
    allowed("tiny-savings-plans-budget-is-no-cost-limit", plus("SAVINGS_PLANS_COVERAGE", 1.0), COST),
    disallowed("tiny-cost-budget-is-a-limit", retyped("COST", 1.0), COST, message="exceeds its budget"),
    allowed("tiny-usage-budget-alone-is-no-limit", retyped("USAGE", 1.0), COST),
]


@pytest.mark.parametrize("case", params(CASES))
def test_budget_types(pack, case):
    check(pack, case)
