"""AWS resources as rules read them: node groups, their launch templates and schedules, tags."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ai_platform_finops import accelerators
from ai_platform_finops.accelerators import GPU_RESOURCE, INSTANCE_TYPE_LABELS
from ai_platform_finops.resource_types import (  # noqa: F401 (re-exported to the rules)
    BUDGET,
    EKS_CLUSTER,
    KMS_KEY,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    SCHEDULE,
)
from ai_platform_finops.values import number, unwrap

from .k8s import K8S_EFFECTS, Taint
from .props import MISSING, UNKNOWN, UNKNOWN_MARKERS, elements, entries, get, string_map, text
from .resources import Res, Stack

CLUSTER = EKS_CLUSTER
ASG_TAG = "aws:autoscaling/tag:Tag"
COST_ALLOCATION_TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"

NVIDIA_AMIS = ("AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "AL2_x86_64_GPU", "BOTTLEROCKET_ARM_64_NVIDIA",
               "AL2023_ARM_64_NVIDIA")
NEURON_AMIS = ("AL2023_x86_64_NEURON",)
ACCELERATOR_AMIS = NVIDIA_AMIS + NEURON_AMIS
"""EKS AMI types with an accelerator's driver (the EKS API's AMI type list); a pool using one is
an accelerator pool whatever its instance types say."""
DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def taggable_types() -> frozenset[str]:
    """AWS resource types that take ``tags`` (generated from pulumi-aws; see tools/)."""
    lines = (DATA / "aws-taggable-types.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


MAX_CONFIG_JSON = 1 << 20
"""Longest provider-config JSON text decoded (bounded parsing)."""


def _unwrapped(value: Any) -> Any:
    """A secret envelope's value (the engine's, kept by a JSON text or a mock), else the value; the
    engine's unknown marker as ``UNKNOWN``."""
    if isinstance(value, Mapping):
        try:
            value = unwrap(value)
        except Exception:  # noqa: BLE001 - a proxy over an unknown envelope: unknown
            return UNKNOWN
    if isinstance(value, str) and value in UNKNOWN_MARKERS:
        return UNKNOWN
    return value


def _plain_value(value: Any) -> Any:
    """A provider-config section in any encoding it reaches a rule in: secret-wrapped, and a JSON
    object given as text (the engine passes provider config values as strings)."""
    value = _unwrapped(value)
    if isinstance(value, str) and value[:1] == "{":
        if len(value) > MAX_CONFIG_JSON:
            return MISSING
        try:
            decoded = json.loads(value)
        except ValueError:
            return MISSING
        return _unwrapped(decoded) if isinstance(decoded, Mapping) else MISSING
    return value


def tag_map(raw: Any) -> tuple[dict[str, str], list[str]]:
    """A tag map as (known tags, keys whose value is unknown), whatever its encoding: an object or
    JSON text, itself or any value secret-wrapped."""
    raw = _plain_value(raw)
    if raw is UNKNOWN:
        return {}, []
    return string_map({key: _unwrapped(value) for key, value in entries(raw)})


