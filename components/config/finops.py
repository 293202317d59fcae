"""FinOps settings: the tag contract's values, cost assumptions and the AWS cost controls."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ai_platform_finops.org import governance_prefix_for
from ai_platform_finops.rates import DEFAULT_SPOT_FRACTION
from ai_platform_finops.tags import DEFAULT_PREFIX, dns_subdomain_problem, tag_value_problem
from ai_platform_finops.usage import Usage

from .base import ConfigModel, DnsLabel


class AnomalyFrequency(StrEnum):
    DAILY = "DAILY"
    IMMEDIATE = "IMMEDIATE"
    WEEKLY = "WEEKLY"


class CostAllocationTagsMode(StrEnum):
    """Who activates the FinOps keys as AWS cost-allocation tags (one owner per AWS Organization)."""

    OFF = "off"
    """This stack activates nothing: the payer account, or the one stack that owns activation, does."""
    REPORT = "report"
    """Activate nothing; read which FinOps keys Billing lists and warn about the others (any account)."""
    ACTIVATE_LISTED = "activate-listed"
    """This stack owns activation (run it with payer-account credentials): it activates the FinOps keys
    Billing already lists and keeps them active when the stack is destroyed."""


COST_ALLOCATION_TAGS_CHOICE = (
    "'off' (the default: the payer account or the single owning stack activates the keys), 'report' (create "
    "nothing; warn about FinOps keys Billing does not list yet) or 'activate-listed' (this stack owns activation "
    "and must run in the payer or a standalone account: member accounts get AccessDenied)"
)


class AnomalyDetectionConfig(ConfigModel):
    """AWS Cost Anomaly Detection on the project tag (its ML model watches spend per project)."""

    enabled: bool = True
    """Create a Cost Anomaly Detection monitor and subscription on the project tag."""
    threshold_usd: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 100.0
    """Alert when an anomaly's total impact (ANOMALY_TOTAL_IMPACT_ABSOLUTE) reaches this many USD."""
    frequency: AnomalyFrequency = AnomalyFrequency.DAILY
    """DAILY and WEEKLY alerts go to budgets.alertEmails; IMMEDIATE ones only to the SNS topic (AWS's rule)."""


class UsageAssumptions(ConfigModel):
    """What a preview cannot see, priced as explicit lines of the cost estimate (quantity x unit price)."""

    nat_gb_per_month: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] = 0
    """GB a month the stack's NAT gateways process, all together (0.045 USD/GB in us-east-1)."""
    logs_gb_per_month: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] = 0
    """GB a month ingested into the stack's CloudWatch log groups, all together (0.50 USD/GB, Standard class)."""
    lcu_per_load_balancer: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 0
    """Average LCUs (ALB, 0.008 USD/LCU-hour) or NLCUs (NLB, 0.006 USD/NLCU-hour) each load balancer bills an hour."""
    load_balancer_zones: Annotated[int, Field(ge=1, le=32)] = 2
    """Availability Zones of each internet-facing load balancer: one public IPv4 address (0.005 USD/hour) each."""
    model_bucket_gb_per_project: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] = 0
    """GB each project keeps in its model store bucket (modelStore): weights, reports and old versions, priced at S3
    Standard (0.023 USD/GB-month in us-east-1; lifecycle moves to cheaper classes are not counted)."""
    model_images_gb_per_project: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] = 0
    """GB of images each project keeps in its model image repository (modelStore), at the ECR rate (0.10 USD/GB-month)."""


class FinOpsSettings(ConfigModel):
    tag_prefix: str = DEFAULT_PREFIX
    """The org's FinOps tag and label prefix (a DNS subdomain); the policy pack reads it from here."""
    cost_center: str
    """The cost-center tag value of the stack's own (platform) resources."""
    project: str
    """The FinOps project billed for platform resources; it needs a budget."""
    tier: str
    """The tier tag value (e.g. development, staging, production)."""
    owner: str
    """The owner tag value: the team accountable for the spend."""
    governance_prefix: str | None = None
    """The governance annotation prefix; default governance.<domain of tagPrefix>."""
    spot_price_fraction: Annotated[float, Field(gt=0, le=1)] = DEFAULT_SPOT_FRACTION
    """Spot is modelled as this fraction of on-demand: an assumption every estimate prints."""
    cost_allocation_tags: CostAllocationTagsMode = Field(
        default=CostAllocationTagsMode.OFF,
        description="Activation of the FinOps keys as cost-allocation tags: " + COST_ALLOCATION_TAGS_CHOICE
        + ". Activation is account-wide, so exactly one stack (or the payer) owns it.",
    )
    anomaly_detection: AnomalyDetectionConfig = AnomalyDetectionConfig()
    """AWS Cost Anomaly Detection on the project tag."""
    usage: UsageAssumptions = UsageAssumptions()
    """Usage assumptions the cost estimate prices as explicit lines (0 GB and 0 LCU unless set)."""

    @property
    def usage_assumptions(self) -> "Usage":
        """The estimator's view of :attr:`usage`."""
        return Usage.from_config(self.usage.model_dump(by_alias=True))

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        if isinstance(data, dict) and "manageCostAllocationTags" in data:
            raise ValueError("manageCostAllocationTags is replaced by costAllocationTags: " + COST_ALLOCATION_TAGS_CHOICE)
        return data

    @field_validator("tag_prefix", "governance_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None:
            problem = dns_subdomain_problem(value)
            if problem:
                raise ValueError(problem)
            if len(value) > 116:
                raise ValueError("must be at most 116 characters, so '<prefix>/cost-center' fits AWS's 128")
        return value

    @field_validator("cost_center", "project", "tier", "owner")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        # The same value becomes an AWS tag value and a Kubernetes label value: both must accept it.
        problems = [p for p in (tag_value_problem(value),) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def effective_governance_prefix(self) -> str:
        """``governance.<domain>``: finops.example.com -> governance.example.com."""
        return self.governance_prefix or governance_prefix_for(self.tag_prefix)


class BudgetsConfig(ConfigModel):
    """Monthly AWS Budgets per project, filtered on the FinOps project tag."""

    alert_emails: Annotated[list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]], Field(min_length=1, max_length=10)]
    """AWS Budgets allows 10 email subscribers (plus one SNS topic) per notification."""
    actual_alert_percent: Annotated[float, Field(gt=0, le=1000)] = 80
    """Notify when actual spend passes this percentage of the limit."""
    forecast_alert_percent: Annotated[float, Field(gt=0, le=1000)] = 100
    """Notify when forecasted spend passes this percentage of the limit."""
    monthly_limits_usd: dict[DnsLabel, Annotated[float, Field(gt=0, le=10_000_000, allow_inf_nan=False)]] = {}
    """Per project, in USD a month."""
    alert_webhooks: list[Annotated[str, Field(pattern=r"^https://[^\s/]+(/\S*)?$")]] = Field(
        default=[], max_length=10,
        description="HTTPS endpoints subscribed to the alert topic besides the emails (e.g. a chat webhook); "
                    "each must answer SNS's subscription confirmation.")
