"""Usage assumptions: the quantities a preview cannot see, priced as explicit, settable lines.

NAT data processing, CloudWatch Logs ingestion, load balancer capacity units and the model stores'
storage (S3 and ECR, per project) are billed by use. The estimator prices each as a line ``quantity x unit price`` whose quantity comes from
here, so a reviewer reads "0 GB assumed" and can change it per stack under ``finops.usage`` in
the stack config (the policy pack reads the same keys from the stack config it is given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .values import integer, mapping, number

SETTING_PREFIX = "finops.usage."


@dataclass(frozen=True)
class Usage:
    nat_gb_per_month: float = 0.0
    """GB a month processed by the stack's NAT gateways, all of them together."""
    logs_gb_per_month: float = 0.0
    """GB a month ingested into the stack's CloudWatch log groups, all of them together."""
    lcu_per_load_balancer: float = 0.0
    """Average LCUs (ALB) or NLCUs (NLB) each load balancer bills every hour."""
    load_balancer_zones: int = 2
    """Availability Zones (so public IPv4 addresses) of each internet-facing load balancer."""
    model_bucket_gb_per_project: float = 0.0
    """GB stored a month in each project's model store bucket (weights, reports, old versions)."""
    model_images_gb_per_project: float = 0.0
    """GB stored a month in each project's model image repository (ECR)."""

    @classmethod
    def from_config(cls, value: Any) -> "Usage":
        """From the stack config's ``finops.usage`` object (camelCase keys); bad values keep the default."""
        raw = mapping(value)
        default = cls()

        def amount(key: str, fallback: float) -> float:
            found = number(raw.get(key))
            return found if found is not None and found >= 0 else fallback

        zones = integer(raw.get("loadBalancerZones"))
        return cls(
            nat_gb_per_month=amount("natGbPerMonth", default.nat_gb_per_month),
            logs_gb_per_month=amount("logsGbPerMonth", default.logs_gb_per_month),
            lcu_per_load_balancer=amount("lcuPerLoadBalancer", default.lcu_per_load_balancer),
            load_balancer_zones=zones if zones is not None and zones >= 1 else default.load_balancer_zones,
            model_bucket_gb_per_project=amount("modelBucketGbPerProject", default.model_bucket_gb_per_project),
            model_images_gb_per_project=amount("modelImagesGbPerProject", default.model_images_gb_per_project),
        )

    def as_config(self) -> dict[str, float | int]:
        return {
            "natGbPerMonth": self.nat_gb_per_month,
            "logsGbPerMonth": self.logs_gb_per_month,
            "lcuPerLoadBalancer": self.lcu_per_load_balancer,
            "loadBalancerZones": self.load_balancer_zones,
            "modelBucketGbPerProject": self.model_bucket_gb_per_project,
            "modelImagesGbPerProject": self.model_images_gb_per_project,
        }


def setting(key: str) -> str:
    """``natGbPerMonth`` -> ``finops.usage.natGbPerMonth``: where a reader changes the assumption."""
    return SETTING_PREFIX + key


def usage_of(config: Mapping[str, Any] | None) -> Usage:
    """The ``Usage`` of a stack's ``finops`` config object (None or anything odd: the defaults)."""
    return Usage.from_config(mapping(config).get("usage"))
