"""FinOps billing rules: every billed project has a budget that notifies someone, the stack's cost
estimate (the shared estimator's) stays within it, and the FinOps tag keys are activated so bills
and budgets can filter on them."""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from ai_platform_finops import resource_types
from ai_platform_finops.tags import STANDARD_KEYS, required_keys
from ai_platform_finops.values import number

from . import aws
from .framework import Check, Setting, finops_framework, stack_rule
from .finops_tags import required_tag_keys
from .pack_settings import finops_stack_setting, stack_config_value
from .props import MISSING, UNKNOWN, get, text, to_plain
from .resources import Res, Stack

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

BILLABLE_TYPES = [
    resource_types.EKS_CLUSTER, resource_types.NODE_GROUP, resource_types.LAUNCH_TEMPLATE, resource_types.NAT_GATEWAY,
    resource_types.EIP, resource_types.EC2_INSTANCE, resource_types.EBS_VOLUME, resource_types.AUTOSCALING_GROUP,
    resource_types.LOAD_BALANCER, resource_types.RDS_INSTANCE, resource_types.RDS_CLUSTER, resource_types.S3_BUCKET,
    resource_types.S3_BUCKET_V2, resource_types.EFS_FILE_SYSTEM, resource_types.SAGEMAKER_ENDPOINT,
    resource_types.LOG_GROUP, resource_types.KMS_KEY,
]
"""The default billableTypes: AWS types that bill on their own."""


def _plain(res: Res, with_inputs: bool = True) -> dict[str, Any]:
    """A resource in the plain-mapping shape ai_platform_finops documents (urn, type, name, inputs...)."""
    return {
        "urn": res.urn, "type": res.type, "name": res.name, "parent": res.parent_urn,
        "inputs": to_plain(res.props) if with_inputs else {}, "dependencies": sorted(res.all_dependencies()),
        "property_dependencies": {k: list(v) for k, v in res.property_dependencies.items()},
        "options": {"protect": res.protect},
    }


def _project_key(c: Check) -> str:
    return required_keys(c.settings.tag_prefix)[STANDARD_KEYS.index("project")]


def billed_projects(stack: Stack, c: Check, types: list[str]) -> dict[str, list[Res]]:
    key = _project_key(c)
    found: dict[str, list[Res]] = {}
    for res in stack.of_type(*types):
        tags, unknown, whole = aws.effective_tags(res)
        if whole or key in unknown:
            c.unknown(f"the {key} tag of {res.label}", res.urn)
            continue
        project = tags.get(key)
        if project:
            found.setdefault(project, []).append(res)
    return found


def _coverage_check(stack: Stack, c: Check) -> None:
    from ai_platform_finops import budgets as finops_budgets

    projects = billed_projects(stack, c, c.config.strings("billableTypes"))
    if not projects:
        c.not_applicable("no billable AWS resource carries a project tag")
    key = _project_key(c)
    by_project = finops_budgets.budgets_by_project([_plain(b) for b in stack.of_type(aws.BUDGET)], key)
    for project, resources in sorted(projects.items()):
        budgets = by_project.get(project, [])
        example = resources[0]
        if not budgets:
            c.violation(f"project '{project}' ({len(resources)} billable resource(s), e.g. {example.label}) has no "
                        f"COST budget filtered on TagKeyValue user:{key}${project} (USAGE, RI and Savings Plans "
                        "budgets do not cover spend)")
            continue
        if not any(b.subscribers > 0 for b in budgets):
            c.violation(f"project '{project}': budget(s) {', '.join(b.name for b in budgets)} notify nobody; add an "
                        "email or SNS subscriber to a notification", budgets[0].urn)


BUDGET_COVERAGE = stack_rule(
    name="budget-coverage",
    description="Every project found on a billable resource has a COST budget filtered on that project's tag, with "
                "at least one notification subscriber.",
    severity=Severity.HIGH,
    remediation="Add the project to budgets.monthlyLimitsUsd in the stack config (the Budgets component creates a "
                "COST/MONTHLY budget with a TagKeyValue filter and ACTUAL/FORECASTED notifications) and list at "
                "least one budgets.alertEmails address.",
    check=_coverage_check,
    settings_=(Setting("billableTypes", _STRINGS, BILLABLE_TYPES, "AWS types whose project tag needs a budget."),),
    framework=finops_framework("Budgeting"),
    tags=["finops", "budgets"],
)


def _stack_region(stack: Stack) -> str:
    """The region resources are priced in: the EKS cluster's provider, else aws:region, else us-east-1."""
    for res in stack.of_type(aws.CLUSTER, aws.NODE_GROUP):
        region = get(res.provider_props, "region") if res.provider_props is not None else MISSING
        if isinstance(region, str) and region:
            return region
    region = stack_config_value("aws:region")
    return region if isinstance(region, str) and region else "us-east-1"


