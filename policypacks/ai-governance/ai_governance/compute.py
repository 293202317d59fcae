"""Every EC2 compute path, as the instance allowlist and the GPU capacity ceiling read it.

A GPU can reach a stack through an EKS node group, a plain instance, a spot instance request, an
Auto Scaling group (its launch template or its mixed-instances overrides), an EC2 Fleet or a Spot
Fleet request, each naming its instance types in its own place (pulumi-aws input names, camelCase):

- ``aws:eks/nodeGroup:NodeGroup``: ``instanceTypes``; none and no launch template means the EKS
  default ``t3.medium`` (CreateNodegroup API reference); else the launch template's.
- ``aws:ec2/instance:Instance``, ``aws:ec2/spotInstanceRequest:SpotInstanceRequest``:
  ``instanceType``, else ``launchTemplate`` (``id``/``name``/``version``).
- ``aws:ec2/launchTemplate:LaunchTemplate``, ``aws:ec2/launchConfiguration:LaunchConfiguration``:
  ``instanceType``; a launch template's ``instanceRequirements`` lets AWS pick any matching type.
- ``aws:autoscaling/group:Group``: ``mixedInstancesPolicy.launchTemplate.overrides[].instanceType``
  (or ``.instanceRequirements``), else the launch template of ``launchTemplate`` or
  ``mixedInstancesPolicy.launchTemplate.launchTemplateSpecification``; sized by ``maxSize``.
- ``aws:ec2/fleet:Fleet``: ``launchTemplateConfigs[].overrides[].instanceType``, else the config's
  launch template; sized by ``targetCapacitySpecification.totalTargetCapacity``.
- ``aws:ec2/spotFleetRequest:SpotFleetRequest``: ``launchSpecifications[].instanceType`` and
  ``launchTemplateConfigs[].overrides[].instanceType``; sized by ``targetCapacity``.

Weights (``weightedCapacity``) make a capacity unit worth more than one instance; an instance of
weight w counts capacity / w times. A type the rules cannot count fails closed: attribute-based
selection (``instanceRequirements``), a launch template outside the stack, and an accelerated
family the GPU catalog does not list.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ai_platform_finops import accelerators
from ai_platform_finops.catalog import price_table
from ai_platform_finops.resource_types import AUTOSCALING_GROUP, EC2_INSTANCE
from ai_platform_finops.values import number

from . import aws
from .props import MISSING, UNKNOWN, elements, get
from .resources import Res, Stack

INSTANCE = EC2_INSTANCE
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
FLEET = "aws:ec2/fleet:Fleet"
SPOT_FLEET_REQUEST = "aws:ec2/spotFleetRequest:SpotFleetRequest"

TEMPLATES = (aws.LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)
"""Types that describe instances without launching any."""
LAUNCHERS = (aws.NODE_GROUP, INSTANCE, SPOT_INSTANCE_REQUEST, AUTOSCALING_GROUP, FLEET, SPOT_FLEET_REQUEST)
"""Types that launch instances (the GPU ceiling counts these)."""
ALL = (*LAUNCHERS, *TEMPLATES)

EKS_DEFAULT_INSTANCE_TYPE = "t3.medium"
"""What EKS launches for a node group naming no instance type, itself or in its launch template."""

ACCELERATED_AMI = re.compile(r"NVIDIA|GPU|NEURON", re.IGNORECASE)
"""EKS AMI types for accelerators: AL2_x86_64_GPU, AL2023_x86_64_NVIDIA, AL2023_x86_64_NEURON,
BOTTLEROCKET_x86_64_NVIDIA, BOTTLEROCKET_ARM_64_NVIDIA, AL2023_ARM_64_NVIDIA and their successors."""

ACCELERATED_FAMILY = re.compile(r"^(p\d|g\d|gr\d|inf\d|trn\d|dl\d|vt\d|f\d)[a-z0-9-]*\.")
"""EC2 families with GPUs or other accelerators (P, G, Inferentia, Trainium, DL, VT, F)."""


@functools.lru_cache(maxsize=1)
def known_types() -> frozenset[str]:
    """Every instance type the vendored us-east-1 price snapshot lists (with its source and date)."""
    table = price_table("us-east-1")
    return frozenset(table.usd_per_hour) if table is not None else frozenset()


@dataclass
class Declared:
    """What one resource says about the instance types it launches or describes."""

    types: list[tuple[str, str]] = field(default_factory=list)
    """(where, type) for every type it names itself."""
    unknown: list[str] = field(default_factory=list)
    """Fields whose value is unknown at preview."""
    attribute_based: list[str] = field(default_factory=list)
    """Fields (instanceRequirements) that let AWS choose the types."""
    templates: list[str] = field(default_factory=list)
    """Fields referring to a launch template for the types it does not name."""
    default: str | None = None
    """The type AWS uses when nothing names one (EKS node groups)."""

    def add_type(self, where: str, value: Any) -> None:
        if value is UNKNOWN:
            self.unknown.append(where)
        elif isinstance(value, str) and value:
            self.types.append((where, value))


def _requirements(declared: Declared, where: str, value: Any) -> None:
    if value is UNKNOWN:
        declared.unknown.append(where)
    elif value is not MISSING:
        declared.attribute_based.append(where)


def _overrides(declared: Declared, where: str, overrides: Any) -> bool:
    """Adds the overrides' types; True when they name every type (no template needed)."""
    if overrides is UNKNOWN:
        declared.unknown.append(where)
        return True
    items = elements(overrides)
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if item is UNKNOWN:
            declared.unknown.append(at)
            continue
        declared.add_type(f"{at}.instanceType", get(item, "instanceType"))
        _requirements(declared, f"{at}.instanceRequirements", get(item, "instanceRequirements"))
    return bool(items)


