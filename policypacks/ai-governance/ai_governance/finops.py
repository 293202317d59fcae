"""FinOps rules: tags and labels that make the bill attributable, GPU capacity that stays allowed,
bounded and cheap when idle, and budgets that cover every project's estimate."""

from __future__ import annotations

import os
import re
from typing import Any

from ai_platform_finops import accelerators
from ai_platform_finops.tags import STANDARD_KEYS, required_keys
from pulumi_policy import Severity

from . import aws, compute, k8s
from .common import (
    MISSING,
    PACK_CONFIG,
    UNKNOWN,
    Check,
    Res,
    Setting,
    Stack,
    elements,
    environments_setting,
    finops_framework,
    get,
    matches_any,
    number,
    resource_rule,
    short,
    stack_config_value,
    stack_org_settings,
    stack_rule,
    string_map,
    text,
    to_plain,
)

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
LABEL_VALUE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"


def _key_names(c: Check) -> list[str]:
    return c.config.strings("keys") or list(STANDARD_KEYS)


def _required(c: Check) -> list[str]:
    return [f"{c.settings.tag_prefix}/{name}" for name in _key_names(c)]


def _value_problems(c: Check, key: str, value: str) -> str | None:
    if not value.strip():
        return "is empty"
    pattern = c.config["valuePattern"]
    try:
        if not re.fullmatch(pattern, value):
            return f"{short(value)} does not match {pattern}"
    except re.error:
        return None
    name = key.rsplit("/", 1)[-1]
    allowed = c.config["allowedValues"].get(name) if isinstance(c.config["allowedValues"], dict) else None
    if isinstance(allowed, list) and allowed and value not in allowed:
        return f"{short(value)} is not one of {', '.join(str(a) for a in allowed)}"
    return None


def _check_tag_map(c: Check, tags: dict[str, str], unknown: list[str], where: str) -> list[str]:
    """Problems with one tag map (missing keys, bad values); unknown values are recorded."""
    problems = []
    for key in _required(c):
        if key in unknown:
            c.unknown(f"{where}.{key}")
            continue
        if key not in tags:
            problems.append(f"missing {key}")
            continue
        problem = _value_problems(c, key, tags[key])
        if problem:
            problems.append(f"{key} {problem}")
    return problems


# --- remediation: the stack's FinOps contract ---------------------------------------------------

CONTRACT_FIELDS = {"cost-center": "costCenter", "project": "project", "tier": "tier", "owner": "owner"}
"""Where each FinOps value of the stack's own resources sits in ``<project>:finops`` (the program's
``StackConfig.tags``); the environment is the stack's ``<project>:environment``."""


def contract(c: Check) -> dict[str, str]:
    """The FinOps tags the stack's own resources carry, key -> value, from the stack's config as the
    CLI passes it to the pack; only the keys this rule requires, with values it accepts."""
    values: dict[str, Any] = {name: _finops_stack_setting(key) for name, key in CONTRACT_FIELDS.items()}
    values["environment"] = stack_org_settings().get("environment") or PACK_CONFIG.all().get("environment")
    found: dict[str, str] = {}
    for name in _key_names(c):
        key, value = f"{c.settings.tag_prefix}/{name}", values.get(name)
        if isinstance(value, str) and value and _value_problems(c, key, value) is None:
            found[key] = value
    return found


def _missing(c: Check, present: dict[str, str], unknown: list[str]) -> dict[str, str]:
    """The contract's values for the required keys that are absent (never those unknown at preview)."""
    return {k: v for k, v in contract(c).items() if k not in present and k not in unknown}


def _plain_map(raw: Any) -> dict[str, Any]:
    plain = to_plain(raw)
    return dict(plain) if isinstance(plain, dict) else {}



TAG_SETTINGS = (
    Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix."),
    Setting("valuePattern", {"type": "string"}, LABEL_VALUE_PATTERN,
            "Regular expression every FinOps value must match (default: a valid Kubernetes label value, "
            "since the same values label the cluster's objects)."),
    Setting("allowedValues", {"type": "object"}, {},
            "Optional allowed values per key name, e.g. {\"environment\": [\"dev\", \"staging\", \"prod\"]}."),
    Setting("exemptTypes", _STRINGS, [], "Taggable AWS types this rule skips (shell patterns)."),
    Setting("launchTemplateResourceTypes", _STRINGS, ["instance", "volume"],
            "tagSpecifications a launch template must carry with every FinOps key."),
)


