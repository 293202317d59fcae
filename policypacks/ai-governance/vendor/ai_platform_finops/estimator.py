"""The monthly cost estimate of a stack, from its recorded resources: ONE implementation.

preflight (``python -m preflight preview``: the ``cost`` section, the cost table, the PR comment)
and the ``ai-governance`` policy pack (``cost-within-budget``, ``budget-coverage``) both call
:func:`estimate`. It prices what the program *registers*, not what the config declares, so a
hand edit that adds a node group is priced too. It is pure: no I/O beyond the shipped catalog
(loaded once per process), no clock unless ``as_of`` is left out, no Pulumi import.

Input shape
-----------
An iterable of mappings, one per registered resource, as preflight records them and as the
policy pack must adapt its ``PolicyResource`` objects::

    {
      "urn": "urn:pulumi:prod::ai-platform::...::aws:eks/nodeGroup:NodeGroup::gpu-a10g-ng",
      "type": "aws:eks/nodeGroup:NodeGroup",   # the resource type token
      "name": "gpu-a10g-ng",                   # logical name
      "parent": "urn:...NodePool::gpu-a10g",   # parent URN; "" for none / the stack
      "inputs": {...},                         # ENGINE FORM: camelCase keys ("scalingConfig"),
                                               #   numbers may be floats (2.0), values computed at
                                               #   apply time are the string UNKNOWN
                                               #   (04da6b54-80e4-46f7-96ec-b56ff0331ba9), secrets
                                               #   may be the engine's secret envelope
      "dependencies": ["urn:...", ...],        # every URN the resource depends on
      "property_dependencies": {"launchTemplate": ["urn:..."], ...},
                                               # camelCase input name -> URNs that fed it
    }

Missing keys count as empty; extra keys are ignored; odd types never raise.

What is priced
--------------
- ``aws:eks/nodeGroup:NodeGroup``: instance type = ``instanceTypes[0]`` (Infracost's rule), or the
  linked launch template's ``instanceType``; nodes from ``scalingConfig`` min/desired/max;
  ``capacityType`` SPOT = on-demand x ``spot_fraction`` (an assumption, printed).
- ``aws:ec2/launchTemplate:LaunchTemplate`` linked to node groups: its EBS volumes
  (``blockDeviceMappings[].ebs.volumeSize``/``volumeType``) x the nodes of those groups. Without a
  launch template, the node group's ``diskSize`` (default 20 GiB) is priced on the group itself.
- ``aws:autoscaling/schedule:Schedule`` linked to a node group: scales its node-hours, see
  ``ai_platform_finops.schedules`` for the method.
- ``aws:eks/cluster:Cluster``: 0.10 $/h, or 0.60 $/h for the hours its Kubernetes version spends
  in extended support (only with ``upgradePolicy.supportType`` EXTENDED, AWS's default).
- ``kubernetes:helm.sh/v3:Release`` of a chart listed in ``helm_volumes``: the volumes its
  StatefulSets claim (size x replicas), at the EBS rate of the claim's StorageClass ``parameters.type``
  (the ``kubernetes:storage.k8s.io/v1:StorageClass`` registered beside it; gp3 when it names none, the
  EBS CSI driver's default), billed to the stack's project (a release carries no tags).
- ``aws:ec2/natGateway:NatGateway`` (0.045 $/h), ``aws:ec2/eip:Eip`` (public IPv4, 0.005 $/h),
  plus what a hand edit might add: ``aws:ec2/instance:Instance``, ``aws:ebs/volume:Volume``.
- ``aws:kms/key:Key``: 1 USD a key-month (a small fixed charge, summed in the ``fixed`` section).
- Load balancers wherever declared (``ai_platform_finops.load_balancers``: Services of type
  LoadBalancer, Ingresses, Gateways, Helm release values, ``aws:lb``): hourly, plus capacity units
  and public IPv4 addresses at the usage assumptions.
- Usage lines (``ai_platform_finops.usage``, ``finops.usage.*`` in the stack config): NAT gateway
  data processing per GB (with NAT gateways), CloudWatch Logs ingestion per GB (with log groups).
  Each is an item whose ``lines`` give ``quantity x unit price`` and the setting of the quantity.

Besides the figures, an estimate carries the 24x7 on-demand base (EC2 compute at the minimum
sizes, what a Savings Plan could cover) and, for SPOT pools, the same node-hours at on-demand.

Linking uses the recorded graph, never names (at preview the ASG name a schedule targets is
unknown): a node group's launch template is the ``LaunchTemplate`` among its
``property_dependencies["launchTemplate"]`` (else its dependencies, else the only launch template
beside it under the same parent); a schedule's node group is the ``NodeGroup`` among its
``property_dependencies["autoscalingGroupName"]`` (else its dependencies, else its parent, else the
only node group under the same parent).

Figures
-------
Per resource and per project, in USD for a 730-hour month:

- ``min``: the min size all month (lowered where schedules lower it);
- ``expected``: the desired size, with off-peak hours removed by the schedules;
- ``max``: the max size, schedule-aware.

``min <= expected <= max`` always holds. A resource's project is its ``<prefix>/project`` tag;
without one it is billed to ``default_project`` (the stack's), with an assumption line.
Prices come from the dated snapshot for the resource's region (its ``region`` input, else the
stack's). A region without a snapshot is priced from us-east-1 only with an assumption line
saying so. Every assumption the figures rest on is in :attr:`Estimate.assumptions`.

Cost: linear in the number of resources (one pass to index by URN and parent, one to price).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import catalog, helm_volumes, load_balancers, rates
from .budgets import monthly_limits
from .schedules import AverageSizes, ScalingAction, average_sizes
from .usage import Usage, setting
from .values import UNKNOWN, integer, is_unknown, known_str, mapping, number, seq, unwrap

HOURS = rates.HOURS_PER_MONTH
CURRENCY = "USD"

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SCHEDULE = "aws:autoscaling/schedule:Schedule"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
PRICED_TYPES = (NODE_GROUP, LAUNCH_TEMPLATE, EKS_CLUSTER, NAT_GATEWAY, EIP, EC2_INSTANCE, EBS_VOLUME, KMS_KEY,
                HELM_RELEASE)
READ_TYPES = tuple(dict.fromkeys((*PRICED_TYPES, LOG_GROUP, K8S_NAMESPACE, STORAGE_CLASS, *load_balancers.READ_TYPES)))
"""Every type whose inputs the estimator reads (a caller may leave out the inputs of the others)."""
NAT_PROCESSING = "usage:vpc:NatDataProcessing"
LOGS_INGESTION = "usage:cloudwatch:LogsIngestion"
"""Pseudo types of the stack-wide usage lines (no resource of their own)."""

NOT_MODELLED: dict[str, str] = {
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs storage (ingestion is a usage line)",
    "aws:s3/bucket:Bucket": "S3 storage and requests",
    "aws:s3/bucketV2:BucketV2": "S3 storage and requests",
    "aws:sns/topic:Topic": "SNS deliveries",
}


@dataclass(frozen=True)
class Figures:
    min: float = 0.0
    expected: float = 0.0
    max: float = 0.0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.min + other.min, self.expected + other.expected, self.max + other.max)

    def times(self, factor: float) -> "Figures":
        return Figures(self.min * factor, self.expected * factor, self.max * factor)

    def rounded(self) -> "Figures":
        return Figures(round(self.min, 2), round(self.expected, 2), round(self.max, 2))

    def get(self, basis: str) -> float:
        """``min``, ``expected`` or ``max``."""
        return {"min": self.min, "expected": self.expected, "max": self.max}[basis]

    def as_dict(self) -> dict[str, float]:
        return {"min": self.min, "expected": self.expected, "max": self.max}


@dataclass(frozen=True)
class CostItem:
    urn: str
    type: str
    name: str
    project: str
    figures: Figures
    basis: str
    """How the figures were reached, with every rate, so a reader can recompute them."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """What drives the price (instance type, capacity type, sizes, disk...): a diff names what changed."""
    lines: tuple[Mapping[str, Any], ...] = ()
    """Usage-based and small fixed charges: each ``quantity x unit_price = usd``, with the
    ``setting`` that holds the quantity's assumption (None for a fixed quantity)."""

    @property
    def usage_based(self) -> bool:
        return any(line.get("setting") for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        out = {"urn": self.urn, "type": self.type, "project": self.project, **self.figures.as_dict(), "basis": self.basis}
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        if self.lines:
            out["lines"] = [dict(line) for line in self.lines]
        return out


def _line(what: str, quantity: float, unit: str, unit_price: float, setting_key: str | None = None,
          assumed: float | None = None) -> dict[str, Any]:
    """One priced component: ``quantity`` ``unit`` x ``unit_price`` USD a month."""
    return {"what": what, "quantity": round(quantity, 4), "unit": unit, "unit_price": unit_price,
            "usd": round(quantity * unit_price, 2), "setting": setting_key, "assumed": assumed}


@dataclass(frozen=True)
class SpotRange:
    urn: str
    name: str
    project: str
    spot: Figures
    on_demand: Figures
    """The same node-hours at the on-demand price: what the pool costs when it falls back to on-demand."""


@dataclass(frozen=True)
class CatalogInfo:
    source: str
    date: str
    region: str


@dataclass
class Estimate:
    catalog: CatalogInfo
    items: list[CostItem] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    """The assumptions that stand in for an input unknown at preview (also in ``assumptions``): a gate
    that must fail closed can treat a non-empty list as "cannot verify"."""
    hours_per_month: int = HOURS
    currency: str = CURRENCY
    on_demand_base: float = 0.0
    """EC2 compute billed on-demand 24x7 at the minimum sizes: what a Savings Plan could cover."""
    spot: list[SpotRange] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    @property
    def total(self) -> Figures:
        total = Figures()
        for item in self.items:
            total = total + item.figures
        return total.rounded()

    def by_project(self) -> dict[str, Figures]:
        out: dict[str, Figures] = {}
        for item in self.items:
            out[item.project] = out.get(item.project, Figures()) + item.figures
        return {p: f.rounded() for p, f in sorted(out.items())}

    def top_items(self, count: int = 3, basis: str = "expected", project: str | None = None) -> list[CostItem]:
        chosen = [i for i in self.items if project is None or i.project == project]
        return sorted(chosen, key=lambda i: -i.figures.get(basis))[:count]

    def section(self, budgets: Mapping[str, float] | None = None) -> dict[str, Any]:
        """The ``cost`` section of a preflight/v1 report (``budgets``: monthly USD per project)."""
        budgets = budgets or {}
        projects = self.by_project()
        for name in budgets:
            projects.setdefault(name, Figures())
        return {
            "currency": self.currency,
            "hours_per_month": self.hours_per_month,
            "catalog": {"source": self.catalog.source, "date": self.catalog.date, "region": self.catalog.region},
            "total": self.total.as_dict(),
            "by_project": {
                name: {**projects[name].as_dict(), "budget": budgets.get(name)} for name in sorted(projects)
            },
            "items": [item.as_dict() for item in self.items],
            "assumptions": list(self.assumptions),
            "usage": self.usage_section(),
            "fixed": self.fixed_section(),
            "commitments": self.commitments_section(),
            "spot": [
                {"urn": s.urn, "name": s.name, "project": s.project, "spot": s.spot.rounded().as_dict(),
                 "on_demand": s.on_demand.rounded().as_dict()} for s in self.spot
            ],
        }

    def usage_section(self) -> dict[str, Any]:
        """The usage assumptions and the lines priced from them."""
        return {
            "assumptions": {setting(key): value for key, value in self.usage.as_config().items()},
            "lines": [
                {"urn": i.urn, "type": i.type, "name": i.name, "project": i.project, "usd": i.figures.expected,
                 "lines": [dict(line) for line in i.lines]}
                for i in self.items if i.usage_based
            ],
        }

    def fixed_section(self) -> dict[str, Any]:
        """Small fixed charges summed: KMS keys and public IPv4 addresses (Elastic IPs and load balancers')."""
        keys = [i for i in self.items if i.type == KMS_KEY]
        addresses = 0.0
        for item in self.items:
            if item.type == EIP:
                addresses += 1
            for line in item.lines:
                if line.get("unit") == "IPv4 address-h":
                    addresses += float(line["quantity"]) / HOURS
        key_usd = round(sum(i.figures.expected for i in keys), 2)
        ipv4_usd = round(addresses * HOURS * rates.PUBLIC_IPV4_HOUR.usd, 2)
        return {
            "kms_keys": {"count": len(keys), "unit_price": rates.KMS_KEY_MONTH.usd, "unit": "key-month", "usd": key_usd},
            "public_ipv4": {"count": round(addresses, 4), "unit_price": rates.PUBLIC_IPV4_HOUR.usd, "unit": "address-hour",
                            "hours": HOURS, "usd": ipv4_usd},
            "usd": round(key_usd + ipv4_usd, 2),
        }

    def commitments_section(self) -> dict[str, Any]:
        plan = rates.COMPUTE_SAVINGS_PLAN_1YR_NO_UPFRONT
        base = round(self.on_demand_base, 2)
        return {
            "on_demand_base": base,
            "savings_plan": {"term": "1-year no-upfront Compute Savings Plan", "discount": plan.usd,
                             "as_of": rates.SAVINGS_PLAN_AS_OF, "source": plan.source,
                             "saving": round(base * plan.usd, 2)},
        }


def _g(value: float) -> str:
    """A rate as printed in a basis: 1.006, 0.3521, 0.1."""
    return f"{value:.6g}"


def _n(value: float) -> str:
    """A node count or node-hours figure: up to 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


class _Pricer:
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
                f"SPOT capacity is priced at {_g(self.spot_fraction)} x the on-demand price (finops.spotPriceFraction): "
                "an assumption; real spot prices float by instance pool and Availability Zone."
            )
            rate = price * self.spot_fraction
            return rate, f"{instance_type} {_g(price)} $/h on-demand x {_g(self.spot_fraction)} spot = {_g(rate)} $/h"
        return price, f"{instance_type} {_g(price)} $/h on-demand"

    def volume_rate(self, volume_type: str | None, what: str) -> tuple[float, str]:
        """USD per GB-month for an EBS volume type, and the type actually priced."""
        if volume_type is None:
            self.note(f"{what}: no EBS volume type given: priced as {rates.DEFAULT_VOLUME_TYPE}.")
            volume_type = rates.DEFAULT_VOLUME_TYPE
        rate = rates.EBS_GB_MONTH.get(volume_type)
        if rate is None:
            self.note(f"{what}: EBS volume type {volume_type} has no rate here: priced at the "
                      f"{rates.DEFAULT_VOLUME_TYPE} rate ({_g(rates.EBS_GB_MONTH[rates.DEFAULT_VOLUME_TYPE].usd)} $/GB-month).")
            return rates.EBS_GB_MONTH[rates.DEFAULT_VOLUME_TYPE].usd, f"{volume_type} (at gp3 rate)"
        return rate.usd, volume_type

    # --- node groups ------------------------------------------------------------------------
    def node_group(self, ng: Mapping[str, Any], template: Mapping[str, Any] | None,
                   schedules: Sequence[Mapping[str, Any]]) -> AverageSizes:
        inputs = mapping(ng.get("inputs"))
        name = str(ng.get("name") or "node group")
        region = self.resource_region(ng)
        project = self.project(ng)

        types_raw = inputs.get("instanceTypes")
        types = seq(types_raw)
        unknown_type = is_unknown(types_raw) or any(is_unknown(t) for t in types[:1])
        instance_type = known_str(types[0]) if types else None
        source = "instanceTypes[0]"
        if instance_type is None and not unknown_type and template is not None:
            lt_type = mapping(template.get("inputs")).get("instanceType")
            instance_type = known_str(lt_type)
            unknown_type = is_unknown(lt_type)
            source = "launch template instanceType"
        if instance_type is None and not unknown_type:
            instance_type = rates.DEFAULT_INSTANCE_TYPE
            source = "EKS default"
            self.note(f"{name}: no instance type given: priced as {rates.DEFAULT_INSTANCE_TYPE}, the EKS default.")
        known_types = [t for t in (known_str(x) for x in types) if t]
        if len(known_types) > 1:
            self.note(f"{name}: several instance types {known_types}: priced as the first, {known_types[0]} (as Infracost does).")

        scaling_raw = inputs.get("scalingConfig")
        scaling = mapping(scaling_raw)
        low, high = integer(scaling.get("minSize")), integer(scaling.get("maxSize"))
        desired = integer(scaling.get("desiredSize"))
        if low is None or high is None:
            if is_unknown(scaling_raw) or any(is_unknown(scaling.get(k)) for k in ("minSize", "maxSize")):
                self.unknown(f"{name}: scaling sizes are not known at preview: missing sizes priced as 0 nodes.")
            else:
                self.note(f"{name}: scalingConfig has no usable minSize/maxSize: missing sizes priced as 0 nodes.")
            low, high = low or 0, high or 0
        desired = low if desired is None else desired
        sizes = (low, desired, high)

        actions = []
        for schedule in schedules:
            sched_inputs = mapping(schedule.get("inputs"))
            unknown = [k for k in ("recurrence", "timeZone", "minSize", "maxSize", "desiredCapacity")
                       if is_unknown(sched_inputs.get(k))]
            if "recurrence" in unknown or "timeZone" in unknown:
                self.unknown(f"{name}: schedule {schedule.get('name')}'s {' and '.join(unknown[:2])} not known at "
                             "preview: not applied.")
                continue
            if unknown:
                self.unknown(f"{name}: schedule {schedule.get('name')}'s {', '.join(unknown)} not known at preview: "
                             "left unchanged when it fires.")
            actions.append(_scaling_action(schedule))
        averages = average_sizes(sizes, actions)
        for problem in averages.problems:
            self.note(f"{name}: schedule not modelled ({problem}); its group is priced without it.")
        nodes = Figures(averages.min, averages.desired, averages.max)
        node_hours = nodes.times(HOURS)

        capacity = known_str(inputs.get("capacityType")) or "ON_DEMAND"
        if unknown_type or instance_type is None:
            self.unknown(f"{name}: instance type not known at preview: compute priced at 0.")
            rate, rate_text = 0.0, "instance type unknown at preview"
        else:
            rate, rate_text = self.instance_rate(instance_type, region, capacity == "SPOT", name)
            rate_text += f" ({source}, {capacity})"
        schedule_text = ""
        if schedules and averages.cycle != "always":
            zones = sorted({a.time_zone for a in actions})
            schedule_text = (
                f"; {len(schedules)} schedule(s) ({averages.cycle}ly cycle, {', '.join(zones)}): "
                f"at zero {averages.zero_fraction:.1%} of the time, average nodes "
                f"{_n(nodes.min)} / {_n(nodes.expected)} / {_n(nodes.max)}"
            )
        basis = (
            f"{rate_text} x node-hours/month min {_n(node_hours.min)} / expected {_n(node_hours.expected)} / "
            f"max {_n(node_hours.max)} (nodes {low} / {desired} / {high} x {HOURS} h{schedule_text})"
        )
        figures = node_hours.times(rate)
        attributes: dict[str, Any] = {"instance type": instance_type or "unknown", "capacity type": capacity,
                                      "minSize": low, "desiredSize": desired, "maxSize": high}
        if rate and capacity == "SPOT":
            on_demand = rate / self.spot_fraction
            self.spot.append(SpotRange(str(ng.get("urn") or ""), name, project, figures, node_hours.times(on_demand)))
        elif rate:
            self.on_demand_base += node_hours.min * rate
        if template is None:
            disk = integer(inputs.get("diskSize"))
            if disk is None:
                disk = rates.DEFAULT_NODE_DISK_GIB
                self.note(f"{name}: no launch template and no diskSize: root volume priced at the EKS default "
                          f"{disk} GiB {rates.DEFAULT_VOLUME_TYPE}.")
            else:
                self.note(f"{name}: no launch template: its {disk} GiB diskSize is priced as {rates.DEFAULT_VOLUME_TYPE}.")
            per_gb, _ = self.volume_rate(rates.DEFAULT_VOLUME_TYPE, name)
            per_node = disk * per_gb
            figures = figures + nodes.times(per_node)
            basis += f"; plus root volume {disk} GiB x {_g(per_gb)} $/GB-month = {_g(per_node)} $/node-month x average nodes"
            attributes["disk"] = f"{disk} GiB {rates.DEFAULT_VOLUME_TYPE}"
        self.add(ng, project, figures, basis, attributes)
        return averages

    def launch_template(self, lt: Mapping[str, Any], users: Sequence[tuple[str, str, AverageSizes]]) -> None:
        """Storage of a launch template's volumes x the nodes of the groups that use it."""
        inputs = mapping(lt.get("inputs"))
        name = str(lt.get("name") or "launch template")
        per_node = 0.0
        parts: list[str] = []
        disks: list[str] = []
        mappings = [mapping(m) for m in seq(inputs.get("blockDeviceMappings"))]
        volumes = [mapping(m.get("ebs")) for m in mappings if mapping(m.get("ebs"))]
        if not volumes:
            self.note(f"{name}: no EBS block device: the AMI's root volume is priced as "
                      f"{rates.DEFAULT_NODE_DISK_GIB} GiB {rates.DEFAULT_VOLUME_TYPE}.")
            volumes = [{"volumeSize": rates.DEFAULT_NODE_DISK_GIB, "volumeType": rates.DEFAULT_VOLUME_TYPE}]
        for ebs in volumes:
            size = integer(ebs.get("volumeSize"))
            if size is None:
                size = rates.DEFAULT_NODE_DISK_GIB
                if is_unknown(ebs.get("volumeSize")):
                    self.unknown(f"{name}: a volume size is not known at preview: priced as {size} GiB.")
                else:
                    self.note(f"{name}: a volume size is not given: priced as {size} GiB.")
            per_gb, kind = self.volume_rate(known_str(ebs.get("volumeType")), name)
            per_node += size * per_gb
            parts.append(f"{size} GiB {kind} x {_g(per_gb)} $/GB-month")
            disks.append(f"{size} GiB {kind}")
        nodes = Figures()
        groups: list[str] = []
        project: str | None = None
        for group_name, group_project, averages in users:
            nodes = nodes + Figures(averages.min, averages.desired, averages.max)
            groups.append(group_name)
            project = project or group_project
        basis = (
            f"{' + '.join(parts)} = {_g(round(per_node, 6))} $/node-month x average nodes "
            f"{_n(nodes.min)} / {_n(nodes.expected)} / {_n(nodes.max)} of node group(s) {', '.join(groups)}"
        )
        # Its own project tag first; else the project of the nodes whose volumes these are.
        self.add(lt, self.project(lt, fallback=project), nodes.times(per_node), basis,
                 {"disk": " + ".join(disks), "nodes of": ", ".join(groups)})

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
                            f"{_n(extended_hours)} of the {HOURS} h from {self.as_of.isoformat()} bill at {_g(extended)} $/h "
                            f"(extended support) instead of {_g(standard)} $/h."
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
            basis = (f"EKS control plane, Kubernetes {version}, supportType {support}: {_n(standard_hours)} h x {_g(standard)} $/h "
                     f"+ {_n(extended_hours)} h x {_g(extended)} $/h (extended support)")
        else:
            basis = f"EKS control plane, Kubernetes {version or 'latest'}, supportType {support}: {HOURS} h x {_g(standard)} $/h (standard support)"
        self.add(cluster, self.project(cluster), Figures(cost, cost, cost), basis)

    def hourly(self, resource: Mapping[str, Any], rate: rates.Rate, what: str) -> None:
        self.resource_region(resource)
        cost = HOURS * rate.usd
        self.add(resource, self.project(resource), Figures(cost, cost, cost), f"{what}: {HOURS} h x {_g(rate.usd)} $/h")

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
            basis += f" + {size} GiB {kind} x {_g(per_gb)} $/GB-month"
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
                 f"EBS volume {size} GiB {kind} x {_g(per_gb)} $/GB-month")

    # --- small fixed charges and usage-based lines ------------------------------------------
    def kms_key(self, resource: Mapping[str, Any]) -> None:
        self.resource_region(resource)
        rate = rates.KMS_KEY_MONTH.usd
        self.add(resource, self.project(resource), Figures(rate, rate, rate),
                 f"KMS customer managed key: 1 key-month x {_g(rate)} $/key-month",
                 lines=[_line("key-months", 1, "key-month", rate)])
        if _true(mapping(resource.get("inputs")).get("enableKeyRotation")):
            self.note(f"KMS keys with automatic rotation cost {_g(rate)} $/month more for each rotation, from a year "
                      "after creation: not in the estimate.")

    def k8s_project(self, resource: Mapping[str, Any]) -> str:
        """A Kubernetes resource's project: its FinOps label, else its namespace's, else the stack's."""
        inputs = mapping(resource.get("inputs"))
        metadata = mapping(inputs.get("metadata"))
        label = known_str(mapping(metadata.get("labels")).get(self.project_tag_key))
        if label:
            return label
        namespace = known_str(metadata.get("namespace")) or known_str(inputs.get("namespace"))
        if namespace and namespace in self.namespace_projects:
            return self.namespace_projects[namespace]
        return self.project(resource)

    def load_balancer(self, lb: load_balancers.LoadBalancer) -> None:
        resource = lb.resource
        hourly, unit_rate, unit = {
            load_balancers.ALB: (rates.ALB_HOUR, rates.ALB_LCU_HOUR, "LCU-h"),
            load_balancers.NLB: (rates.NLB_HOUR, rates.NLB_NLCU_HOUR, "NLCU-h"),
        }.get(lb.kind, (rates.CLB_HOUR, None, ""))
        lcu = self.usage.lcu_per_load_balancer
        lines = [_line("load balancer-hours", HOURS, "h", hourly.usd)]
        if unit_rate is not None:
            lines.append(_line(f"{unit.split('-')[0]}s", lcu * HOURS, unit, unit_rate.usd,
                               setting("lcuPerLoadBalancer"), lcu))
        else:
            self.note(f"{resource.get('name')}: a Classic Load Balancer also bills 0.008 $/GB processed: not in the estimate.")
        zones = self.usage.load_balancer_zones if lb.internet_facing else 0
        if zones:
            lines.append(_line("public IPv4 address-hours", zones * HOURS, "IPv4 address-h", rates.PUBLIC_IPV4_HOUR.usd,
                               setting("loadBalancerZones"), zones))
        if lb.note:
            self.note(lb.note)
        cost = sum(line["quantity"] * line["unit_price"] for line in lines)
        scheme = "internet-facing" if lb.internet_facing else "internal"
        basis = f"{lb.kind}, {scheme}, from {lb.what}: " + " + ".join(
            f"{_n(line['quantity'])} {line['unit']} x {_g(line['unit_price'])} $" for line in lines)
        project = self.k8s_project(resource) if str(resource.get("type", "")).startswith("kubernetes:") else self.project(resource)
        self.add(resource, project, Figures(cost, cost, cost), basis,
                 {"load balancer": lb.kind, "scheme": scheme}, lines)

    def usage_line(self, type_: str, name: str, project: str, what: str, quantity: float, unit: str,
                   rate: rates.Rate, key: str) -> None:
        """A stack-wide usage line (no resource of its own): ``quantity`` from ``finops.usage.<key>``."""
        line = _line(what, quantity, unit, rate.usd, setting(key), quantity)
        self.add({"urn": f"usage::{name}", "type": type_, "name": name}, project,
                 Figures(line["usd"], line["usd"], line["usd"]),
                 f"{what}: {_n(quantity)} {unit} a month assumed ({setting(key)}) x {_g(rate.usd)} $/{unit}",
                 lines=[line])

    def release_volumes(self, resource: Mapping[str, Any], volume_types: Mapping[str, str]) -> None:
        """The EBS volumes a chart's StatefulSets claim (helm_volumes), priced like EBS volumes."""
        found = helm_volumes.claims(mapping(resource.get("inputs")))
        if not found:
            return
        name = str(resource.get("name") or "release")
        cost, parts = 0.0, []
        for claim in found:
            kind = volume_types.get(claim.storage_class or "")
            if kind is None:
                self.note(f"{name}: storage class {claim.storage_class or '(cluster default)'} is not among the stack's "
                          f"StorageClasses: its {claim.what} volume is priced as {rates.DEFAULT_VOLUME_TYPE}.")
            per_gb, kind_text = self.volume_rate(kind or rates.DEFAULT_VOLUME_TYPE, name)
            cost += claim.gib * claim.replicas * per_gb
            parts.append(f"{claim.what} {claim.replicas} x {claim.gib:g} GiB {kind_text} x {_g(per_gb)} $/GB-month")
        self.add(resource, self.project(resource, fallback=self.default_project), Figures(cost, cost, cost),
                 "Helm chart volumes: " + " + ".join(parts))

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


