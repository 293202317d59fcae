"""The pricing context every priced resource goes through, and the fixed-rate resources.

:class:`Pricer` holds what the pricing of one stack accumulates (items, notes, the assumptions that
stand in for unknown inputs, the on-demand base, SPOT ranges) and the shared lookups (price tables
by region, EBS rates, a resource's project). The resources billed at a fixed rate are priced here
too: the EKS control plane, hourly resources (NAT gateways, Elastic IPs), EC2 instances, EBS
volumes, KMS keys and the stack-wide usage lines.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence

from .. import catalog, rates
from ..resource_types import LOG_GROUP, NAT_GATEWAY
from ..usage import Usage, setting
from ..values import integer, is_unknown, known_str, mapping, seq, unwrap
from .report import HOURS, CostItem, Figures, SpotRange, cost_line, count_str, rate_str

NOT_MODELLED: dict[str, str] = {
    LOG_GROUP: "CloudWatch Logs storage (ingestion is a usage line)",
    "aws:s3/bucket:Bucket": "S3 requests and transfer (storage is a usage line)",
    "aws:s3/bucketV2:BucketV2": "S3 storage and requests",
    "aws:sns/topic:Topic": "SNS deliveries",
}
"""Types that bill by usage the estimate does not model: named in a closing note."""


class Pricer:
    def __init__(self, *, region: str, project_tag_key: str, default_project: str, spot_fraction: float,
                 as_of: date, data_dir: Path | None, usage: Usage | None = None):
        self.region = region
        self.project_tag_key = project_tag_key
        self.default_project = default_project
        self.spot_fraction = spot_fraction
        self.as_of = as_of
        self.data_dir = data_dir
        self.notes: dict[str, None] = {}
        self.unknowns: dict[str, None] = {}
        self.untagged: list[str] = []
        self.tables: dict[str, catalog.PriceTable | None] = {}
        self.other_regions: set[str] = set()
        self.items: list[CostItem] = []
        self.usage = usage or Usage()
        self.on_demand_base = 0.0
        self.spot: list[SpotRange] = []
        self.namespace_projects: dict[str, str] = {}

    # --- context -----------------------------------------------------------------------------
    def note(self, text: str) -> None:
        self.notes.setdefault(text, None)

    def unknown(self, text: str) -> None:
        """An assumption standing in for a value the engine will only know at apply time."""
        self.note(text)
        self.unknowns.setdefault(text, None)

    def table(self, region: str) -> catalog.PriceTable | None:
        if region not in self.tables:
            table = catalog.price_table(region, self.data_dir) if self.data_dir else catalog.price_table(region)
            if table is None:
                fallback = catalog.price_table(rates.RATES_REGION, self.data_dir) if self.data_dir else catalog.price_table(rates.RATES_REGION)
                if fallback is not None:
                    self.note(
                        f"No price snapshot for region {region}: EC2 prices there are taken from the "
                        f"{fallback.region} snapshot dated {fallback.date}, which may differ. Fetch real ones with "
                        f"`python -m preflight prices refresh --region {region}`."
                    )
                else:
                    self.note(f"No price snapshot for region {region} nor {rates.RATES_REGION}: EC2 instances there are priced at 0.")
                table = fallback
            self.tables[region] = table
        return self.tables[region]

    def resource_region(self, resource: Mapping[str, Any]) -> str:
        region = known_str(mapping(resource.get("inputs")).get("region")) or self.region
        if region != rates.RATES_REGION:
            self.other_regions.add(region)
        return region

    def project(self, resource: Mapping[str, Any], fallback: str | None = None) -> str:
        tags = mapping(mapping(resource.get("inputs")).get("tags"))
        value = known_str(tags.get(self.project_tag_key))
        if value:
            return value
        if fallback:
            return fallback
        self.untagged.append(str(resource.get("name") or resource.get("urn") or "?"))
        return self.default_project

    def add(self, resource: Mapping[str, Any], project: str, figures: Figures, basis: str,
            attributes: Mapping[str, Any] | None = None, lines: Sequence[Mapping[str, Any]] = ()) -> None:
        self.items.append(CostItem(
            urn=str(resource.get("urn") or ""),
            type=str(resource.get("type") or ""),
            name=str(resource.get("name") or ""),
            project=project,
            figures=figures.rounded(),
            basis=basis,
            attributes=dict(attributes or {}),
            lines=tuple(lines),
        ))

    def instance_rate(self, instance_type: str, region: str, spot: bool, what: str) -> tuple[float, str]:
        """USD per node-hour and its explanation."""
        table = self.table(region)
        price = table.price(instance_type) if table is not None else None
        if price is None:
            self.note(f"{what}: instance type {instance_type} is not in the {region} price snapshot: priced at 0.")
            return 0.0, f"{instance_type} (not in the price snapshot) 0 $/h"
        if spot:
            self.note(
                f"SPOT capacity is priced at {rate_str(self.spot_fraction)} x the on-demand price (finops.spotPriceFraction): "
                "an assumption; real spot prices float by instance pool and Availability Zone."
            )
            rate = price * self.spot_fraction
            return rate, f"{instance_type} {rate_str(price)} $/h on-demand x {rate_str(self.spot_fraction)} spot = {rate_str(rate)} $/h"
        return price, f"{instance_type} {rate_str(price)} $/h on-demand"

    def volume_rate(self, volume_type: str | None, what: str) -> tuple[float, str]:
        """USD per GB-month for an EBS volume type, and the type actually priced."""
        if volume_type is None:
            self.note(f"{what}: no EBS volume type given: priced as {rates.DEFAULT_VOLUME_TYPE}.")
            volume_type = rates.DEFAULT_VOLUME_TYPE
        rate = rates.EBS_GB_MONTH.get(volume_type)
        if rate is None:
            self.note(f"{what}: EBS volume type {volume_type} has no rate here: priced at the "
                      f"{rates.DEFAULT_VOLUME_TYPE} rate ({rate_str(rates.EBS_GB_MONTH[rates.DEFAULT_VOLUME_TYPE].usd)} $/GB-month).")
            return rates.EBS_GB_MONTH[rates.DEFAULT_VOLUME_TYPE].usd, f"{volume_type} (at gp3 rate)"
        return rate.usd, volume_type


    # --- fixed-rate resources ----------------------------------------------------------------
    def eks_cluster(self, cluster: Mapping[str, Any]) -> None:
        inputs = mapping(cluster.get("inputs"))
        name = str(cluster.get("name") or "cluster")
        self.resource_region(cluster)
        version_raw = inputs.get("version")
        version = known_str(version_raw)
        support = known_str(mapping(inputs.get("upgradePolicy")).get("supportType"))
        if support is None:
            support = "EXTENDED"
            self.note(f"{name}: no upgradePolicy.supportType: AWS's default, EXTENDED, is assumed.")
        standard, extended = rates.EKS_STANDARD_SUPPORT.usd, rates.EKS_EXTENDED_SUPPORT.usd
        start = datetime.combine(self.as_of, time())
        end = start + timedelta(hours=HOURS)
        extended_hours = 0.0
        if version is None:
            if is_unknown(version_raw):
                self.unknown(f"{name}: Kubernetes version not known at preview: standard support assumed.")
            else:
                self.note(f"{name}: no Kubernetes version (the latest at creation): standard support assumed.")
        else:
            ends = rates.EKS_STANDARD_SUPPORT_END.get(version)
            if ends is None:
                newest = max(rates.EKS_STANDARD_SUPPORT_END, key=_minor)
                oldest = min(rates.EKS_STANDARD_SUPPORT_END, key=_minor)
                if _minor(version) > _minor(newest):
                    self.note(f"{name}: Kubernetes {version} is newer than the lifecycle table (to {newest}): standard support assumed.")
                elif _minor(version) < _minor(oldest) and support == "EXTENDED":
                    extended_hours = float(HOURS)
                    self.note(f"{name}: Kubernetes {version} is older than the lifecycle table: extended support assumed.")
                else:
                    self.note(f"{name}: Kubernetes version {version!r} is not in the lifecycle table: standard support assumed.")
            else:
                boundary = datetime.combine(ends, time())
                if support == "EXTENDED":
                    extended_hours = min(max((end - boundary).total_seconds() / 3600, 0.0), float(HOURS))
                    if extended_hours:
                        self.note(
                            f"{name}: Kubernetes {version} leaves standard support on {ends.isoformat()}; with supportType EXTENDED, "
                            f"{count_str(extended_hours)} of the {HOURS} h from {self.as_of.isoformat()} bill at {rate_str(extended)} $/h "
                            f"(extended support) instead of {rate_str(standard)} $/h."
                        )
                elif start <= boundary <= end:
                    self.note(
                        f"{name}: Kubernetes {version} leaves standard support on {ends.isoformat()}; with supportType STANDARD "
                        "EKS upgrades the control plane then, so extended support is never billed."
                    )
                elif boundary < start:
                    self.note(
                        f"{name}: Kubernetes {version} left standard support on {ends.isoformat()}; with supportType STANDARD "
                        "EKS upgrades the control plane, so it is priced at the standard rate (raise cluster.version)."
                    )
        standard_hours = HOURS - extended_hours
        cost = standard_hours * standard + extended_hours * extended
        if extended_hours:
            basis = (f"EKS control plane, Kubernetes {version}, supportType {support}: {count_str(standard_hours)} h x {rate_str(standard)} $/h "
                     f"+ {count_str(extended_hours)} h x {rate_str(extended)} $/h (extended support)")
        else:
            basis = f"EKS control plane, Kubernetes {version or 'latest'}, supportType {support}: {HOURS} h x {rate_str(standard)} $/h (standard support)"
        self.add(cluster, self.project(cluster), Figures(cost, cost, cost), basis)

    def hourly(self, resource: Mapping[str, Any], rate: rates.Rate, what: str) -> None:
        self.resource_region(resource)
        cost = HOURS * rate.usd
        self.add(resource, self.project(resource), Figures(cost, cost, cost), f"{what}: {HOURS} h x {rate_str(rate.usd)} $/h")

    def instance(self, resource: Mapping[str, Any]) -> None:
        inputs = mapping(resource.get("inputs"))
        name = str(resource.get("name") or "instance")
        region = self.resource_region(resource)
        instance_type = known_str(inputs.get("instanceType"))
        spot = known_str(mapping(inputs.get("instanceMarketOptions")).get("marketType")) == "spot"
        if instance_type is None:
            if is_unknown(inputs.get("instanceType")):
                self.unknown(f"{name}: instance type not known at preview: priced at 0.")
            else:
                self.note(f"{name}: no instance type: priced at 0.")
            rate, text = 0.0, "instance type unknown"
        else:
            rate, text = self.instance_rate(instance_type, region, spot, name)
        cost = HOURS * rate
        if rate and not spot:
            self.on_demand_base += cost
        basis = f"EC2 instance {text} x {HOURS} h"
        volumes = [mapping(inputs.get("rootBlockDevice")), *(mapping(v) for v in seq(inputs.get("ebsBlockDevices")))]
        for volume in volumes:
            size = integer(volume.get("volumeSize"))
            if size is None:
                continue
            per_gb, kind = self.volume_rate(known_str(volume.get("volumeType")), name)
            cost += size * per_gb
            basis += f" + {size} GiB {kind} x {rate_str(per_gb)} $/GB-month"
        if integer(mapping(inputs.get("rootBlockDevice")).get("volumeSize")) is None:
            self.note(f"{name}: root volume size comes from the AMI: not priced.")
        self.add(resource, self.project(resource), Figures(cost, cost, cost), basis)

    def volume(self, resource: Mapping[str, Any]) -> None:
        inputs = mapping(resource.get("inputs"))
        name = str(resource.get("name") or "volume")
        self.resource_region(resource)
        size = integer(inputs.get("size"))
        if size is None:
            if is_unknown(inputs.get("size")):
                self.unknown(f"{name}: EBS volume size not known at preview: priced at 0.")
            else:
                self.note(f"{name}: no EBS volume size (e.g. from a snapshot): priced at 0.")
            size = 0
        kind_raw = known_str(inputs.get("type"))
        if kind_raw is None:
            kind_raw = "gp2"
            self.note(f"{name}: no EBS volume type: priced as gp2, the EC2 API default.")
        per_gb, kind = self.volume_rate(kind_raw, name)
        cost = size * per_gb
        self.add(resource, self.project(resource), Figures(cost, cost, cost),
                 f"EBS volume {size} GiB {kind} x {rate_str(per_gb)} $/GB-month")

    # --- small fixed charges and usage-based lines ------------------------------------------
    def kms_key(self, resource: Mapping[str, Any]) -> None:
        self.resource_region(resource)
        rate = rates.KMS_KEY_MONTH.usd
        self.add(resource, self.project(resource), Figures(rate, rate, rate),
                 f"KMS customer managed key: 1 key-month x {rate_str(rate)} $/key-month",
                 lines=[cost_line("key-months", 1, "key-month", rate)])
        if _true(mapping(resource.get("inputs")).get("enableKeyRotation")):
            self.note(f"KMS keys with automatic rotation cost {rate_str(rate)} $/month more for each rotation, from a year "
                      "after creation: not in the estimate.")

    def usage_line(self, type_: str, name: str, project: str, what: str, quantity: float, unit: str,
                   rate: rates.Rate, key: str) -> None:
        """A stack-wide usage line (no resource of its own): ``quantity`` from ``finops.usage.<key>``."""
        line = cost_line(what, quantity, unit, rate.usd, setting(key), quantity)
        self.add({"urn": f"usage::{name}", "type": type_, "name": name}, project,
                 Figures(line["usd"], line["usd"], line["usd"]),
                 f"{what}: {count_str(quantity)} {unit} a month assumed ({setting(key)}) x {rate_str(rate.usd)} $/{unit}",
                 lines=[line])

    # --- wrap-up -----------------------------------------------------------------------------
    def closing_notes(self, counts: Mapping[str, int]) -> None:
        if self.untagged:
            shown = ", ".join(self.untagged[:5]) + (f" and {len(self.untagged) - 5} more" if len(self.untagged) > 5 else "")
            self.note(f"{len(self.untagged)} priced resource(s) carry no '{self.project_tag_key}' tag and are billed to "
                      f"the stack's project '{self.default_project}': {shown}.")
        if self.other_regions:
            self.note(f"Fixed rates (EKS, NAT gateway, public IPv4, EBS) are {rates.RATES_REGION} rates; "
                      f"they also price resources in {', '.join(sorted(self.other_regions))}.")
        if counts.get(NAT_GATEWAY):
            self.note("Data transfer out of AWS (to the internet, across AZs) is usage-based: not in the estimate.")
        missing: dict[str, int] = {}
        for type_, what in NOT_MODELLED.items():
            if counts.get(type_):
                missing[what] = missing.get(what, 0) + counts[type_]
        if missing:
            listed = "; ".join(f"{what} x{count}" for what, count in missing.items())
            self.note(f"Not in the estimate (usage-based or small fixed charges): {listed}.")


def _true(value: Any) -> bool:
    value = unwrap(value)
    return value is True or value == "true"


def _minor(version: str) -> int:
    try:
        return int(version.split(".")[1])
    except (IndexError, ValueError):
        return -1