def _tags_check(res: Res, c: Check) -> None:
    if not res.type.startswith("aws:") or res.type not in aws.taggable_types():
        return
    if matches_any(res.type, c.config.strings("exemptTypes")):
        return
    tags, unknown, whole_unknown = aws.effective_tags(res)
    if whole_unknown:
        c.unknown("tags")
    else:
        problems = _check_tag_map(c, tags, unknown, "tags")
        if problems:
            c.violation(f"{res.label}: tags: {'; '.join(problems)}")
    if res.type != aws.LAUNCH_TEMPLATE:
        return
    specs = get(res.props, "tagSpecifications")
    if not c.known(specs, "tagSpecifications"):
        return
    seen: dict[str, Any] = {}
    for index, spec in enumerate(elements(specs)):
        kind = get(spec, "resourceType")
        if kind is UNKNOWN:
            c.unknown(f"tagSpecifications[{index}].resourceType")
            continue
        if isinstance(kind, str):
            seen[kind] = get(spec, "tags")
    for kind in c.config.strings("launchTemplateResourceTypes"):
        if kind not in seen:
            c.violation(f"{res.label}: no tagSpecifications entry for '{kind}': node group tags never reach EC2, "
                        f"so {kind} costs would be unallocated")
            continue
        raw = seen[kind]
        if raw is UNKNOWN:
            c.unknown(f"tagSpecifications[{kind}].tags")
            continue
        spec_tags, spec_unknown = aws.tag_map(raw)
        problems = _check_tag_map(c, spec_tags, spec_unknown, f"tagSpecifications[{kind}].tags")
        if problems:
            c.violation(f"{res.label}: tagSpecifications[{kind}]: {'; '.join(problems)}")


def _tags_fix(res: Res, c: Check) -> dict[str, Any] | None:
    """Adds the contract's value for every missing FinOps tag (a value present but invalid stays for
    a person to fix); tags as a map, or as the Auto Scaling group's list of {key, value}."""
    if not res.type.startswith("aws:") or res.type not in aws.taggable_types():
        return None
    if matches_any(res.type, c.config.strings("exemptTypes")):
        return None
    changes: dict[str, Any] = {}
    tags, unknown, whole_unknown = aws.effective_tags(res)
    missing = {} if whole_unknown else _missing(c, tags, unknown)
    if missing:
        raw = get(res.props, "tags")
        if elements(raw):
            changes["tags"] = [*to_plain(raw), *({"key": k, "value": v, "propagateAtLaunch": True}
                                                 for k, v in missing.items())]
        else:
            changes["tags"] = {**_plain_map(raw), **missing}
    if res.type == aws.LAUNCH_TEMPLATE:
        specs = _tag_specifications_fix(res, c)
        if specs is not None:
            changes["tagSpecifications"] = specs
    return changes or None


def _tag_specifications_fix(res: Res, c: Check) -> list[Any] | None:
    """A launch template's tagSpecifications with the contract's value for every FinOps key missing
    from the required resource types' entries, and an entry for each required type it lacks; None
    when nothing is missing or an unknown resourceType leaves the entries in doubt."""
    specs = get(res.props, "tagSpecifications")
    if specs is UNKNOWN or any(get(spec, "resourceType") is UNKNOWN for spec in elements(specs)):
        return None
    wanted = c.config.strings("launchTemplateResourceTypes")
    fixed: list[Any] = []
    seen: set[str] = set()
    changed = False
    for spec in elements(specs):
        plain = _plain_map(spec)
        kind, raw = get(spec, "resourceType"), get(spec, "tags")
        if isinstance(kind, str) and kind in wanted and raw is not UNKNOWN:
            seen.add(kind)
            present, unknown = aws.tag_map(raw)
            missing = _missing(c, present, unknown)
            if missing:
                plain["tags"] = {**_plain_map(raw), **missing}
                changed = True
        elif isinstance(kind, str):
            seen.add(kind)
        fixed.append(plain)
    full = contract(c)
    for kind in wanted:
        if kind not in seen and full:
            fixed.append({"resourceType": kind, "tags": dict(full)})
            changed = True
    return fixed if changed else None


