"""CostControls under mocks: the recorded inputs of budgets, alert topic, cost-allocation tags and anomaly detection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ai_platform_finops.tags import required_keys
from preflight.engine import UNKNOWN, Recording, RecordedResource
from tests.support import AWS_STACKS, ConfigEdit, preview, recorded

PREFIX = "finops.apexlogic.com"
COMPONENT = "ai-platform:finops:CostControls"
BUDGET = "aws:budgets/budget:Budget"
TOPIC, TOPIC_POLICY = "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
ALLOCATION_TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
FINOPS_TYPES = (BUDGET, TOPIC, TOPIC_POLICY, KEY, ALLOCATION_TAG, MONITOR, SUBSCRIPTION, "aws:kms/alias:Alias")


shipped = recorded


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


def test_prod_budget_per_project_filtered_on_the_project_tag():
    recording = shipped("prod")
    assert sorted(b.inputs["name"] for b in children(recording, BUDGET)) == [
        "ai-platform-prod-project-atlas-monthly", "ai-platform-prod-project-nova-monthly"]
    for project, limit in (("project-nova", "9000"), ("project-atlas", "16000")):
        budget = budget_of(recording, project).inputs
        assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == (
            "COST", "MONTHLY", limit, "USD")
        assert budget["costFilters"] == [
            {"name": "TagKeyValue", "values": [f"user:finops.apexlogic.com/project${project}"]}]


def test_prod_budget_notifications_actual_80_and_forecast_100_to_emails_and_the_topic():
    recording = shipped("prod")
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
    assert all(b.options["protect"] for b in children(shipped("prod"), BUDGET))
    assert not any(b.options["protect"] for b in children(shipped("dev"), BUDGET))


def test_topic_policy_lets_exactly_budgets_and_cost_anomaly_detection_publish():
    recording = shipped("prod")
    policy = json.loads(only(recording, TOPIC_POLICY).inputs["policy"])
    topic_arn = "arn:aws:sns:us-east-1:123456789012:ai-platform-prod-cost-alerts"
    principals = [s["Principal"] for s in policy["Statement"]]
    assert principals == [{"Service": "budgets.amazonaws.com"}, {"Service": "costalerts.amazonaws.com"}]
    for statement in policy["Statement"]:
        assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "SNS:Publish", topic_arn)
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert only(recording, TOPIC).inputs["name"] == "ai-platform-prod-cost-alerts"


def test_topic_is_encrypted_with_a_rotating_key_the_publishers_may_use():
    recording = shipped("prod")
    topic, key = only(recording, TOPIC), only(recording, KEY)
    assert topic.property_dependencies["kmsMasterKeyId"] == [key.urn]  # not alias/aws/sns
    assert key.inputs["enableKeyRotation"] is True
    statements = json.loads(key.inputs["policy"])["Statement"]
    publishers = next(s for s in statements if s["Sid"] == "CostAlertPublishersEncrypt")
    assert publishers["Principal"] == {"Service": ["budgets.amazonaws.com", "costalerts.amazonaws.com"]}
    assert publishers["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_finops_key_is_activated_as_a_cost_allocation_tag(stack):
    tags = children(shipped(stack), ALLOCATION_TAG)
    assert sorted(t.inputs["tagKey"] for t in tags) == sorted(required_keys(PREFIX))
    assert {t.inputs["status"] for t in tags} == {"Active"}


def finops_edit(key: str, value: Any) -> ConfigEdit:
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:finops"][key] = value
    return edit


def test_cost_allocation_tags_can_be_left_to_the_payer_account():
    recording = preview("dev", finops_edit("manageCostAllocationTags", False))
    assert children(recording, ALLOCATION_TAG) == []
    assert children(recording, BUDGET)  # the rest stays


def test_one_custom_anomaly_monitor_per_project_on_the_project_tag():
    recording = shipped("prod")
    monitors = {m.inputs["name"]: m.inputs for m in children(recording, MONITOR)}
    assert sorted(monitors) == ["ai-platform-prod-project-atlas", "ai-platform-prod-project-nova"]
    for project in ("project-atlas", "project-nova"):
        monitor = monitors[f"ai-platform-prod-{project}"]
        assert monitor["monitorType"] == "CUSTOM"
        assert json.loads(monitor["monitorSpecification"]) == {
            "Tags": {"Key": "finops.apexlogic.com/project", "Values": [project], "MatchOptions": ["EQUALS"]}}


def test_prod_anomaly_subscription_immediate_to_sns_at_250():
    recording = shipped("prod")
    subscription = only(recording, SUBSCRIPTION)
    assert subscription.inputs["thresholdExpression"] == {"dimension": {
        "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"], "values": ["250"]}}
    assert subscription.inputs["frequency"] == "IMMEDIATE"
    # AWS sends IMMEDIATE alerts through SNS only.
    assert subscription.inputs["subscribers"] == [{"type": "SNS", "address": UNKNOWN}]
    assert subscription.property_dependencies["subscribers"] == [only(recording, TOPIC).urn]
    assert sorted(subscription.property_dependencies["monitorArnLists"]) == sorted(m.urn for m in children(recording, MONITOR))


def test_dev_anomaly_subscription_daily_by_email_at_50():
    subscription = only(shipped("dev"), SUBSCRIPTION).inputs
    assert subscription["thresholdExpression"]["dimension"]["values"] == ["50"]
    assert subscription["frequency"] == "DAILY"
    assert subscription["subscribers"] == [{"type": "EMAIL", "address": "finops@apexlogic.com"}]


def test_anomaly_detection_can_be_turned_off():
    recording = preview("dev", finops_edit("anomalyDetection", {"enabled": False}))
    assert children(recording, MONITOR) == [] and children(recording, SUBSCRIPTION) == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_taggable_finops_resource_carries_every_finops_tag(stack):
    recording = shipped(stack)
    taggable = [r for t in (BUDGET, TOPIC, KEY, MONITOR, SUBSCRIPTION) for r in children(recording, t)]
    assert len(taggable) >= 5
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert all(tags.get(key) for key in required_keys(PREFIX)), (resource.name, tags)
    nova = budget_of(recording, "project-nova").inputs["tags"]
    assert nova[f"{PREFIX}/project"] == "project-nova" and nova[f"{PREFIX}/environment"] == stack


def test_atlas_budget_carries_atlas_cost_center_and_owner():
    tags = budget_of(shipped("prod"), "project-atlas").inputs["tags"]
    assert (tags[f"{PREFIX}/cost-center"], tags[f"{PREFIX}/owner"]) == ("claims-analytics", "claims-ml-team")


def test_nothing_of_it_in_the_local_stack():
    recording = shipped("local")
    assert not [r for r in recording.resources if r.type in FINOPS_TYPES or r.type == COMPONENT]
    assert "budgetsUsd" not in recording.outputs and "costEstimateUsd" not in recording.outputs


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_outputs_budgets_and_estimate_totals(stack):
    outputs = shipped(stack).outputs
    assert set(outputs["budgetsUsd"]) == {"project-nova"} | ({"project-atlas"} if stack == "prod" else set())
    estimate = outputs["costEstimateUsd"]
    assert set(estimate) == {"basis", "catalogDate", "total", "byProject"}
    assert estimate["total"]["min"] <= estimate["total"]["expected"] <= estimate["total"]["max"]
    assert "costAlertsTopicArn" in outputs
