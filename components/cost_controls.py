"""CostControls: the AWS controls that keep the real bill honest, per project.

- **AWS Budgets**, one per project: COST, MONTHLY, the limit from ``budgets.monthlyLimitsUsd``,
  filtered on the project tag *and* the environment tag (a ``filterExpression`` with ``ands``), so
  dev's budget does not count prod's spend where environments share an account; notifying at
  ACTUAL > 80% and FORECASTED > 100% (configurable) both the alert emails and an SNS topic.
  Budgets are protected in prod (``cfg.protect_critical``).
- **An encrypted SNS topic** for the alerts, with every ``budgets.alertEmails`` address (and any
  ``budgets.alertWebhooks`` HTTPS endpoint) subscribed: IMMEDIATE anomaly alerts go only to SNS, and
  a topic nobody subscribes to delivers to nobody. Each address must confirm its subscription once.
  The topic policy lets exactly two service principals publish: ``budgets.amazonaws.com`` and
  ``costalerts.amazonaws.com`` (Cost Anomaly Detection), each only for this account
  (``aws:SourceAccount``, and for Budgets ``aws:SourceArn``, as the AWS Cost Management guide
  shows). The topic is encrypted with a dedicated customer-managed KMS key, not ``alias/aws/sns``
  (whose policy cannot admit these services); the key lets both services ``kms:GenerateDataKey*``
  and ``kms:Decrypt`` without conditions, since the account scoping sits on the topic policy. In
  prod the key is protected and kept on delete.
- **Cost-allocation tags**, by ``finops.costAllocationTags``: ``off`` (the default: the payer
  account, or the one stack that owns activation, activates the keys); ``report`` (read which
  FinOps keys Billing lists with ``aws.costexplorer.get_tags`` and warn about the rest); or
  ``activate-listed`` (this stack owns activation: it activates only the keys Billing already
  lists, because the provider's read-back fails on a key Billing does not list yet, and keeps
  them active when the stack is destroyed, ``retain_on_delete``, because deactivation is
  account-wide).
- **AWS Cost Anomaly Detection** (its machine-learning model of each monitor's spend): one
  CUSTOM ``AnomalyMonitor`` per project on the project tag (a CUSTOM monitor evaluates its tag
  values in aggregate, so one per project keeps projects apart), and one
  ``AnomalySubscription`` alerting when an anomaly's total impact is at least
  ``finops.anomalyDetection.thresholdUsd``. AWS sends DAILY and WEEKLY alerts by email and
  IMMEDIATE ones only through SNS, so the subscribers follow the configured frequency. Monitors
  never depend on the cost-allocation tags (those may be activated elsewhere, or not yet).

Nothing here exists in the local (kubeconfig) stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Mapping, Sequence, cast

import pulumi
import pulumi_aws as aws

import datetime as dt

from ai_platform_finops.budgets import tag_filter_expression
from ai_platform_finops.tags import FinOpsTags, required_keys

from components.config.finops import AnomalyDetectionConfig, AnomalyFrequency, BudgetsConfig, CostAllocationTagsMode

TYPE = "ai-platform:finops:CostControls"

PUBLISHERS = ("budgets.amazonaws.com", "costalerts.amazonaws.com")
"""The only principals allowed to publish to the alert topic."""
IMPACT_KEY = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
BUDGET_METRIC = "UnblendedCost"
"""What a filterExpression budget sums (a filterExpression requires ``metrics``); the cost-filter form's default."""
LISTED_TAGS_LOOKBACK_DAYS = 90
"""How far back Cost Explorer is asked which tag keys it has seen."""


def limit_text(limit: float) -> str:
    """A budget limit as AWS Budgets takes it: '9000', '1234.5'."""
    return f"{limit:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class CostControlsArgs:
    """CostControls' inputs: budgets, cost allocation tags and anomaly detection of one stack."""

    name_prefix: str
    """Physical-name prefix, unique per stack in an account, e.g. ``ai-platform-prod``."""
    region: str
    """The region of the alert topic and its key."""
    tags: FinOpsTags
    """The stack's tags: the topic, the key and the anomaly subscription carry them."""
    project_tags: Mapping[str, FinOpsTags]
    """Each project's tags, for its budget and anomaly monitor."""
    budgets: BudgetsConfig
    """The stack's ``budgets`` section: monthly limits per project, thresholds, recipients."""
    cost_allocation_tags: CostAllocationTagsMode
    """What to do with the FinOps tag keys in Billing: off, report, activate-listed."""
    anomaly_detection: AnomalyDetectionConfig
    """Cost Anomaly Detection: on or off, frequency and threshold."""
    protect_budgets: bool
    """protect=True on the budgets, and protect plus retain_on_delete on the alert key (prod)."""
    today: dt.date | None = None
    """The end of the window Cost Explorer is asked about (None: today)."""

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
    """The alert key's policy: the account administers it; the two publishers may encrypt with it.

    No condition on the service statements: the services' KMS calls on behalf of an SNS publish are
    not documented to carry ``aws:SourceAccount``, and a condition they do not send would silently
    drop every alert. The topic policy scopes publishing to this account instead.
    """
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
            *({
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
            } for sid, service in (("AWSBudgetsEncrypt", PUBLISHERS[0]), ("AWSCostAnomalyDetectionEncrypt", PUBLISHERS[1]))),
        ],
    })