FINOPS_REQUIRED_TAGS = resource_rule(
    name="finops-required-tags",
    description="Every taggable AWS resource carries every FinOps tag with a valid value; launch templates also "
                "tag the instances and volumes they launch. Remediates: adds a missing tag from the stack's FinOps "
                "config, in tags and in a launch template's tagSpecifications. Severity: high.",
    severity=Severity.HIGH,
    remediation="Build tags from the FinOps tag contract (ai_platform_finops.tags.FinOpsTags.aws_tags) and pass "
                "them to the resource; for launch templates add tag_specifications for 'instance' and 'volume' "
                "(and 'network-interface') with the same tags. Check the value against valuePattern.",
    types=sorted(aws.taggable_types()),
    check=_tags_check,
    fix=_tags_fix,
    settings_=TAG_SETTINGS,
    framework=finops_framework("Allocation"),
    tags=["finops", "tagging"],
)


# --- finops-required-labels ---------------------------------------------------------------------

LABEL_SETTINGS = (
    Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix."),
    Setting("valuePattern", {"type": "string"}, LABEL_VALUE_PATTERN, "Regular expression every label value must match."),
    Setting("allowedValues", {"type": "object"}, {}, "Optional allowed values per key name."),
    Setting("exemptNamespaces", _STRINGS, ["kube-system", "kube-public", "kube-node-lease"],
            "Namespaces (and objects in them) this rule skips."),
)


def _labels_check(res: Res, c: Check) -> None:
    exempt = c.config.strings("exemptNamespaces")
    if res.type == k8s.NAMESPACE:
        name = k8s.name_of(res)
        if isinstance(name, str) and name in exempt:
            return
    else:
        namespace = k8s.namespace_of(res)
        if isinstance(namespace, str) and namespace in exempt:
            return
    targets: list[tuple[str, Any]] = [("metadata.labels", get(res.props, "metadata", "labels"))]
    tpl = k8s.pod_template(res)
    if tpl is not None and tpl.path:
        targets.append((tpl.field("metadata", "labels"), get(tpl.metadata, "labels") if tpl.metadata is not UNKNOWN else UNKNOWN))
    for where, raw in targets:
        if raw is UNKNOWN:
            c.unknown(where)
            continue
        labels, unknown = string_map(raw) if raw is not MISSING else ({}, [])
        problems = _check_tag_map(c, labels, unknown, where)
        if problems:
            c.violation(f"{res.label}: {where}: {'; '.join(problems)}")


def _labels_fix(res: Res, c: Check) -> dict[str, Any] | None:
    """Adds the contract's value for every missing FinOps label, on the object and its pod template."""
    exempt = c.config.strings("exemptNamespaces")
    scope = k8s.name_of(res) if res.type == k8s.NAMESPACE else k8s.namespace_of(res)
    if isinstance(scope, str) and scope in exempt:
        return None
    changes: dict[str, Any] = {}
    metadata = get(res.props, "metadata")
    labels_raw = get(metadata, "labels")
    if metadata is not UNKNOWN and labels_raw is not UNKNOWN:
        labels, unknown = string_map(labels_raw)
        missing = _missing(c, labels, unknown)
        if missing:
            changes["metadata"] = {**_plain_map(metadata), "labels": {**_plain_map(labels_raw), **missing}}
    tpl = k8s.pod_template(res)
    path = k8s.pod_template_path(res.type)
    if tpl is not None and tpl.path and path and tpl.metadata is not UNKNOWN:
        raw = get(tpl.metadata, "labels")
        if raw is not UNKNOWN:
            labels, unknown = string_map(raw)
            missing = _missing(c, labels, unknown)
            spec = _plain_map(get(res.props, path[0]))
            node = spec
            for step in path[1:]:  # down to the template, e.g. spec.jobTemplate.spec.template
                child_ = node.get(step)
                node = node.setdefault(step, {}) if not isinstance(child_, dict) else child_
            if missing and isinstance(node, dict):
                node["metadata"] = {**_plain_map(node.get("metadata")), "labels": {**_plain_map(raw), **missing}}
                changes[path[0]] = spec
    return changes or None


