"""CostControls under mocks: the recorded inputs of budgets, alert topic, cost-allocation tags and anomaly detection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ai_platform_finops.tags import required_keys

from components.config.finops import CostAllocationTagsMode
from components.cost_controls import endpoint_slug
from preflight import invokes
from preflight.engine import UNKNOWN, RecordedResource, Recording
from tests.support.fixtures import AWS_STACKS, ENVIRONMENT, ConfigEdit, errors, preview, recorded
from tests.support.fixtures import config as config_of

PREFIX = "finops.apexlogic.com"
COMPONENT = "ai-platform:finops:CostControls"
BUDGET = "aws:budgets/budget:Budget"
TOPIC, TOPIC_POLICY = "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
ALLOCATION_TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"
SNS_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
GET_TAGS = "aws:costexplorer/getTags:getTags"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
FINOPS_TYPES = (BUDGET, TOPIC, TOPIC_POLICY, KEY, ALLOCATION_TAG, MONITOR, SUBSCRIPTION, "aws:kms/alias:Alias")




def children(recording: Recording, type_: str) -> list[RecordedResource]:
    component = [r.urn for r in recording.resources if r.type == COMPONENT]
    assert len(component) == 1
    return [r for r in recording.resources if r.type == type_ and r.parent == component[0]]


def only(recording: Recording, type_: str) -> RecordedResource:
    found = children(recording, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def budget_of(recording: Recording, project: str) -> RecordedResource:
    found = [b for b in children(recording, BUDGET) if b.inputs["name"].endswith(f"-{project}-monthly")]
    assert len(found) == 1
    return found[0]


def test_prod_budget_per_project_filtered_on_the_project_and_environment_tags():
    recording = recorded("live")
    assert sorted(b.inputs["name"] for b in children(recording, BUDGET)) == [
        "ai-platform-live-project-atlas-monthly", "ai-platform-live-project-nova-monthly"]
    for project, limit in (("project-nova", "9000"), ("project-atlas", "16000")):
        budget = budget_of(recording, project).inputs
        assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == (
            "COST", "MONTHLY", limit, "USD")
        # Both tags, with "and": prod's budget counts prod's spend of the project only.
        assert budget["filterExpression"] == {"ands": [
            {"tags": {"key": f"{PREFIX}/project", "values": [project], "matchOptions": ["EQUALS"]}},
            {"tags": {"key": f"{PREFIX}/environment", "values": ["prod"], "matchOptions": ["EQUALS"]}},
        ]}
        assert budget["metrics"] == "UnblendedCost"  # a filterExpression requires it
        assert "costFilters" not in budget  # conflicts with filterExpression


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_budgets_of_environments_sharing_an_account_do_not_overlap(stack):
    expression = budget_of(recorded(stack), "project-nova").inputs["filterExpression"]
    environment = next(t["tags"] for t in expression["ands"] if t["tags"]["key"] == f"{PREFIX}/environment")
    assert environment["values"] == [ENVIRONMENT[stack]]


def test_prod_budget_notifications_actual_80_and_forecast_100_to_emails_and_the_topic():
    recording = recorded("live")
    topic = only(recording, TOPIC)
    budget = budget_of(recording, "project-nova")
    emails = ["finops@apexlogic.com", "ml-platform-oncall@apexlogic.com"]
    notifications = sorted(budget.inputs["notifications"], key=lambda n: n["notificationType"])
    assert notifications == [
        {"notificationType": "ACTUAL", "comparisonOperator": "GREATER_THAN", "threshold": 80.0,
         "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": emails, "subscriberSnsTopicArns": [UNKNOWN]},
        {"notificationType": "FORECASTED", "comparisonOperator": "GREATER_THAN", "threshold": 100.0,
         "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": emails, "subscriberSnsTopicArns": [UNKNOWN]},
    ]
    # The SNS ARN is the alert topic's (unknown at preview, linked in the graph) ...
    assert budget.property_dependencies["notifications"] == [topic.urn]
    # ... and the budget waits for the topic policy that lets Budgets publish.
    assert only(recording, TOPIC_POLICY).urn in budget.dependencies


def test_budgets_are_protected_in_prod_only():
    assert all(b.options["protect"] for b in children(recorded("live"), BUDGET))
    assert not any(b.options["protect"] for b in children(recorded("sandbox"), BUDGET))


def test_topic_policy_lets_exactly_budgets_and_cost_anomaly_detection_publish():
    recording = recorded("live")
    policy = json.loads(only(recording, TOPIC_POLICY).inputs["policy"])
    topic_arn = "arn:aws:sns:us-east-1:123456789012:ai-platform-live-cost-alerts"
    principals = [s["Principal"] for s in policy["Statement"]]
    assert principals == [{"Service": "budgets.amazonaws.com"}, {"Service": "costalerts.amazonaws.com"}]
    for statement in policy["Statement"]:
        assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "SNS:Publish", topic_arn)
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert only(recording, TOPIC).inputs["name"] == "ai-platform-live-cost-alerts"


def test_topic_is_encrypted_with_a_rotating_key_the_publishers_may_use():
    recording = recorded("live")
    topic, key = only(recording, TOPIC), only(recording, KEY)
    assert topic.property_dependencies["kmsMasterKeyId"] == [key.urn]  # not alias/aws/sns
    assert key.inputs["enableKeyRotation"] is True
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountAdministers"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    for sid, service in (("AWSBudgetsEncrypt", "budgets.amazonaws.com"),
                         ("AWSCostAnomalyDetectionEncrypt", "costalerts.amazonaws.com")):
        statement = statements[sid]
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
        # The account condition is on the topic policy; a condition the services do not send would drop alerts.
        assert "Condition" not in statement
    topic_policy = json.loads(only(recording, TOPIC_POLICY).inputs["policy"])
    assert all(st["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"} for st in topic_policy["Statement"])


def test_alert_key_is_protected_and_retained_in_prod_only():
    key = only(recorded("live"), KEY)
    assert key.options["protect"] and key.options["retainOnDelete"]
    dev_key = only(recorded("sandbox"), KEY)
    assert not dev_key.options["protect"] and not dev_key.options["retainOnDelete"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_alert_email_is_subscribed_to_the_topic(stack):
    recording = recorded(stack)
    topic = only(recording, TOPIC)
    subscriptions = children(recording, SNS_SUBSCRIPTION)
    emails = list(config_of(stack).budgets.alert_emails)
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions) == sorted(
        ("email", e) for e in emails)
    for subscription in subscriptions:
        assert subscription.property_dependencies["topic"] == [topic.urn]


def test_https_webhooks_are_subscribed_too():
    hook = "https://hooks.example.com/services/finops"
    recording = preview("sandbox", lambda c: c["ai-platform:budgets"].update(alertWebhooks=[hook]))
    # Registration order under the engine is not fixed: compare as a set of (protocol, endpoint).
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in children(recording, SNS_SUBSCRIPTION)) == [
        ("email", "finops@apexlogic.com"), ("https", hook)]


def test_a_webhook_must_be_https():
    lines = errors("sandbox", lambda c: c["ai-platform:budgets"].update(alertWebhooks=["http://hooks.example.com/x"]))
    assert lines == ["stacks/Pulumi.sandbox.yaml: budgets.alertWebhooks[0]: String should match pattern "
                     "'^https://[^\\s/]+(/\\S*)?$' (got 'http://hooks.example.com/x')"]


# --- cost-allocation tags: three modes ---------------------------------------------------------

def finops_edit(key: str, value: Any) -> ConfigEdit:
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:finops"][key] = value
    return edit


def listed_keys(monkeypatch, listed: list[str]) -> None:
    """Model an account whose Billing lists only ``listed`` (a fresh account lists none)."""
    def answer(args: dict[str, Any], _: str) -> dict[str, Any]:
        key = args["searchString"]
        assert args["timePeriod"]["start"] < args["timePeriod"]["end"]
        return {"tags": [key] if key in listed else [], "id": "test"}
    monkeypatch.setitem(invokes.ANSWERS, GET_TAGS, answer)


@pytest.mark.parametrize("stack", ["sandbox", "preprod"])
def test_mode_off_is_the_default_and_creates_no_activation(stack):
    assert config_of(stack).finops.cost_allocation_tags == CostAllocationTagsMode.OFF
    recording = preview(stack, lambda c: c["ai-platform:finops"].pop("costAllocationTags"))
    assert children(recording, ALLOCATION_TAG) == []
    assert children(recording, BUDGET) and children(recording, MONITOR)  # the rest stays


def test_mode_activate_listed_activates_every_listed_key_and_keeps_it_on_delete():
    tags = children(recorded("live"), ALLOCATION_TAG)
    assert sorted(t.inputs["tagKey"] for t in tags) == sorted(required_keys(PREFIX))
    assert {t.inputs["status"] for t in tags} == {"Active"}
    assert all(t.options["retainOnDelete"] for t in tags)


def test_mode_activate_listed_skips_keys_billing_does_not_list_and_says_so(monkeypatch):
    project, environment = f"{PREFIX}/project", f"{PREFIX}/environment"
    listed_keys(monkeypatch, [project, environment])
    recording = preview("live")
    assert sorted(t.inputs["tagKey"] for t in children(recording, ALLOCATION_TAG)) == sorted([environment, project])
    warnings = [m for level, m in recording.logs if level == "warning" and "cost-allocation tags" in m]
    assert len(warnings) == 1 and f"{PREFIX}/owner" in warnings[0] and "again tomorrow to activate them" in warnings[0]


def test_mode_activate_listed_on_a_fresh_account_activates_nothing_and_monitors_still_exist(monkeypatch):
    listed_keys(monkeypatch, [])
    recording = preview("live")
    assert children(recording, ALLOCATION_TAG) == []
    assert len(children(recording, MONITOR)) == 2  # anomaly detection does not wait for the activation


def test_mode_report_creates_nothing_and_warns_about_unlisted_keys(monkeypatch):
    listed_keys(monkeypatch, [f"{PREFIX}/project"])
    recording = preview("sandbox", finops_edit("costAllocationTags", "report"))
    assert children(recording, ALLOCATION_TAG) == []
    (warning,) = [m for level, m in recording.logs if level == "warning" and "cost-allocation tags" in m]
    assert f"{PREFIX}/cost-center" in warning and f"{PREFIX}/project," not in warning
    assert "activate them in the payer account" in warning


def test_anomaly_monitors_never_depend_on_the_activation():
    recording = recorded("live")
    activation = {t.urn for t in children(recording, ALLOCATION_TAG)}
    assert activation
    for monitor in children(recording, MONITOR):
        assert not activation & set(monitor.dependencies)


def test_cost_allocation_choice_is_explained_when_wrong():
    (line,) = errors("sandbox", finops_edit("costAllocationTags", "on"))
    assert line.startswith("stacks/Pulumi.sandbox.yaml: finops.costAllocationTags: Input should be 'off', 'report' or "
                           "'activate-listed'")
    (line,) = errors("sandbox", finops_edit("manageCostAllocationTags", False))
    assert line.startswith("stacks/Pulumi.sandbox.yaml: finops: manageCostAllocationTags is replaced by "
                           "costAllocationTags: 'off' (the default: the payer account")
    assert "member accounts get AccessDenied" in line


def test_one_custom_anomaly_monitor_per_project_on_the_project_tag():
    recording = recorded("live")
    monitors = {m.inputs["name"]: m.inputs for m in children(recording, MONITOR)}
    assert sorted(monitors) == ["ai-platform-live-project-atlas", "ai-platform-live-project-nova"]
    for project in ("project-atlas", "project-nova"):
        monitor = monitors[f"ai-platform-live-{project}"]
        assert monitor["monitorType"] == "CUSTOM"
        assert json.loads(monitor["monitorSpecification"]) == {
            "Tags": {"Key": "finops.apexlogic.com/project", "Values": [project], "MatchOptions": ["EQUALS"]}}


def test_prod_anomaly_subscription_immediate_to_sns_at_250():
    recording = recorded("live")
    subscription = only(recording, SUBSCRIPTION)
    assert subscription.inputs["thresholdExpression"] == {"dimension": {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"], "values": ["250"]}}
    assert subscription.inputs["frequency"] == "IMMEDIATE"
    # AWS sends IMMEDIATE alerts through SNS only.
    assert subscription.inputs["subscribers"] == [{"type": "SNS", "address": UNKNOWN}]
    assert subscription.property_dependencies["subscribers"] == [only(recording, TOPIC).urn]
    assert sorted(subscription.property_dependencies["monitorArnLists"]) == sorted(m.urn for m in children(recording, MONITOR))


def test_dev_anomaly_subscription_daily_by_email_at_50():
    subscription = only(recorded("sandbox"), SUBSCRIPTION).inputs
    assert subscription["thresholdExpression"]["dimension"]["values"] == ["50"]
    assert subscription["frequency"] == "DAILY"
    assert subscription["subscribers"] == [{"type": "EMAIL", "address": "finops@apexlogic.com"}]


def test_anomaly_detection_can_be_turned_off():
    recording = preview("sandbox", finops_edit("anomalyDetection", {"enabled": False}))
    assert children(recording, MONITOR) == [] and children(recording, SUBSCRIPTION) == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_taggable_finops_resource_carries_every_finops_tag(stack):
    recording = recorded(stack)
    taggable = [r for t in (BUDGET, TOPIC, KEY, MONITOR, SUBSCRIPTION) for r in children(recording, t)]
    assert len(taggable) >= 5
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert all(tags.get(key) for key in required_keys(PREFIX)), (resource.name, tags)
    nova = budget_of(recording, "project-nova").inputs["tags"]
    assert nova[f"{PREFIX}/project"] == "project-nova" and nova[f"{PREFIX}/environment"] == ENVIRONMENT[stack]


def test_atlas_budget_carries_atlas_cost_center_and_owner():
    tags = budget_of(recorded("live"), "project-atlas").inputs["tags"]
    assert (tags[f"{PREFIX}/cost-center"], tags[f"{PREFIX}/owner"]) == ("claims-analytics", "claims-ml-team")


def test_nothing_of_it_in_the_local_stack():
    recording = recorded("kind")
    assert not [r for r in recording.resources if r.type in FINOPS_TYPES or r.type == COMPONENT]
    assert "budgetsUsd" not in recording.outputs and "costEstimateUsd" not in recording.outputs


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_outputs_budgets_and_estimate_totals(stack):
    outputs = recorded(stack).outputs
    assert set(outputs["budgetsUsd"]) == {"project-nova"} | ({"project-atlas"} if stack == "live" else set())
    estimate = outputs["costEstimateUsd"]
    assert set(estimate) == {"basis", "catalogDate", "total", "byProject"}
    assert estimate["total"]["min"] <= estimate["total"]["expected"] <= estimate["total"]["max"]
    assert "costAlertsTopicArn" in outputs


def test_the_local_stack_cannot_activate_cost_allocation_tags():
    (line,) = errors("kind", finops_edit("costAllocationTags", "activate-listed"))
    assert line == "stacks/Pulumi.kind.yaml: finops.costAllocationTags: the local stack has no AWS account; use 'off'"


def test_subscriptions_are_named_after_their_address_so_reordering_replaces_nothing():
    names = sorted(s.name for s in children(recorded("live"), SNS_SUBSCRIPTION))  # in any registration order
    assert names == ["finops-alerts-email-finops@apexlogic.com", "finops-alerts-email-ml-platform-oncall@apexlogic.com"]
    assert endpoint_slug("https://hooks.example.com/services/T0/B1") == "hooks.example.com-services-T0-B1"
