"""The monthly cost estimate of a stack, from its recorded resources: the one implementation.

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
  data processing per GB (with NAT gateways), CloudWatch Logs ingestion per GB (with log groups),
  and per project owning an ``aws:s3/bucket:Bucket`` or ``aws:ecr/repository:Repository`` (its
  ``<prefix>/project`` tag), S3 Standard or ECR storage per GB-month.
  Each is an item whose ``lines`` give ``quantity x unit price`` and the setting of the quantity.

Besides the figures, an estimate carries the 24x7 on-demand base (EC2 compute at the minimum
sizes, what a Savings Plan could cover) and, for SPOT pools, the same node-hours at on-demand.

Linking uses the recorded graph, never names or ids (unknown at preview), through
``ai_platform_finops.stack_index``, the index the policy pack uses too: a node group's launch
template (``StackIndex.launch_template_of``) and a schedule's node group
(``StackIndex.node_group_of``).

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

Modules: ``report`` (figures, items, the report sections), ``pricer`` (the pricing context and the
fixed-rate resources), ``node_groups`` (node groups and launch templates), ``kubernetes`` (load
balancers and chart volumes).

Cost: linear in the number of resources (one pass to index by URN and parent, one to price).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .. import load_balancers, rates
from ..budgets import monthly_limits
from ..resource_types import (
    EBS_VOLUME,
    EC2_INSTANCE,
    ECR_REPOSITORY,
    EIP,
    EKS_CLUSTER,
    HELM_RELEASE,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    NAMESPACE,
    NAT_GATEWAY,
    NODE_GROUP,
    S3_BUCKET,
    SCHEDULE,
    STORAGE_CLASS,
)
from ..schedules import AverageSizes
from ..stack_index import StackIndex, mapping_node
from ..usage import Usage
from ..values import UNKNOWN
from . import kubernetes, node_groups
from .pricer import NOT_MODELLED, Pricer
from .report import CURRENCY, HOURS, CatalogInfo, CostItem, Estimate, Figures, SpotRange

K8S_NAMESPACE = NAMESPACE
PRICED_TYPES = (NODE_GROUP, LAUNCH_TEMPLATE, EKS_CLUSTER, NAT_GATEWAY, EIP, EC2_INSTANCE, EBS_VOLUME, KMS_KEY,
                HELM_RELEASE)
READ_TYPES = tuple(dict.fromkeys((*PRICED_TYPES, LOG_GROUP, NAMESPACE, STORAGE_CLASS, S3_BUCKET, ECR_REPOSITORY,
                                  *load_balancers.READ_TYPES)))
"""Every type whose inputs the estimator reads (a caller may leave out the inputs of the others)."""
NAT_PROCESSING = "usage:vpc:NatDataProcessing"
LOGS_INGESTION = "usage:cloudwatch:LogsIngestion"
BUCKET_STORAGE = "usage:s3:ModelBucketStorage"
IMAGE_STORAGE = "usage:ecr:ModelImageStorage"
"""Pseudo types of the usage lines (no resource of their own)."""


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
    pricer = Pricer(region=region, project_tag_key=project_tag_key, default_project=default_project,
                    spot_fraction=spot_fraction, as_of=as_of or date.today(), data_dir=data_dir, usage=usage)
    index = StackIndex(node for node in map(mapping_node, resources) if node is not None)
    ordered = index.resources
    counts: dict[str, int] = {}
    for node in index.nodes:
        counts[node.type] = counts.get(node.type, 0) + 1
    pricer.namespace_projects = kubernetes.namespace_projects(index.of_type(NAMESPACE), project_tag_key)

    # Schedules first: a node group is priced with the schedules that scale it.
    schedules_of: dict[int, list[Mapping[str, Any]]] = {}
    for schedule in index.of_type(SCHEDULE):
        group = index.node_group_of(schedule)
        if group is None:
            pricer.note(f"{schedule.get('name')}: schedule not linked to any node group: not applied.")
            continue
        schedules_of.setdefault(id(group), []).append(schedule)

    volume_types = kubernetes.storage_volume_types(index.of_type(STORAGE_CLASS))
    # A launch template is priced after every node group using it: its volumes x their nodes.
    template_users: dict[int, list[tuple[str, str, AverageSizes]]] = {}
    templates: dict[int, Mapping[str, Any]] = {}
    for resource in ordered:
        type_ = resource.get("type")
        if type_ == NODE_GROUP:
            template = index.launch_template_of(resource)
            averages = node_groups.node_group(pricer, resource, template, schedules_of.get(id(resource), []))
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
            kubernetes.release_volumes(pricer, resource, volume_types)
    for key, template in templates.items():
        node_groups.launch_template(pricer, template, template_users[key])
    found, lb_notes = load_balancers.find(ordered)
    for lb in found:
        kubernetes.load_balancer(pricer, lb)
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


def _usage_lines(pricer: Pricer, ordered: Sequence[Mapping[str, Any]]) -> None:
    """The usage lines: NAT data processing (with NAT gateways), Logs ingestion (with log groups), and per
    project with an S3 bucket or ECR repository, its storage (billed to the project its tag names)."""
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
    storage = ((S3_BUCKET, BUCKET_STORAGE, "model-bucket-storage", "S3 Standard storage",
                pricer.usage.model_bucket_gb_per_project, rates.S3_STANDARD_GB_MONTH, "modelBucketGbPerProject"),
               (ECR_REPOSITORY, IMAGE_STORAGE, "model-image-storage", "ECR image storage",
                pricer.usage.model_images_gb_per_project, rates.ECR_STORAGE_GB_MONTH, "modelImagesGbPerProject"))
    for type_, line_type, name, what, quantity, rate, key in storage:
        # One line per project, however many buckets (or repositories) it has: the assumption is per project.
        projects = dict.fromkeys(pricer.project(r) for r in ordered if r.get("type") == type_)
        for project in projects:
            pricer.usage_line(line_type, f"{name}-{project}", project, what, quantity, "GB", rate, key)


def estimate_with_budgets(
    resources: Sequence[Mapping[str, Any]],
    **kwargs: Any,
) -> tuple[Estimate, dict[str, float]]:
    """:func:`estimate` plus the monthly budget limits read from the same resources."""
    return estimate(resources, **kwargs), monthly_limits(resources, kwargs["project_tag_key"])


__all__ = [
    "BUCKET_STORAGE", "CURRENCY", "CostItem", "CatalogInfo", "IMAGE_STORAGE", "EBS_VOLUME", "EC2_INSTANCE", "EIP", "EKS_CLUSTER", "Estimate", "Figures",
    "HELM_RELEASE", "HOURS", "K8S_NAMESPACE", "KMS_KEY", "LAUNCH_TEMPLATE", "LOG_GROUP", "LOGS_INGESTION",
    "NAT_GATEWAY", "NAT_PROCESSING", "NODE_GROUP", "NOT_MODELLED", "PRICED_TYPES", "READ_TYPES", "SCHEDULE",
    "STORAGE_CLASS", "SpotRange", "UNKNOWN", "Usage", "estimate", "estimate_with_budgets", "monthly_limits",
]