def _scaling_action(schedule: Mapping[str, Any]) -> ScalingAction:
    inputs = mapping(schedule.get("inputs"))

    def size(key: str) -> int | None:
        raw = inputs.get(key)
        if raw is None:
            return 0  # the AWS provider's default for an omitted size
        value = integer(raw)
        return None if value is None or value < 0 else value  # -1 (or unknown): unchanged

    return ScalingAction(
        recurrence=known_str(inputs.get("recurrence")) or "",
        time_zone=known_str(inputs.get("timeZone")) or "UTC",
        min_size=size("minSize"),
        max_size=size("maxSize"),
        desired=size("desiredCapacity"),
        name=str(schedule.get("name") or "schedule"),
    )


def _urns(value: Any) -> list[str]:
    return [u for u in seq(value) if isinstance(u, str)]


def estimate(
    resources: Iterable[Mapping[str, Any]],
    *,
    region: str,
    project_tag_key: str,
    default_project: str,
    spot_fraction: float = rates.DEFAULT_SPOT_FRACTION,
    as_of: date | None = None,
    data_dir: Path | None = None,
    usage: Usage | None = None,
) -> Estimate:
    """Price ``resources`` (see the module docstring for their shape) for a 730-hour month.

    ``region``: the stack's region, used where a resource has no ``region`` input.
    ``project_tag_key``: the FinOps project tag, e.g. ``finops.example.com/project``.
    ``default_project``: the project billed for resources without that tag (the stack's).
    ``spot_fraction``: SPOT price as a fraction of on-demand.
    ``as_of``: the first day of the month priced (EKS extended-support hours); default today.
    ``data_dir``: another directory of price snapshots (tests).
    ``usage``: the usage assumptions (``finops.usage``); default: none used (0 GB, 0 LCU, 2 zones).
    """
    pricer = _Pricer(region=region, project_tag_key=project_tag_key, default_project=default_project,
                     spot_fraction=spot_fraction, as_of=as_of or date.today(), data_dir=data_dir, usage=usage)
    by_urn: dict[str, Mapping[str, Any]] = {}
    children: dict[str, list[Mapping[str, Any]]] = {}
    ordered: list[Mapping[str, Any]] = []
    counts: dict[str, int] = {}
    for resource in resources:
        if not isinstance(resource, Mapping):
            continue
        type_ = resource.get("type")
        if not isinstance(type_, str):
            continue
        urn = resource.get("urn")
        if isinstance(urn, str) and urn:
            by_urn[urn] = resource
        parent = resource.get("parent")
        children.setdefault(parent if isinstance(parent, str) else "", []).append(resource)
        ordered.append(resource)
        counts[type_] = counts.get(type_, 0) + 1
        if type_ == K8S_NAMESPACE:
            metadata = mapping(mapping(resource.get("inputs")).get("metadata"))
            ns, label = known_str(metadata.get("name")), known_str(mapping(metadata.get("labels")).get(project_tag_key))
            if ns and label:
                pricer.namespace_projects[ns] = label

    def linked(resource: Mapping[str, Any], prop: str, type_: str) -> Mapping[str, Any] | None:
        candidates = _urns(mapping(resource.get("property_dependencies")).get(prop)) + _urns(resource.get("dependencies"))
        for urn in candidates:
            target = by_urn.get(urn)
            if target is not None and target.get("type") == type_:
                return target
        parent = resource.get("parent")
        parent = parent if isinstance(parent, str) else ""
        if by_urn.get(parent, {}).get("type") == type_:
            return by_urn[parent]
        siblings = [r for r in children.get(parent, []) if r.get("type") == type_] if parent else []
        return siblings[0] if len(siblings) == 1 else None

    # Link schedules to node groups, then price node groups (their launch templates after them).
    schedules_of: dict[int, list[Mapping[str, Any]]] = {}
    for schedule in (r for r in ordered if r.get("type") == SCHEDULE):
        group = linked(schedule, "autoscalingGroupName", NODE_GROUP)
        if group is None:
            pricer.note(f"{schedule.get('name')}: schedule not linked to any node group: not applied.")
            continue
        schedules_of.setdefault(id(group), []).append(schedule)

    # StorageClass name -> EBS volume type, for the volumes Helm charts claim.
    volume_types = {
        name: kind for r in ordered if r.get("type") == STORAGE_CLASS
        for name, kind in [(known_str(mapping(mapping(r.get("inputs")).get("metadata")).get("name")),
                            known_str(mapping(mapping(r.get("inputs")).get("parameters")).get("type")) or "gp3")]
        if name
    }
    template_users: dict[int, list[tuple[str, str, AverageSizes]]] = {}
    templates: dict[int, Mapping[str, Any]] = {}
    for resource in ordered:
        type_ = resource.get("type")
        if type_ == NODE_GROUP:
            template = linked(resource, "launchTemplate", LAUNCH_TEMPLATE)
            averages = pricer.node_group(resource, template, schedules_of.get(id(resource), []))
            if template is not None:
                templates[id(template)] = template
                template_users.setdefault(id(template), []).append(
                    (str(resource.get("name") or ""), pricer.items[-1].project, averages))
        elif type_ == EKS_CLUSTER:
            pricer.eks_cluster(resource)
        elif type_ == NAT_GATEWAY:
            pricer.hourly(resource, rates.NAT_GATEWAY_HOUR, "NAT gateway")
        elif type_ == EIP:
            pricer.hourly(resource, rates.PUBLIC_IPV4_HOUR, "Elastic IP (public IPv4 address)")
        elif type_ == EC2_INSTANCE:
            pricer.instance(resource)
        elif type_ == EBS_VOLUME:
            pricer.volume(resource)
        elif type_ == KMS_KEY:
            pricer.kms_key(resource)
        elif type_ == HELM_RELEASE:
            pricer.release_volumes(resource, volume_types)
    for key, template in templates.items():
        pricer.launch_template(template, template_users[key])
    found, lb_notes = load_balancers.find(ordered)
    for lb in found:
        pricer.load_balancer(lb)
    for text in lb_notes:
        pricer.note(text)
    _usage_lines(pricer, ordered)
    pricer.closing_notes(counts)

    stack_table = pricer.table(region)
    info = CatalogInfo(source=stack_table.source, date=stack_table.date, region=stack_table.region) if stack_table \
        else CatalogInfo(source="", date="", region="")
    method = (
        f"Method: min = min size all month, expected = desired size with off-peak hours removed by the "
        f"schedules, max = max size (schedule-aware); {HOURS} h a month; EC2 on-demand Linux prices from the "
        f"{info.region or 'missing'} snapshot dated {info.date or '-'}; fixed rates from ai_platform_finops.rates "
        f"(checked {rates.RATES_CHECKED})."
    )
    return Estimate(catalog=info, items=pricer.items, assumptions=[method, *pricer.notes], unknowns=list(pricer.unknowns),
                    on_demand_base=pricer.on_demand_base, spot=pricer.spot, usage=pricer.usage)


