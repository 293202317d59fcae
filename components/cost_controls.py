"""CostControls: the AWS controls that keep the real bill honest, per project.

- **AWS Budgets**, one per project: COST, MONTHLY, the limit from ``budgets.monthlyLimitsUsd``,
  filtered on the project's cost-allocation tag (``TagKeyValue`` = ``user:<key>$<project>``),
  notifying at ACTUAL > 80% and FORECASTED > 100% (configurable) both the alert emails and an
  SNS topic. Budgets are protected in prod (``cfg.protect_critical``).
- **An encrypted SNS topic** for the alerts. Its policy lets exactly two service principals
  publish: ``budgets.amazonaws.com`` and ``costalerts.amazonaws.com`` (Cost Anomaly Detection),
  each only for this account. It is encrypted with a dedicated customer-managed KMS key, not
  ``alias/aws/sns``: the AWS-managed key's policy cannot be changed to let these services use
  it, so they could not publish to a topic encrypted with it.
- **Cost-allocation tags**: ``aws.costexplorer.CostAllocationTag`` activates every FinOps key, so
  the budgets' tag filters see spend (off with ``finops.manageCostAllocationTags: false`` where
  the payer account manages them). AWS lists a key only after it has appeared on a bill, which
  can take up to 24 hours after the first tagged resource exists.
- **AWS Cost Anomaly Detection** (its machine-learning model of each monitor's spend): one
  CUSTOM ``AnomalyMonitor`` per project on the project tag (a CUSTOM monitor evaluates its tag
  values in aggregate, so one per project keeps projects apart), and one
  ``AnomalySubscription`` alerting when an anomaly's total impact is at least
  ``finops.anomalyDetection.thresholdUsd``. AWS sends DAILY and WEEKLY alerts by email and
  IMMEDIATE ones only through SNS, so the subscribers follow the configured frequency.

Nothing here exists in the local (kubeconfig) stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from ai_platform_finops.budgets import tag_filter_value
from ai_platform_finops.tags import FinOpsTags, required_keys

from components.config import StackConfig
from components.config.finops import AnomalyDetectionConfig, AnomalyFrequency, BudgetsConfig

PUBLISHERS = ("budgets.amazonaws.com", "costalerts.amazonaws.com")
"""The only principals allowed to publish to the alert topic."""
IMPACT_KEY = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"


def limit_text(limit: float) -> str:
    """A budget limit as AWS Budgets takes it: '9000', '1234.5'."""
    return f"{limit:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class CostControlsArgs:
    name_prefix: str
    """Physical-name prefix, unique per stack in an account, e.g. ``ai-platform-prod``."""
    region: str
    tags: FinOpsTags
    """The stack's tags: the topic, the key and the anomaly subscription carry them."""
    project_tags: Mapping[str, FinOpsTags]
    """Each project's tags, for its budget and anomaly monitor."""
    budgets: BudgetsConfig
    manage_cost_allocation_tags: bool
    anomaly_detection: AnomalyDetectionConfig
    protect_budgets: bool

    @classmethod
    def from_stack(cls, cfg: StackConfig, name_prefix: str) -> "CostControlsArgs":
        if cfg.budgets is None or cfg.is_local:
            raise ValueError("cost controls need an AWS stack with a budgets section")
        projects = {name: cfg.project_tags(name) for name in cfg.budgets.monthly_limits_usd}
        return cls(
            name_prefix=name_prefix,
            region=cfg.region or "us-east-1",
            tags=cfg.tags,
            project_tags=projects,
            budgets=cfg.budgets,
            manage_cost_allocation_tags=cfg.finops.manage_cost_allocation_tags,
            anomaly_detection=cfg.finops.anomaly_detection,
            protect_budgets=cfg.protect_critical,
        )

    @property
    def project_tag_key(self) -> str:
        return self.tags.key("project")


def topic_policy(topic_arn: str, account_id: str, partition: str) -> str:
    """The alert topic's policy: Budgets and Cost Anomaly Detection may publish, for this account only."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSBudgetsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "budgets.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:budgets::{account_id}:*"},
                },
            },
            {
                "Sid": "AWSCostAnomalyDetectionPublish",
                "Effect": "Allow",
                "Principal": {"Service": "costalerts.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    })


def key_policy(account_id: str, partition: str) -> str:
    """The alert key's policy: the account administers it; the two publishers may encrypt with it."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CostAlertPublishersEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": list(PUBLISHERS)},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    })


def monitor_specification(project_tag_key: str, project: str) -> str:
    """A Cost Explorer Expression selecting one project's tag value (CUSTOM monitor)."""
    return json.dumps({"Tags": {"Key": project_tag_key, "Values": [project], "MatchOptions": ["EQUALS"]}})