def default_tags(provider_props: Mapping[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """The provider's ``defaultTags.tags`` (object or JSON text, secret or not) and the keys whose
    value is unknown. A map unknown as a whole adds nothing: a key it may hold is reported missing."""
    if provider_props is None:
        return {}, []
    section = _plain_value(get(provider_props, "defaultTags"))
    return tag_map(get(section, "tags"))


def effective_tags(res: Res) -> tuple[dict[str, str], list[str], bool]:
    """(tags AWS will apply: the provider's defaultTags under the resource's own, keys whose value is
    unknown, whether the resource's whole tag map is unknown)."""
    tags, unknown = default_tags(res.provider_props)
    raw = _unwrapped(get(res.props, "tags"))
    if raw is UNKNOWN:
        return tags, unknown, True
    own, own_unknown = tag_map(raw) if not elements(raw) else _tag_list(raw)
    tags.update(own)
    unknown = [k for k in unknown if k not in own] + own_unknown
    return tags, unknown, False


def _tag_list(raw: Any) -> tuple[dict[str, str], list[str]]:
    """Tags given as a list of {key, value} (aws:autoscaling/group:Group and friends)."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for item in elements(raw):
        key, value = _unwrapped(get(item, "key")), _unwrapped(get(item, "value"))
        if not isinstance(key, str):
            continue
        if value is UNKNOWN:
            unknown.append(key)
        elif isinstance(value, str):
            known[key] = value
    return known, unknown


def launch_template_of(stack: Stack, node_group: Res) -> Res | None:
    """The launch template a node group uses: the stack index's one link, the estimator's too."""
    return stack.launch_template_of(node_group)


def schedules_of(stack: Stack, node_group: Res) -> list[Res]:
    """Scheduled actions on the node group's Auto Scaling group: the stack index's one link, the
    estimator's too."""
    return stack.schedules_of(node_group)


@dataclass
class Pool:
    res: Res
    instance_types: list[str]
    instance_types_unknown: bool
    min_size: Any
    max_size: Any
    desired_size: Any

    @property
    def label(self) -> str:
        return self.res.label


def instance_types(node_group: Res, launch_template: Res | None) -> tuple[list[str], bool]:
    raw = get(node_group.props, "instanceTypes")
    if raw is UNKNOWN:
        return [], True
    found = [t for t in elements(raw) if isinstance(t, str)]
    unknown = any(t is UNKNOWN for t in elements(raw))
    if not found and launch_template is not None:
        lt_type = get(launch_template.props, "instanceType")
        if lt_type is UNKNOWN:
            return [], True
        if isinstance(lt_type, str):
            found = [lt_type]
    return found, unknown


def pool(node_group: Res, launch_template: Res | None = None) -> Pool:
    types, unknown = instance_types(node_group, launch_template)
    scaling = get(node_group.props, "scalingConfig")
    return Pool(
        res=node_group,
        instance_types=types,
        instance_types_unknown=unknown,
        min_size=get(scaling, "minSize"),
        max_size=get(scaling, "maxSize"),
        desired_size=get(scaling, "desiredSize"),
    )


def node_taints(node_group: Res) -> tuple[list[Taint], bool]:
    """A node group's taints in Kubernetes spelling, and whether some are unknown."""
    raw = get(node_group.props, "taints")
    if raw is UNKNOWN:
        return [], True
    taints: list[Taint] = []
    unknown = False
    for item in elements(raw):
        key, value, effect = get(item, "key"), get(item, "value"), get(item, "effect")
        if UNKNOWN in (item, key, value, effect):
            unknown = True
            continue
        if not isinstance(key, str):
            continue
        effect_text = text(effect) or ""
        taints.append(Taint(key=key, value=text(value) or "", effect=K8S_EFFECTS.get(effect_text, effect_text)))
    return taints, unknown


def is_gpu_pool(node_group: Res, launch_template: Res | None = None, gpu_taint_key: str = GPU_RESOURCE) -> bool:
    """An accelerator pool: instance types with GPUs or Neuron devices, an accelerator AMI (NVIDIA,
    GPU or Neuron), or an accelerator's taint."""
    types, _ = instance_types(node_group, launch_template)
    if any(accelerators.devices_per_instance(t) > 0 for t in types):
        return True
    ami = get(node_group.props, "amiType")
    if isinstance(ami, str) and (ami in ACCELERATOR_AMIS or any(w in ami for w in ("NVIDIA", "GPU", "NEURON"))):
        return True
    taints, _ = node_taints(node_group)
    return any(t.key == gpu_taint_key or t.key in accelerators.TAINT_KEYS for t in taints)


def gpus_per_instance(types: list[str], worst: str = "max") -> int:
    """Accelerator devices (GPUs, Neuron devices) per instance over a pool's types: the max for
    ceilings, the min for what a pod can count on."""
    counts = [accelerators.devices_per_instance(t) for t in types]
    if not counts:
        return 0
    return max(counts) if worst == "max" else min(counts)


def size(value: Any) -> int | None:
    result = number(value)
    if result is None or result < 0 or not result.is_integer():
        return None
    return int(result)


def node_labels(node_group: Res, types: list[str] | None = None) -> tuple[dict[str, str], bool]:
    """The labels a node group's nodes carry: its own, plus those EKS and the kubelet always set
    (OS, capacity type, and the instance type when the group has exactly one)."""
    raw = get(node_group.props, "labels")
    if raw is UNKNOWN:
        return {}, True
    known, unknown = string_map(raw)
    labels = {"kubernetes.io/os": "linux"}
    capacity = get(node_group.props, "capacityType")
    labels["eks.amazonaws.com/capacityType"] = capacity if isinstance(capacity, str) else "ON_DEMAND"
    if types is not None and len(types) == 1:
        labels[INSTANCE_TYPE_LABELS[0]] = types[0]
    labels.update(known)
    return labels, bool(unknown)