FINOPS_REQUIRED_LABELS = resource_rule(
    name="finops-required-labels",
    description="Namespaces, workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob) and their pod templates "
                "carry every FinOps label with a valid value. Remediates: adds a missing label from the stack's "
                "FinOps config. Severity: medium.",
    severity=Severity.MEDIUM,
    remediation="Label the object and its pod template with FinOpsTags.k8s_labels() (components/metadata.py builds "
                "them); cost tools such as Kubecost/OpenCost allocate by pod labels.",
    types=[k8s.NAMESPACE, *k8s.WORKLOADS],
    check=_labels_check,
    fix=_labels_fix,
    settings_=LABEL_SETTINGS,
    framework=finops_framework("Allocation"),
    tags=["finops", "kubernetes"],
)


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
                "types allowed for this stack; attribute-based selection fails. Severity: high.",
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
                "and the stack's total within the stack cap; a pool whose accelerators cannot be counted fails. "
                "Severity: high.",
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
    description="Outside prod, GPU node pools have min size 0 so idle GPUs cost nothing. Severity: medium.",
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
    description="Outside prod, GPU node pools use SPOT capacity. Severity: medium.",
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
    description="Outside prod, every GPU node pool has a scheduled scale-down to zero off-peak. Severity: low.",
    severity=Severity.LOW,
    remediation="Set nodePools[].offPeak (scaleDown/scaleUp cron and timeZone) for the GPU pool; the NodePool "
                "component then creates the two aws.autoscaling.Schedule actions.",
    check=_off_peak_check,
    settings_=(environments_setting(OUTSIDE_PROD, "GPU pools need an off-peak schedule"),),
    framework=finops_framework("Usage Optimization"),
    tags=["finops", "gpu"],
)


# --- budgets -----------------------------------------------------------------------------------

BILLABLE_TYPES = [
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume",
    "aws:autoscaling/group:Group", "aws:lb/loadBalancer:LoadBalancer", "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:efs/fileSystem:FileSystem",
    "aws:sagemaker/endpoint:Endpoint", "aws:cloudwatch/logGroup:LogGroup", "aws:kms/key:Key",
]


def _plain(res: Res, with_inputs: bool = True) -> dict[str, Any]:
    """A resource in the plain-mapping shape ai_platform_finops documents (urn, type, name, inputs...)."""
    return {
        "urn": res.urn, "type": res.type, "name": res.name, "parent": res.parent_urn,
        "inputs": to_plain(res.props) if with_inputs else {}, "dependencies": sorted(res.all_dependencies()),
        "property_dependencies": {k: list(v) for k, v in res.property_dependencies.items()},
        "options": {"protect": res.protect},
    }


def _project_key(c: Check) -> str:
    return required_keys(c.settings.tag_prefix)[STANDARD_KEYS.index("project")]


def billed_projects(stack: Stack, c: Check, types: list[str]) -> dict[str, list[Res]]:
    key = _project_key(c)
    found: dict[str, list[Res]] = {}
    for res in stack.of_type(*types):
        tags, unknown, whole = aws.effective_tags(res)
        if whole or key in unknown:
            c.unknown(f"the {key} tag of {res.label}", res.urn)
            continue
        project = tags.get(key)
        if project:
            found.setdefault(project, []).append(res)
    return found


def _coverage_check(stack: Stack, c: Check) -> None:
    from ai_platform_finops import budgets as finops_budgets

    projects = billed_projects(stack, c, c.config.strings("billableTypes"))
    if not projects:
        c.not_applicable("no billable AWS resource carries a project tag")
    key = _project_key(c)
    by_project = finops_budgets.budgets_by_project([_plain(b) for b in stack.of_type(aws.BUDGET)], key)
    for project, resources in sorted(projects.items()):
        budgets = by_project.get(project, [])
        example = resources[0]
        if not budgets:
            c.violation(f"project '{project}' ({len(resources)} billable resource(s), e.g. {example.label}) has no "
                        f"COST budget filtered on TagKeyValue user:{key}${project} (USAGE, RI and Savings Plans "
                        "budgets do not cover spend)")
            continue
        if not any(b.subscribers > 0 for b in budgets):
            c.violation(f"project '{project}': budget(s) {', '.join(b.name for b in budgets)} notify nobody; add an "
                        "email or SNS subscriber to a notification", budgets[0].urn)