class CostControls(pulumi.ComponentResource):
    key: aws.kms.Key
    topic: aws.sns.Topic
    topic_policy: aws.sns.TopicPolicy
    budgets: dict[str, aws.budgets.Budget]
    cost_allocation_tags: list[aws.costexplorer.CostAllocationTag]
    monitors: dict[str, aws.costexplorer.AnomalyMonitor]
    subscription: aws.costexplorer.AnomalySubscription | None

    def __init__(self, name: str, args: CostControlsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ai-platform:finops:CostControls", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix
        stack_tags = args.tags.aws_tags()
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        account = identity.account_id

        self.key = aws.kms.Key(
            f"{name}-alerts-key",
            description=f"Encrypts {prefix}'s budget and cost-anomaly alert topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(account, partition).apply(lambda v: key_policy(v[0], v[1])),
            tags=stack_tags,
            opts=child,
        )
        aws.kms.Alias(f"{name}-alerts-key", name=f"alias/{prefix}-cost-alerts", target_key_id=self.key.key_id, opts=child)

        topic_name = f"{prefix}-cost-alerts"
        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            name=topic_name,
            display_name=f"{prefix} cost alerts",
            kms_master_key_id=self.key.arn,
            tags=stack_tags,
            opts=child,
        )
        # The ARN from its parts, so the policy is known at preview (and policies can read it).
        arn = pulumi.Output.all(account, partition).apply(
            lambda v: f"arn:{v[1]}:sns:{args.region}:{v[0]}:{topic_name}")
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-alerts",
            arn=self.topic.arn,
            policy=pulumi.Output.all(arn, account, partition).apply(lambda v: topic_policy(v[0], v[1], v[2])),
            opts=child,
        )

        settings = args.budgets
        emails = list(settings.alert_emails)
        self.budgets = {}
        for project, limit in sorted(settings.monthly_limits_usd.items()):
            tags = args.project_tags.get(project) or args.tags.for_project(project)
            self.budgets[project] = aws.budgets.Budget(
                f"{name}-budget-{project}",
                name=f"{prefix}-{project}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=limit_text(limit),
                limit_unit="USD",
                cost_filters=[{"name": "TagKeyValue", "values": [tag_filter_value(args.project_tag_key, project)]}],
                notifications=[
                    {
                        "notification_type": "ACTUAL",
                        "comparison_operator": "GREATER_THAN",
                        "threshold": settings.actual_alert_percent,
                        "threshold_type": "PERCENTAGE",
                        "subscriber_email_addresses": emails,
                        "subscriber_sns_topic_arns": [self.topic.arn],
                    },
                    {
                        "notification_type": "FORECASTED",
                        "comparison_operator": "GREATER_THAN",
                        "threshold": settings.forecast_alert_percent,
                        "threshold_type": "PERCENTAGE",
                        "subscriber_email_addresses": emails,
                        "subscriber_sns_topic_arns": [self.topic.arn],
                    },
                ],
                tags=tags.aws_tags(),
                # Budgets checks it may publish when the notification is created: policy first.
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect_budgets, depends_on=[self.topic_policy]),
            )

        self.cost_allocation_tags = []
        if args.manage_cost_allocation_tags:
            for key in required_keys(args.tags.prefix):
                self.cost_allocation_tags.append(aws.costexplorer.CostAllocationTag(
                    f"{name}-tag-{key.rsplit('/', 1)[-1]}", tag_key=key, status="Active", opts=child))

        self.monitors = {}
        self.subscription = None
        anomaly = args.anomaly_detection
        if anomaly.enabled:
            for project in sorted(settings.monthly_limits_usd):
                tags = args.project_tags.get(project) or args.tags.for_project(project)
                self.monitors[project] = aws.costexplorer.AnomalyMonitor(
                    f"{name}-anomaly-{project}",
                    name=f"{prefix}-{project}",
                    monitor_type="CUSTOM",
                    monitor_specification=monitor_specification(args.project_tag_key, project),
                    tags=tags.aws_tags(),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.cost_allocation_tags)),
                )
            immediate = anomaly.frequency == AnomalyFrequency.IMMEDIATE
            subscribers: Sequence[aws.costexplorer.AnomalySubscriptionSubscriberArgsDict] = (
                [{"type": "SNS", "address": self.topic.arn}] if immediate
                else [{"type": "EMAIL", "address": email} for email in emails]
            )
            self.subscription = aws.costexplorer.AnomalySubscription(
                f"{name}-anomalies",
                name=f"{prefix}-cost-anomalies",
                frequency=anomaly.frequency.value,
                monitor_arn_lists=[m.arn for m in self.monitors.values()],
                subscribers=list(subscribers),
                threshold_expression={
                    "dimension": {
                        "key": IMPACT_KEY,
                        "match_options": ["GREATER_THAN_OR_EQUAL"],
                        "values": [limit_text(anomaly.threshold_usd)],
                    },
                },
                tags=stack_tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.topic_policy]),
            )

        self.register_outputs({
            "topicArn": self.topic.arn,
            "budgets": {p: b.name for p, b in self.budgets.items()},
        })
