"""FinOps rules on GPU capacity: only allowed instance types, a bounded number of GPUs, and
outside prod, pools that scale to zero, run on SPOT and sleep off-peak."""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from ai_platform_finops import accelerators

from . import aws, compute
from .framework import Check, Setting, environments_setting, finops_framework, resource_rule, stack_rule
from .props import MISSING, UNKNOWN, get, matches_any, short
from .resources import Res, Stack

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

# --- gpu-instance-allowlist ---------------------------------------------------------------------

def _allowlist_check(res: Res, c: Check) -> None:
    allowed = c.config.strings("allowedInstanceTypes")
    found = compute.declared(res)
    for where in found.unknown:
        c.unknown(where)
    types = [t for _, t in found.types]
    if not types and not found.templates and not found.unknown and found.default:
        types = [found.default]  # EKS launches its default type
    bad = list(dict.fromkeys(t for t in types if not matches_any(t, allowed)))
    if bad:
        c.violation(f"{res.label}: instance type(s) {', '.join(bad)} not allowed in this stack "
                    f"({c.settings.environment}); allowed: {', '.join(allowed) or 'none'}")
    if found.attribute_based:
        c.violation(f"{res.label}: {', '.join(found.attribute_based)} lets AWS choose any matching instance type, "
                    "which the allowlist cannot check; name the instance types instead")


GPU_INSTANCE_ALLOWLIST = resource_rule(
    name="gpu-instance-allowlist",
    description="Every EC2 compute path (node groups, instances, spot requests, launch templates and configurations, "
                "Auto Scaling groups with their mixed-instances overrides, EC2 and Spot Fleets) names only the instance "
                "types allowed for this stack; attribute-based selection fails.",
    severity=Severity.HIGH,
    remediation="Pick an allowed instance type for the pool (nodePools[].instanceTypes), or get the type added to "
                "allowedInstanceTypes in the stack's policy config through review. Name instance types explicitly "
                "rather than instanceRequirements.",
    types=list(compute.ALL),
    check=_allowlist_check,
    settings_=(Setting("allowedInstanceTypes", _STRINGS, ["m6i.*", "m7i.*", "g5.xlarge", "g5.2xlarge", "g6.xlarge"],
                       "Allowed instance types (shell patterns such as 'g5.*')."),),
    framework=finops_framework("Policy & Governance"),
    tags=["finops", "gpu"],
)


# --- gpu-capacity-ceiling -----------------------------------------------------------------------

def _ceiling_check(stack: Stack, c: Check) -> None:
    per_pool, per_stack = c.config.num("maxGpusPerPool"), c.config.num("maxGpusPerStack")
    total = 0
    counted: list[str] = []
    for res in stack.of_type(*compute.LAUNCHERS):
        resolved = compute.resolve(stack, res)
        if resolved.uncountable:
            c.violation(f"{res.label}: cannot count its GPUs: {'; '.join(resolved.uncountable)}; name instance "
                        "types the GPU catalog lists", res.urn)
            continue
        if resolved.unknown:
            c.unknown(f"instanceTypes of {res.label}" if res.type == aws.NODE_GROUP
                      else f"the instance types of {res.label} ({', '.join(resolved.unknown)})", res.urn)
            continue
        if aws.gpus_per_instance(resolved.types, "max") == 0:
            continue
        where, raw = compute.max_capacity(res)
        if not c.known(raw, f"{where} of {res.label}", res.urn):
            continue
        capacity = aws.size(raw)
        if capacity is None:
            c.violation(f"{res.label}: {where} {short(raw)} is not a node count", res.urn)
            continue
        gpus, instances, kind = compute.max_gpus(res, resolved.types, capacity)
        total += gpus
        counted.append(f"{res.name} {gpus}")
        if gpus > per_pool:
            size = f"{where.rsplit('.', 1)[-1]} {capacity}" if where else "one instance"
            weighted = f" ({instances} instances)" if where and instances != capacity else ""
            unit = accelerators.device_unit(kind)
            c.violation(f"{res.label}: {size}{weighted} x {aws.gpus_per_instance([kind], 'max')} {unit} per instance "
                        f"({', '.join(resolved.types)}) = {gpus} {unit.replace('(s)', 's')}, above the per-pool cap of "
                        f"{per_pool:g}", res.urn)
    if total > per_stack:
        # AnalyzeStack sends resources in no fixed order: name the pools in a stable one.
        c.violation(f"the stack's GPU pools can grow to {total} GPUs ({'; '.join(sorted(counted))}), above the stack cap of "
                    f"{per_stack:g}")