BUDGET_COVERAGE = stack_rule(
    name="budget-coverage",
    description="Every project found on a billable resource has a COST budget filtered on that project's tag, with "
                "at least one notification subscriber. Severity: high.",
    severity=Severity.HIGH,
    remediation="Add the project to budgets.monthlyLimitsUsd in the stack config (the Budgets component creates a "
                "COST/MONTHLY budget with a TagKeyValue filter and ACTUAL/FORECASTED notifications) and list at "
                "least one budgets.alertEmails address.",
    check=_coverage_check,
    settings_=(Setting("billableTypes", _STRINGS, BILLABLE_TYPES, "AWS types whose project tag needs a budget."),),
    framework=finops_framework("Budgeting"),
    tags=["finops", "budgets"],
)


def _stack_region(stack: Stack) -> str:
    """The region resources are priced in: the EKS cluster's provider, else aws:region, else us-east-1."""
    for res in stack.of_type(aws.CLUSTER, aws.NODE_GROUP):
        region = get(res.provider_props, "region") if res.provider_props is not None else MISSING
        if isinstance(region, str) and region:
            return region
    region = stack_config_value("aws:region")
    return region if isinstance(region, str) and region else "us-east-1"


def _finops_stack_setting(name: str) -> Any:
    """A value of the stack's own ``<project>:finops`` config (the CLI passes stack config to packs)."""
    finops = stack_config_value(f"{os.environ.get('PULUMI_PROJECT', '')}:finops")
    return finops.get(name) if isinstance(finops, dict) else None


def _cost_check(stack: Stack, c: Check) -> None:
    from ai_platform_finops import budgets as finops_budgets
    from ai_platform_finops import estimator
    from ai_platform_finops.usage import Usage

    basis = c.config["basis"]
    # Only what the estimator reads carries its inputs: priced types, their schedules, budgets.
    read = {*estimator.READ_TYPES, aws.SCHEDULE, aws.BUDGET}
    plain = [_plain(r, r.type in read) for r in stack.resources]
    if not any(p["type"] in estimator.PRICED_TYPES for p in plain):
        c.not_applicable("the stack has no priced AWS resource")
    key = _project_key(c)
    spot = c.config.num("spotFraction") or number(_finops_stack_setting("spotPriceFraction")) or 0.35
    default_project = c.config["defaultProject"] or text(_finops_stack_setting("project")) or "unallocated"
    # The stack's usage assumptions (finops.usage), as preflight prices them.
    usage = Usage.from_config(_finops_stack_setting("usage"))
    result = estimator.estimate(plain, region=_stack_region(stack), project_tag_key=key,
                                default_project=default_project, spot_fraction=spot, as_of=c.settings.as_of,
                                usage=usage)
    for note in result.assumptions:
        if "known at preview" in note or "unknown at preview" in note:
            c.unknown(f"a priced input ({note.rstrip('.')})")
    budgets = [p for p in plain if p["type"] == aws.BUDGET]
    limits = finops_budgets.monthly_limits(budgets, key)
    budget_urns: dict[str, str] = {}
    for info in finops_budgets.budgets(budgets, key):
        for project in info.projects:
            budget_urns.setdefault(project, info.urn)

    def top(project: str | None) -> str:
        items = result.top_items(3, basis, project)
        return ", ".join(f"{i.name} ${i.figures.get(basis):,.2f}" for i in items) or "none"

    for project, figures in result.by_project().items():
        limit = limits.get(project)
        cost = figures.get(basis)
        if limit is not None and cost > limit:
            c.violation(f"project '{project}': estimated ${cost:,.2f}/month ({basis}; min ${figures.min:,.2f}, "
                        f"expected ${figures.expected:,.2f}, max ${figures.max:,.2f}) exceeds its budget of "
                        f"${limit:,.2f} by ${cost - limit:,.2f}; top items: {top(project)}", budget_urns.get(project))
    ceiling = c.config.num("maxMonthlyUsd")
    total = result.total.get(basis)
    if ceiling > 0 and total > ceiling:
        c.violation(f"the stack's estimate ${total:,.2f}/month ({basis}) exceeds the ceiling of ${ceiling:,.2f}; "
                    f"top items: {top(None)}")