def declared(res: Res) -> Declared:
    """The instance types ``res`` names, where, and what it leaves to a launch template."""
    found = Declared()
    props = res.props
    if res.type == aws.NODE_GROUP:
        raw = get(props, "instanceTypes")
        if raw is UNKNOWN:
            found.unknown.append("instanceTypes")
            return found
        for index, item in enumerate(elements(raw)):
            found.add_type(f"instanceTypes[{index}]", item)
        if not elements(raw):
            if get(props, "launchTemplate") is not MISSING:
                found.templates.append("launchTemplate")
            found.default = EKS_DEFAULT_INSTANCE_TYPE
    elif res.type in (INSTANCE, SPOT_INSTANCE_REQUEST, *TEMPLATES):
        found.add_type("instanceType", get(props, "instanceType"))
        if res.type == aws.LAUNCH_TEMPLATE:
            _requirements(found, "instanceRequirements", get(props, "instanceRequirements"))
        elif get(props, "instanceType") is MISSING and get(props, "launchTemplate") is not MISSING:
            found.templates.append("launchTemplate")
    elif res.type == AUTOSCALING_GROUP:
        policy = get(props, "mixedInstancesPolicy", "launchTemplate")
        if policy is UNKNOWN:
            found.unknown.append("mixedInstancesPolicy.launchTemplate")
        elif policy is not MISSING:
            where = "mixedInstancesPolicy.launchTemplate"
            if not _overrides(found, f"{where}.overrides", get(policy, "overrides")):
                found.templates.append(f"{where}.launchTemplateSpecification")
        elif get(props, "launchTemplate") is not MISSING:
            found.templates.append("launchTemplate")
        elif get(props, "launchConfiguration") is not MISSING:
            found.templates.append("launchConfiguration")
    elif res.type in (FLEET, SPOT_FLEET_REQUEST):
        if res.type == SPOT_FLEET_REQUEST:
            specs = get(props, "launchSpecifications")
            if specs is UNKNOWN:
                found.unknown.append("launchSpecifications")
            for index, spec in enumerate(elements(specs)):
                found.add_type(f"launchSpecifications[{index}].instanceType", get(spec, "instanceType"))
        configs = get(props, "launchTemplateConfigs")
        if configs is UNKNOWN:
            found.unknown.append("launchTemplateConfigs")
        for index, config in enumerate(elements(configs)):
            where = f"launchTemplateConfigs[{index}]"
            if config is UNKNOWN:
                found.unknown.append(where)
            elif not _overrides(found, f"{where}.overrides", get(config, "overrides")):
                found.templates.append(f"{where}.launchTemplateSpecification")
    return found


# --- resolving types through the stack -------------------------------------------------------------

@dataclass
class Resolved:
    """The instance types a launcher may start, once its launch templates are looked up."""

    types: list[str]
    unknown: list[str]
    """Fields unknown at preview (a note under unknownValues)."""
    uncountable: list[str]
    """Why its types cannot be counted: a violation whatever unknownValues says."""