def endpoint_slug(endpoint: str) -> str:
    """A resource-name suffix for an email address or URL: ``https://h.example.com/x`` -> ``h.example.com-x``."""
    return re.sub(r"[^A-Za-z0-9@._-]+", "-", endpoint.removeprefix("https://")).strip("-")


def listed_tags_window(today: dt.date) -> aws.costexplorer.GetTagsTimePeriodArgsDict:
    """The Cost Explorer time period asked about: the last LISTED_TAGS_LOOKBACK_DAYS days."""
    return {"start": (today - dt.timedelta(days=LISTED_TAGS_LOOKBACK_DAYS)).isoformat(), "end": today.isoformat()}


def budget_filter(tags: FinOpsTags) -> aws.budgets.BudgetFilterExpressionArgsDict:
    """The project's spend in this environment: both tags must match."""
    return cast(aws.budgets.BudgetFilterExpressionArgsDict, tag_filter_expression(
        {tags.key("project"): tags.project, tags.key("environment"): tags.environment}))


def monitor_specification(project_tag_key: str, project: str) -> str:
    """A Cost Explorer Expression selecting one project's tag value (CUSTOM monitor)."""
    return json.dumps({"Tags": {"Key": project_tag_key, "Values": [project], "MatchOptions": ["EQUALS"]}})


class CostControls(pulumi.ComponentResource):
    """Budgets, alerts, cost allocation tags and anomaly detection (see the module docstring). Outputs:"""

    key: aws.kms.Key
    """The KMS key encrypting the alert topic."""
    topic: aws.sns.Topic
    """The SNS topic budgets and anomaly alerts publish to."""
    topic_policy: aws.sns.TopicPolicy
    """Who may publish to the topic: AWS Budgets and Cost Anomaly Detection of this account."""
    budgets: dict[str, aws.budgets.Budget]
    """One monthly cost budget per project, by project name."""
    subscriptions: list[aws.sns.TopicSubscription]
    """The topic's email and HTTPS subscriptions."""
    cost_allocation_tags: list[aws.costexplorer.CostAllocationTag]
    """The activated cost allocation tags (mode 'activate-listed')."""
    unlisted_tag_keys: list[str]
    """FinOps keys Billing does not list yet (modes 'report' and 'activate-listed')."""
    monitors: dict[str, aws.costexplorer.AnomalyMonitor]
    """One Cost Anomaly Detection monitor per project, by project name."""
    subscription: aws.costexplorer.AnomalySubscription | None
    """The anomaly subscription to the topic (None when anomaly detection is off)."""

    def __init__(self, name: str, args: CostControlsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
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
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_budgets, retain_on_delete=args.protect_budgets),
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
        self.topic_arn = arn
        """The topic's ARN, known at preview (built from its parts): for policies that grant publishing to it."""
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
                metrics=BUDGET_METRIC,
                filter_expression=budget_filter(tags),
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

        self.subscriptions = [
            aws.sns.TopicSubscription(
                # Named after the address, so reordering the list replaces nothing (and asks for no new confirmation).
                f"{name}-alerts-{protocol}-{endpoint_slug(endpoint)}", topic=self.topic.arn, protocol=protocol,
                endpoint=endpoint,
                # An unconfirmed email or https subscription cannot be deleted; the provider drops it from state.
                opts=child,
            )
            for protocol, endpoints in (("email", emails), ("https", list(settings.alert_webhooks)))
            for endpoint in endpoints
        ]

        self.cost_allocation_tags = []
        self.unlisted_tag_keys = []
        if args.cost_allocation_tags != CostAllocationTagsMode.OFF:
            window = listed_tags_window(args.today or dt.date.today())
            for key in required_keys(args.tags.prefix):
                listed = aws.costexplorer.get_tags(search_string=key, time_period=window,
                                                   opts=pulumi.InvokeOptions(parent=self)).tags
                if key not in (listed or []):
                    self.unlisted_tag_keys.append(key)
                elif args.cost_allocation_tags == CostAllocationTagsMode.ACTIVATE_LISTED:
                    self.cost_allocation_tags.append(aws.costexplorer.CostAllocationTag(
                        f"{name}-tag-{key.rsplit('/', 1)[-1]}", tag_key=key, status="Active",
                        # Activation is account-wide: destroying this stack must not deactivate it for the others.
                        opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True)))
            if self.unlisted_tag_keys:
                pulumi.log.warn(
                    f"cost-allocation tags: Billing does not list {', '.join(self.unlisted_tag_keys)} yet (a key appears "
                    "about 24 h after spend tagged with it); they are not active, so budgets and Cost Explorer miss "
                    "that spend. Run `pulumi up` again tomorrow"
                    + (" to activate them" if args.cost_allocation_tags == CostAllocationTagsMode.ACTIVATE_LISTED
                       else ", or activate them in the payer account"), self)

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
                    opts=child,
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
