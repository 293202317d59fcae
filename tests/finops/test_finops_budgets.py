"""Reading budgets from recorded resources, the way preflight and the policy pack both do."""

from __future__ import annotations

from ai_platform_finops.budgets import (
    budgets_by_project,
    filtered_project,
    monthly_limits,
    tag_filter_expression,
    tag_filter_value,
)
from tests.finops.finops_fixtures import KEY, UNKNOWN, resource

BUDGET = "aws:budgets/budget:Budget"


def budget(name: str, values: list[str], limit: object = "9000", *, unit: str = "USD", time_unit: str = "MONTHLY",
           notifications: list[dict[str, object]] | None = None) -> dict[str, object]:
    return resource(BUDGET, name, {
        "budgetType": "COST", "timeUnit": time_unit, "limitAmount": limit, "limitUnit": unit,
        "costFilters": [{"name": "TagKeyValue", "values": values}],
        "notifications": notifications if notifications is not None else [
            {"notificationType": "ACTUAL", "subscriberEmailAddresses": ["a@example.com"], "subscriberSnsTopicArns": [UNKNOWN]}],
    })


def test_the_filter_value_format():
    assert tag_filter_value("finops.example.com/project", "project-nova") == "user:finops.example.com/project$project-nova"
    assert filtered_project("user:finops.example.com/project$project-nova", KEY) == "project-nova"
    assert filtered_project("user:other/key$project-nova", KEY) is None
    assert filtered_project(UNKNOWN, KEY) is None


def test_budgets_per_project_and_limits():
    resources = [
        budget("nova", [tag_filter_value(KEY, "project-nova")], "9000"),
        budget("nova-strict", [tag_filter_value(KEY, "project-nova")], 7500.0),
        budget("atlas", [tag_filter_value(KEY, "project-atlas")], "16000.0"),
        budget("shared", [tag_filter_value(KEY, "project-nova"), tag_filter_value(KEY, "project-atlas")], "1"),
        budget("yen", [tag_filter_value(KEY, "project-yen")], "100", unit="JPY"),
        budget("yearly", [tag_filter_value(KEY, "project-year")], "100", time_unit="ANNUALLY"),
        budget("unknown", [tag_filter_value(KEY, "project-later")], UNKNOWN),
        budget("silent", [tag_filter_value(KEY, "project-silent")], notifications=[]),
    ]
    by_project = budgets_by_project(resources, KEY)
    assert [b.name for b in by_project["project-nova"]] == ["nova", "nova-strict", "shared"]
    assert by_project["project-nova"][0].subscribers == 2  # one email + one SNS topic unknown at preview
    assert by_project["project-silent"][0].subscribers == 0
    # The strictest single-project monthly USD limit; shared, non-USD, yearly and unknown ones give none.
    assert monthly_limits(resources, KEY) == {"project-nova": 7500.0, "project-atlas": 16000.0, "project-silent": 9000.0}


def test_odd_budget_inputs_do_not_raise():
    odd = [resource(BUDGET, "odd", {"costFilters": "x", "notifications": [None, 3, {"subscriberEmailAddresses": 5}],
                                    "limitAmount": {"a": 1}}),
           {"type": BUDGET, "inputs": None}, {"type": BUDGET}]
    assert monthly_limits(odd, KEY) == {}
    assert budgets_by_project(odd, KEY) == {}


def expression_budget(name: str, expression: object, limit: object = "800") -> dict[str, object]:
    return resource(BUDGET, name, {
        "budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": limit, "limitUnit": "USD",
        "metrics": "UnblendedCost", "filterExpression": expression,
        "notifications": [{"notificationType": "ACTUAL", "subscriberEmailAddresses": ["a@example.com"]}],
    })


def engine_form(expression: dict[str, object]) -> dict[str, object]:
    """The SDK's snake_case expression as the engine records it (matchOptions)."""
    import json
    return json.loads(json.dumps(expression).replace("match_options", "matchOptions"))


def test_filter_expression_budgets_cover_the_project_of_their_project_tag_term():
    env_key = KEY.rsplit("/", 1)[0] + "/environment"
    two_tags = tag_filter_expression({KEY: "project-nova", env_key: "dev"})
    assert two_tags == {"ands": [
        {"tags": {"key": KEY, "values": ["project-nova"], "match_options": ["EQUALS"]}},
        {"tags": {"key": env_key, "values": ["dev"], "match_options": ["EQUALS"]}},
    ]}
    assert tag_filter_expression({KEY: "project-nova"}) == two_tags["ands"][0]  # one tag: the root, no "and"
    resources = [
        expression_budget("nova-dev", engine_form(two_tags), "800"),
        expression_budget("atlas", engine_form(tag_filter_expression({KEY: "project-atlas"})), "900"),
        expression_budget("env-only", engine_form(tag_filter_expression({env_key: "dev"}))),
        expression_budget("unknown", UNKNOWN),
    ]
    by_project = budgets_by_project(resources, KEY)
    assert sorted(by_project) == ["project-atlas", "project-nova"]
    assert monthly_limits(resources, KEY) == {"project-nova": 800.0, "project-atlas": 900.0}


def test_only_cost_budgets_cover_a_project():
    value = [tag_filter_value(KEY, "project-nova")]
    resources = []
    for kind in ("USAGE", "RI_UTILIZATION", "RI_COVERAGE", "SAVINGS_PLANS_UTILIZATION", "SAVINGS_PLANS_COVERAGE"):
        item = budget(kind.lower(), value, "90")
        item["inputs"]["budgetType"] = kind  # type: ignore[index]
        resources.append(item)
    assert budgets_by_project(resources, KEY) == {}
    assert monthly_limits(resources, KEY) == {}
    resources.append(budget("cost", value, "9000"))
    assert [b.name for b in budgets_by_project(resources, KEY)["project-nova"]] == ["cost"]
    assert monthly_limits(resources, KEY) == {"project-nova": 9000.0}
