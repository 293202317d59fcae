"""Fixed rates the estimator applies besides the EC2 price snapshot, each with its source.

These prices are per hour or per GB-month in us-east-1 (USD). EC2 instance prices come from
the dated snapshot in ``data/``, not from here. A stack outside us-east-1 gets the same rates,
and the estimate prints an assumption line saying so: NAT and EBS prices differ a little
between regions, and the EKS control-plane price is the same everywhere.

Checked on 2026-11-27 against the sources named on each rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RATES_REGION = "us-east-1"
RATES_CHECKED = "2026-11-27"

HOURS_PER_MONTH = 730
"""Hours in the estimate's month: 8,760 h a year / 12. AWS's pricing calculator and Infracost
use the same figure (infracost ``internal/providers/terraform/aws/eks_node_group.go``)."""

DEFAULT_SPOT_FRACTION = 0.35
"""Spot modelled as 35% of on-demand when the stack does not say (``finops.spotPriceFraction``).
Spot prices float per pool and AZ (AWS quotes "up to 90% off"); every figure that uses this
fraction carries an assumption line."""


@dataclass(frozen=True)
class Rate:
    usd: float
    unit: str
    source: str


EKS_STANDARD_SUPPORT = Rate(
    0.10, "USD per cluster-hour, Kubernetes version in standard support",
    "AWS containers blog, 'Amazon EKS extended support for Kubernetes versions pricing'; "
    "https://aws.amazon.com/eks/pricing/",
)
EKS_EXTENDED_SUPPORT = Rate(
    0.60, "USD per cluster-hour, Kubernetes version in extended support",
    "AWS containers blog, 'Amazon EKS extended support for Kubernetes versions pricing'; "
    "https://aws.amazon.com/eks/pricing/",
)
NAT_GATEWAY_HOUR = Rate(
    0.045, "USD per NAT gateway-hour",
    "AWS VPC pricing, https://aws.amazon.com/vpc/pricing/ (US East (N. Virginia))",
)
NAT_GATEWAY_GB = Rate(
    0.045, "USD per GB processed by a NAT gateway (usage-based: finops.usage.natGbPerMonth)",
    "AWS VPC pricing, https://aws.amazon.com/vpc/pricing/ (US East (N. Virginia)), checked 2026-12-02",
)
PUBLIC_IPV4_HOUR = Rate(
    0.005, "USD per public IPv4 address-hour (Elastic IPs, in use or idle)",
    "AWS News Blog, 'New - AWS Public IPv4 Address Charge + Public IP Insights' (2023-07-28), "
    "in effect since 2024-02-01; https://aws.amazon.com/vpc/pricing/",
)
# --- usage-based and small fixed charges (checked 2026-12-02) ---------------------------------
CLOUDWATCH_LOGS_GB = Rate(
    0.50, "USD per GB ingested into CloudWatch Logs, Standard log class (usage-based: finops.usage.logsGbPerMonth)",
    "Amazon CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/ (US East (N. Virginia), Logs, "
    "Standard: collect (data ingestion) 0.50 $/GB), checked 2026-12-02",
)
ALB_HOUR = Rate(
    0.0225, "USD per Application Load Balancer-hour",
    "Elastic Load Balancing pricing, https://aws.amazon.com/elasticloadbalancing/pricing/ (US East (N. Virginia)), "
    "checked 2026-12-02",
)
ALB_LCU_HOUR = Rate(
    0.008, "USD per LCU-hour of an Application Load Balancer (usage-based: finops.usage.lcuPerLoadBalancer)",
    "Elastic Load Balancing pricing, https://aws.amazon.com/elasticloadbalancing/pricing/ (US East (N. Virginia)), "
    "checked 2026-12-02",
)
NLB_HOUR = Rate(
    0.0225, "USD per Network Load Balancer-hour",
    "Elastic Load Balancing pricing, https://aws.amazon.com/elasticloadbalancing/pricing/ (US East (N. Virginia)), "
    "checked 2026-12-02",
)
NLB_NLCU_HOUR = Rate(
    0.006, "USD per NLCU-hour of a Network Load Balancer (usage-based: finops.usage.lcuPerLoadBalancer)",
    "Elastic Load Balancing pricing, https://aws.amazon.com/elasticloadbalancing/pricing/ (US East (N. Virginia)), "
    "checked 2026-12-02",
)
CLB_HOUR = Rate(
    0.025, "USD per Classic Load Balancer-hour (plus 0.008 $/GB processed, not modelled)",
    "Elastic Load Balancing pricing, https://aws.amazon.com/elasticloadbalancing/pricing/ (US East (N. Virginia)), "
    "checked 2026-12-02",
)
KMS_KEY_MONTH = Rate(
    1.00, "USD per customer managed KMS key-month (prorated hourly; each automatic rotation adds 1 USD/month "
          "from the key's first rotation, a year after creation; requests beyond 20,000/month are extra)",
    "AWS KMS pricing, https://aws.amazon.com/kms/pricing/ ('Each AWS KMS key that you create in KMS costs "
    "$1/month'), checked 2026-12-02",
)
SAVINGS_PLAN_AS_OF = "2026-12-02"
COMPUTE_SAVINGS_PLAN_1YR_NO_UPFRONT = Rate(
    0.28, "fraction off the on-demand price of EC2 Linux usage under a 1-year, no-upfront Compute Savings Plan "
          "(an ASSUMPTION: the real rate is per instance type and region)",
    "AWS Savings Plans pricing, https://aws.amazon.com/savingsplans/compute-pricing/ (per-instance Compute "
    "Savings Plans rates; 'up to 66%' applies to 3-year all-upfront terms, 1-year no-upfront terms save far less). "
    "0.28 is a round planning figure, not a quote; assumed 2026-12-02",
)
# --- storage -------------------------------------------------------------------------------------
EBS_GB_MONTH: dict[str, Rate] = {
    "gp3": Rate(
        0.08, "USD per GB-month of provisioned gp3 storage (baseline 3,000 IOPS / 125 MiB/s included)",
        "Amazon EBS pricing, https://aws.amazon.com/ebs/pricing/ (US East (N. Virginia)); AWS Storage Blog, "
        "'Migrate your Amazon EBS volumes from gp2 to gp3 and save up to 20% on costs'",
    ),
    "gp2": Rate(
        0.10, "USD per GB-month of provisioned gp2 storage",
        "Amazon EBS pricing, https://aws.amazon.com/ebs/pricing/ (US East (N. Virginia))",
    ),
}
S3_STANDARD_GB_MONTH = Rate(
    0.023, "USD per GB-month in S3 Standard, first 50 TB a month (usage-based: finops.usage.modelBucketGbPerProject)",
    "Amazon S3 pricing, https://aws.amazon.com/s3/pricing/ (US East (N. Virginia), S3 Standard, First 50 TB / "
    "Month); the same figure in https://cloudburn.io/blog/amazon-s3-pricing (rates as of March 2026), checked "
    "2026-12-03",
)
ECR_STORAGE_GB_MONTH = Rate(
    0.10, "USD per GB-month of images in private ECR repositories (usage-based: finops.usage.modelImagesGbPerProject; "
          "same-region pulls are free)",
    "Amazon ECR pricing, https://aws.amazon.com/ecr/pricing/ (private repositories, storage); the same figure in "
    "https://cloudburn.io/blog/amazon-ecr-pricing (US East (N. Virginia), as of March 2026), checked 2026-12-03",
)
DEFAULT_VOLUME_TYPE = "gp3"
DEFAULT_NODE_DISK_GIB = 20
"""EKS managed node groups default to 20 GiB for Linux nodes (``aws.eks.NodeGroup`` ``disk_size``)."""
DEFAULT_INSTANCE_TYPE = "t3.medium"
"""What EKS uses for a node group that names no instance type (``aws.eks.NodeGroup`` ``instance_types``)."""

# --- Kubernetes version lifecycle on EKS: when standard support (0.10 $/h) ends --------------
# A minor version gets 14 months of standard support after its EKS release, then 12 months
# of extended support (0.60 $/h), unless the cluster's upgradePolicy.supportType is STANDARD,
# in which case EKS upgrades it at the end of standard support.
EKS_LIFECYCLE_SOURCE = (
    "Amazon EKS user guide, 'Understand the Kubernetes version lifecycle on EKS' "
    "(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), release calendar as "
    "tabulated by https://endoflife.date/amazon-eks, checked 2026-11-27"
)
EKS_STANDARD_SUPPORT_END: dict[str, date] = {
    "1.28": date(2024, 11, 26),
    "1.29": date(2025, 3, 23),
    "1.30": date(2025, 7, 23),
    "1.31": date(2025, 11, 26),
    "1.32": date(2026, 3, 23),
    "1.33": date(2026, 7, 29),
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
}


def all_rates() -> dict[str, Rate]:
    """Every fixed rate by a short name (for docs and the data README)."""
    rates = {
        "eks-standard-support": EKS_STANDARD_SUPPORT,
        "eks-extended-support": EKS_EXTENDED_SUPPORT,
        "nat-gateway-hour": NAT_GATEWAY_HOUR,
        "nat-gateway-gb": NAT_GATEWAY_GB,
        "public-ipv4-hour": PUBLIC_IPV4_HOUR,
        "cloudwatch-logs-gb": CLOUDWATCH_LOGS_GB,
        "alb-hour": ALB_HOUR,
        "alb-lcu-hour": ALB_LCU_HOUR,
        "nlb-hour": NLB_HOUR,
        "nlb-nlcu-hour": NLB_NLCU_HOUR,
        "clb-hour": CLB_HOUR,
        "kms-key-month": KMS_KEY_MONTH,
        "s3-standard-gb-month": S3_STANDARD_GB_MONTH,
        "ecr-storage-gb-month": ECR_STORAGE_GB_MONTH,
        "compute-savings-plan-1yr-no-upfront": COMPUTE_SAVINGS_PLAN_1YR_NO_UPFRONT,
    }
    rates.update({f"ebs-{kind}-gb-month": rate for kind, rate in EBS_GB_MONTH.items()})
    return rates