def _cost_check(stack: Stack, c: Check) -> None:
    from ai_platform_finops import budgets as finops_budgets
    from ai_platform_finops import estimator
    from ai_platform_finops.usage import Usage

    basis = c.config["basis"]
    # Only what the estimator reads carries its inputs: priced types, their schedules, budgets.
    read = {*estimator.READ_TYPES, aws.SCHEDULE, aws.BUDGET}
    plain = [_plain(r, r.type in read) for r in stack.resources]
    if not any(p["type"] in estimator.PRICED_TYPES for p in plain):
        c.not_applicable("the stack has no priced AWS resource")
    key = _project_key(c)
    spot = c.config.num("spotFraction") or number(finops_stack_setting("spotPriceFraction")) or 0.35
    default_project = c.config["defaultProject"] or text(finops_stack_setting("project")) or "unallocated"
    # The stack's usage assumptions (finops.usage), as preflight prices them.
    usage = Usage.from_config(finops_stack_setting("usage"))
    result = estimator.estimate(plain, region=_stack_region(stack), project_tag_key=key,
                                default_project=default_project, spot_fraction=spot, as_of=c.settings.as_of,
                                usage=usage)
    for note in result.assumptions:
        if "known at preview" in note or "unknown at preview" in note:
            c.unknown(f"a priced input ({note.rstrip('.')})")
    budgets = [p for p in plain if p["type"] == aws.BUDGET]
    limits = finops_budgets.monthly_limits(budgets, key)
    budget_urns: dict[str, str] = {}
    for info in finops_budgets.budgets(budgets, key):
        for project in info.projects:
            budget_urns.setdefault(project, info.urn)

    def top(project: str | None) -> str:
        items = result.top_items(3, basis, project)
        return ", ".join(f"{i.name} ${i.figures.get(basis):,.2f}" for i in items) or "none"

    for project, figures in result.by_project().items():
        limit = limits.get(project)
        cost = figures.get(basis)
        if limit is not None and cost > limit:
            c.violation(f"project '{project}': estimated ${cost:,.2f}/month ({basis}; min ${figures.min:,.2f}, "
                        f"expected ${figures.expected:,.2f}, max ${figures.max:,.2f}) exceeds its budget of "
                        f"${limit:,.2f} by ${cost - limit:,.2f}; top items: {top(project)}", budget_urns.get(project))
    ceiling = c.config.num("maxMonthlyUsd")
    total = result.total.get(basis)
    if ceiling > 0 and total > ceiling:
        c.violation(f"the stack's estimate ${total:,.2f}/month ({basis}) exceeds the ceiling of ${ceiling:,.2f}; "
                    f"top items: {top(None)}")


COST_WITHIN_BUDGET = stack_rule(
    name="cost-within-budget",
    description="Each project's monthly cost estimate (basis 'expected' or 'max') stays within its monthly COST "
                "budget's limit, and the stack's total within a ceiling.",
    severity=Severity.HIGH,
    remediation="Shrink the estimate (fewer or smaller GPU nodes, SPOT, off-peak schedules, lower maxSize) or raise "
                "budgets.monthlyLimitsUsd for the project through FinOps review; `python -m preflight preview "
                "--stack <s>` shows the estimate per project and resource.",
    check=_cost_check,
    settings_=(Setting("basis", {"type": "string", "enum": ["expected", "max"]}, "expected",
                       "Which monthly figure must fit the budget: 'expected' (desired size, schedule-aware) or "
                       "'max' (max size)."),
               Setting("maxMonthlyUsd", {"type": "number", "minimum": 0}, 0,
                       "Ceiling for the whole stack's estimate in USD a month (0: none)."),
               Setting("spotFraction", {"type": "number", "minimum": 0, "maximum": 1}, 0,
                       "SPOT price as a fraction of on-demand (0: the stack config's finops.spotPriceFraction, "
                       "else 0.35)."),
               Setting("defaultProject", {"type": "string"}, "",
                       "Project billed for untagged resources ('': the stack config's finops.project).")),
    framework=finops_framework("Budgeting"),
    tags=["finops", "budgets", "cost"],
)


# --- cost-allocation-tags-active -------------------------------------------------------------------

def _allocation_check(stack: Stack, c: Check) -> None:
    if c.config["managedCentrally"]:
        c.not_applicable("cost-allocation tags are managed centrally (managedCentrally: true)")
    if not any(r.type.startswith("aws:") for r in stack.resources):
        c.not_applicable("the stack has no AWS resources")
    active: set[str] = set()
    for res in stack.of_type(aws.COST_ALLOCATION_TAG):
        key, status = get(res.props, "tagKey"), get(res.props, "status")
        if key is UNKNOWN or status is UNKNOWN:
            c.unknown(f"tagKey/status of {res.label}", res.urn)
            continue
        if isinstance(key, str) and status == "Active":
            active.add(key)
    missing = [k for k in required_tag_keys(c) if k not in active]
    if missing:
        c.violation(f"FinOps tag key(s) {', '.join(missing)} are not activated as cost-allocation tags "
                    "(aws.costexplorer.CostAllocationTag with status Active), so AWS bills and budgets cannot "
                    "filter on them")


COST_ALLOCATION_TAGS_ACTIVE = stack_rule(
    name="cost-allocation-tags-active",
    description="The FinOps tag keys are activated as AWS cost-allocation tags, unless that is managed centrally.",
    severity=Severity.MEDIUM,
    remediation="Let one stack own activation with finops.costAllocationTags: activate-listed (it activates the keys "
                "Billing lists; run it again after tagged spend appears, about 24 hours), or activate the keys in "
                "the payer account and set managedCentrally: true for this rule.",
    check=_allocation_check,
    settings_=(Setting("managedCentrally", {"type": "boolean"}, False,
                       "True where cost-allocation tags are activated centrally (e.g. by the payer account)."),
               Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix.")),
    framework=finops_framework("Allocation"),
    tags=["finops", "tagging"],
)


POLICIES = [BUDGET_COVERAGE, COST_WITHIN_BUDGET, COST_ALLOCATION_TAGS_ACTIVE]

__all__ = ["POLICIES", "billed_projects"]