COST_WITHIN_BUDGET = stack_rule(
    name="cost-within-budget",
    description="Each project's monthly cost estimate (basis 'expected' or 'max') stays within its monthly COST "
                "budget's limit, and the stack's total within a ceiling. Severity: high.",
    severity=Severity.HIGH,
    remediation="Shrink the estimate (fewer or smaller GPU nodes, SPOT, off-peak schedules, lower maxSize) or raise "
                "budgets.monthlyLimitsUsd for the project through FinOps review; `python -m preflight preview "
                "--stack <s>` shows the estimate per project and resource.",
    check=_cost_check,
    settings_=(Setting("basis", {"type": "string", "enum": ["expected", "max"]}, "expected",
                       "Which monthly figure must fit the budget: 'expected' (desired size, schedule-aware) or "
                       "'max' (max size)."),
               Setting("maxMonthlyUsd", {"type": "number", "minimum": 0}, 0,
                       "Ceiling for the whole stack's estimate in USD a month (0: none)."),
               Setting("spotFraction", {"type": "number", "minimum": 0, "maximum": 1}, 0,
                       "SPOT price as a fraction of on-demand (0: the stack config's finops.spotPriceFraction, "
                       "else 0.35)."),
               Setting("defaultProject", {"type": "string"}, "",
                       "Project billed for untagged resources ('': the stack config's finops.project).")),
    framework=finops_framework("Budgeting"),
    tags=["finops", "budgets", "cost"],
)


# --- cost-allocation-tags-active -------------------------------------------------------------------

def _allocation_check(stack: Stack, c: Check) -> None:
    if c.config["managedCentrally"]:
        c.not_applicable("cost-allocation tags are managed centrally (managedCentrally: true)")
    if not any(r.type.startswith("aws:") for r in stack.resources):
        c.not_applicable("the stack has no AWS resources")
    active: set[str] = set()
    for res in stack.of_type(aws.COST_ALLOCATION_TAG):
        key, status = get(res.props, "tagKey"), get(res.props, "status")
        if key is UNKNOWN or status is UNKNOWN:
            c.unknown(f"tagKey/status of {res.label}", res.urn)
            continue
        if isinstance(key, str) and status == "Active":
            active.add(key)
    missing = [k for k in _required(c) if k not in active]
    if missing:
        c.violation(f"FinOps tag key(s) {', '.join(missing)} are not activated as cost-allocation tags "
                    "(aws.costexplorer.CostAllocationTag with status Active), so AWS bills and budgets cannot "
                    "filter on them")


COST_ALLOCATION_TAGS_ACTIVE = stack_rule(
    name="cost-allocation-tags-active",
    description="The FinOps tag keys are activated as AWS cost-allocation tags, unless that is managed centrally. "
                "Severity: medium.",
    severity=Severity.MEDIUM,
    remediation="Let one stack own activation with finops.costAllocationTags: activate-listed (it activates the keys "
                "Billing lists; run it again after tagged spend appears, about 24 hours), or activate the keys in "
                "the payer account and set managedCentrally: true for this rule.",
    check=_allocation_check,
    settings_=(Setting("managedCentrally", {"type": "boolean"}, False,
                       "True where cost-allocation tags are activated centrally (e.g. by the payer account)."),
               Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix.")),
    framework=finops_framework("Allocation"),
    tags=["finops", "tagging"],
)

POLICIES = [
    FINOPS_REQUIRED_TAGS, FINOPS_REQUIRED_LABELS, GPU_INSTANCE_ALLOWLIST, GPU_CAPACITY_CEILING, GPU_POOL_SCALE_TO_ZERO,
    GPU_POOL_SPOT, GPU_POOL_OFF_PEAK_SCHEDULE, BUDGET_COVERAGE, COST_WITHIN_BUDGET, COST_ALLOCATION_TAGS_ACTIVE,
]

__all__ = ["POLICIES"]