def templates_of(stack: Stack, res: Res) -> list[Res]:
    """The launch templates (and launch configurations) in the stack that ``res`` depends on: an
    in-stack template's id is unknown at preview, so never by id or name. A node group's is the
    stack index's one link, the one the estimator prices."""
    if res.type == aws.NODE_GROUP:
        template = stack.launch_template_of(res)
        return [template] if template is not None else []
    found: list[Res] = []
    for urn in res.all_dependencies():
        dep = stack.by_urn.get(urn)
        if dep is not None and dep.type in TEMPLATES and dep not in found:
            found.append(dep)
    return found


def resolve(stack: Stack, res: Res) -> Resolved:
    own = declared(res)
    types = [t for _, t in own.types]
    unknown = list(own.unknown)
    uncountable = [f"{where} lets AWS choose the instance types" for where in own.attribute_based]
    if own.templates:
        templates = templates_of(stack, res)
        if not templates:
            uncountable.append(f"its instance types come from a launch template outside this stack "
                               f"({', '.join(own.templates)})")
        for template in templates:
            inner = declared(template)
            types.extend(t for _, t in inner.types)
            unknown.extend(f"{where} of {template.label}" for where in inner.unknown)
            uncountable.extend(f"{where} of {template.label} lets AWS choose the instance types"
                               for where in inner.attribute_based)
    if not types and not unknown and not uncountable and own.default:
        types.append(own.default)
    ami = get(res.props, "amiType") if res.type == aws.NODE_GROUP else MISSING
    accelerated_ami = isinstance(ami, str) and bool(ACCELERATED_AMI.search(ami))
    for t in dict.fromkeys(types):
        if accelerators.countable(t):
            continue
        if ACCELERATED_FAMILY.match(t) or (accelerated_ami and t not in known_types()):
            why = "an accelerated family" if ACCELERATED_FAMILY.match(t) else f"unknown type, AMI type {ami}"
            uncountable.append(f"instance type {t} ({why}) is not in the GPU or Neuron catalog, so its accelerators cannot be counted")
    return Resolved(list(dict.fromkeys(types)), unknown, uncountable)


# --- how many instances a launcher may start ------------------------------------------------------------

def _weights(res: Res) -> dict[str, float]:
    """weightedCapacity per instance type (1 where none is given)."""
    weights: dict[str, float] = {}
    items: list[Any] = []
    if res.type == AUTOSCALING_GROUP:
        items = elements(get(res.props, "mixedInstancesPolicy", "launchTemplate", "overrides"))
    elif res.type in (FLEET, SPOT_FLEET_REQUEST):
        for config in elements(get(res.props, "launchTemplateConfigs")):
            items.extend(elements(get(config, "overrides")))
        items.extend(elements(get(res.props, "launchSpecifications")))
    for item in items:
        kind, weight = get(item, "instanceType"), number(get(item, "weightedCapacity"))
        if isinstance(kind, str) and weight is not None and weight > 0:
            weights[kind] = min(weights.get(kind, weight), weight)
    return weights


SIZE_FIELDS = {
    aws.NODE_GROUP: "scalingConfig.maxSize",
    AUTOSCALING_GROUP: "maxSize",
    FLEET: "targetCapacitySpecification.totalTargetCapacity",
    SPOT_FLEET_REQUEST: "targetCapacity",
}
"""Where each launcher's largest size sits (a plain or spot instance is one instance)."""


def max_capacity(res: Res) -> tuple[str, Any]:
    """(field, value) of the launcher's largest size in capacity units; ('', 1.0) for one instance."""
    where = SIZE_FIELDS.get(res.type)
    if where is None:
        return "", 1.0
    return where, get(res.props, *where.split("."))


def max_gpus(res: Res, types: list[str], capacity: float) -> tuple[int, int, str]:
    """(GPUs, instances, type) at the launcher's worst case: the type whose instances hold the most
    GPUs when ``capacity`` units are filled with it."""
    weights = _weights(res)
    best = (0, 0, "")
    for t in types:
        count = math.ceil(capacity / weights.get(t, 1.0)) if capacity > 0 else 0
        gpus = count * accelerators.devices_per_instance(t)
        if gpus > best[0]:
            best = (gpus, count, t)
    return best