def _usage_lines(pricer: _Pricer, ordered: Sequence[Mapping[str, Any]]) -> None:
    """The stack-wide usage lines: NAT data processing (with NAT gateways), Logs ingestion (with log groups)."""
    nats = [r for r in ordered if r.get("type") == NAT_GATEWAY]
    if nats:
        pricer.usage_line(NAT_PROCESSING, "nat-gateway-data-processing", pricer.project(nats[0], fallback=pricer.default_project),
                          "NAT gateway data processing", pricer.usage.nat_gb_per_month, "GB", rates.NAT_GATEWAY_GB,
                          "natGbPerMonth")
    logs = [r for r in ordered if r.get("type") == LOG_GROUP]
    if logs:
        pricer.usage_line(LOGS_INGESTION, "cloudwatch-logs-ingestion", pricer.project(logs[0], fallback=pricer.default_project),
                          "CloudWatch Logs ingestion", pricer.usage.logs_gb_per_month, "GB", rates.CLOUDWATCH_LOGS_GB,
                          "logsGbPerMonth")


def estimate_with_budgets(
    resources: Sequence[Mapping[str, Any]],
    **kwargs: Any,
) -> tuple[Estimate, dict[str, float]]:
    """:func:`estimate` plus the monthly budget limits read from the same resources."""
    return estimate(resources, **kwargs), monthly_limits(resources, kwargs["project_tag_key"])


__all__ = [
    "CostItem", "CatalogInfo", "Estimate", "Figures", "PRICED_TYPES", "READ_TYPES", "UNKNOWN", "Usage", "estimate",
    "estimate_with_budgets", "monthly_limits",
]