GPU_CAPACITY_CEILING = stack_rule(
    name="gpu-capacity-ceiling",
    description="Per accelerator pool (node group, Auto Scaling group, EC2 or Spot Fleet, instance), its largest size "
                "x accelerators per instance (NVIDIA and AMD GPUs, AWS Neuron devices) stays within the per-pool cap, "
                "and the stack's total within the stack cap; a pool whose accelerators cannot be counted fails.",
    severity=Severity.HIGH,
    remediation="Lower nodePools[].maxSize (or use smaller instances); raise maxGpusPerPool/maxGpusPerStack in the "
                "stack's policy config only with a FinOps approval. Name instance types on the resource (or on a launch "
                "template in the same stack), not through instanceRequirements.",
    check=_ceiling_check,
    settings_=(Setting("maxGpusPerPool", {"type": "number", "minimum": 0}, 8, "GPUs one pool may grow to."),
               Setting("maxGpusPerStack", {"type": "number", "minimum": 0}, 16, "GPUs all pools together may grow to.")),
    framework=finops_framework("Policy & Governance"),
    tags=["finops", "gpu"],
)


# --- outside prod: scale to zero, spot, off-peak schedule ---------------------------------------------

OUTSIDE_PROD = ["dev", "staging", "local"]


def _scale_to_zero_check(res: Res, c: Check) -> None:
    if not aws.is_gpu_pool(res):
        return
    c.applies_in(c.config.strings("environments"))
    min_size = get(res.props, "scalingConfig", "minSize")
    if not c.known(min_size, "scalingConfig.minSize"):
        return
    value = aws.size(min_size)
    if value != 0:
        c.violation(f"{res.label}: GPU pool minSize is {short(min_size) if value is None else value}; outside prod "
                    "GPU pools must scale to zero when idle (minSize 0)")


GPU_POOL_SCALE_TO_ZERO = resource_rule(
    name="gpu-pool-scale-to-zero",
    description="Outside prod, GPU node pools have min size 0 so idle GPUs cost nothing.",
    severity=Severity.MEDIUM,
    remediation="Set nodePools[].minSize: 0 for the GPU pool; the Cluster Autoscaler scales it from zero using the "
                "node-template ASG tags.",
    types=[aws.NODE_GROUP],
    check=_scale_to_zero_check,
    settings_=(environments_setting(OUTSIDE_PROD, "GPU pools must scale to zero"),),
    framework=finops_framework("Usage Optimization"),
    tags=["finops", "gpu"],
)


def _spot_check(res: Res, c: Check) -> None:
    if not aws.is_gpu_pool(res):
        return
    c.applies_in(c.config.strings("environments"))
    capacity = get(res.props, "capacityType")
    if not c.known(capacity, "capacityType"):
        return
    if capacity != "SPOT":
        shown = "ON_DEMAND (the default)" if capacity is MISSING else short(capacity)
        c.violation(f"{res.label}: GPU pool capacityType is {shown}; outside prod GPU pools use SPOT")


GPU_POOL_SPOT = resource_rule(
    name="gpu-pool-spot",
    description="Outside prod, GPU node pools use SPOT capacity.",
    severity=Severity.MEDIUM,
    remediation="Set nodePools[].capacityType: SPOT for the GPU pool (list several similar instance types to "
                "ride out spot interruptions).",
    types=[aws.NODE_GROUP],
    check=_spot_check,
    settings_=(environments_setting(OUTSIDE_PROD, "GPU pools must use SPOT"),),
    framework=finops_framework("Rate Optimization"),
    tags=["finops", "gpu"],
)


def _off_peak_check(stack: Stack, c: Check) -> None:
    c.applies_in(c.config.strings("environments"))
    for ng in stack.of_type(aws.NODE_GROUP):
        if not aws.is_gpu_pool(ng, aws.launch_template_of(stack, ng)):
            continue
        schedules = aws.schedules_of(stack, ng)
        scale_down = False
        unknown = False
        for schedule in schedules:
            values = [get(schedule.props, k) for k in ("maxSize", "desiredCapacity", "minSize")]
            if UNKNOWN in values:
                unknown = True
                continue
            max_size, desired = aws.size(values[0]), aws.size(values[1])
            if max_size == 0 or desired == 0:
                scale_down = True
        if scale_down:
            continue
        if unknown:
            c.unknown(f"the sizes of {ng.label}'s schedules", ng.urn)
            continue
        c.violation(f"{ng.label}: GPU pool has no off-peak scale-down schedule (an aws.autoscaling.Schedule on its "
                    "Auto Scaling group with desiredCapacity/maxSize 0)", ng.urn)


GPU_POOL_OFF_PEAK_SCHEDULE = stack_rule(
    name="gpu-pool-off-peak-schedule",
    description="Outside prod, every GPU node pool has a scheduled scale-down to zero off-peak.",
    severity=Severity.LOW,
    remediation="Set nodePools[].offPeak (scaleDown/scaleUp cron and timeZone) for the GPU pool; the NodePool "
                "component then creates the two aws.autoscaling.Schedule actions.",
    check=_off_peak_check,
    settings_=(environments_setting(OUTSIDE_PROD, "GPU pools need an off-peak schedule"),),
    framework=finops_framework("Usage Optimization"),
    tags=["finops", "gpu"],
)


POLICIES = [GPU_INSTANCE_ALLOWLIST, GPU_CAPACITY_CEILING, GPU_POOL_SCALE_TO_ZERO, GPU_POOL_SPOT,
            GPU_POOL_OFF_PEAK_SCHEDULE]

__all__ = ["POLICIES"]
