"""Kubernetes GPU hygiene: valid accelerator requests, pods on the right nodes (and only there), and
every GPU workload fitting some node pool."""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from ai_platform_finops import accelerators

from . import aws, k8s
from .framework import Check, Setting, resource_rule, stack_rule
from .gpu_pools import GpuPool, gpu_pools
from .props import MISSING, UNKNOWN, elements, get, short, string_map
from .replicas import hpa_index, min_replicas
from .resources import Res, Stack

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
GPU_RESOURCES_SETTING = Setting(
    "gpuResources", _STRINGS, list(accelerators.RESOURCE_PATTERNS),
    "Extended resources that are accelerators (shell patterns); the accelerator table "
    "(ai_platform_finops/accelerators.py, docs/policies.md) gives each one's node labels and taint.")


def _gpu_resources(c: Check) -> tuple[str, ...]:
    return tuple(c.config.strings("gpuResources") or accelerators.RESOURCE_PATTERNS)


def accelerator_taint(resource: str) -> k8s.Taint:
    """The taint nodes carrying ``resource`` have by the table's convention (``<key>=true:NoSchedule``)."""
    row = accelerators.accelerator(resource)
    return k8s.Taint(key=row.taint_key if row is not None else resource, value="true", effect="NoSchedule")


ACCELERATOR_TAINTS = tuple(k8s.Taint(key=key, value="true", effect="NoSchedule") for key in accelerators.TAINT_KEYS)


# --- gpu-request-valid --------------------------------------------------------------------------

def _whole(value: Any) -> float | None:
    count = k8s.gpus_of(value)
    return count if count is not None and count >= 0 and float(count).is_integer() else None


def _gpu_request_check(res: Res, c: Check) -> None:
    for tpl in k8s.rule_templates(res, c, advise=True):
        _gpu_request_template(res, tpl, c)


def _gpu_request_template(res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
    patterns = _gpu_resources(c)
    for container in tpl.containers:
        names, names_unknown = k8s.accelerator_names(container.value, patterns)
        if names_unknown:
            c.unknown(f"{container.path}.resources")
        for resource in names:
            amount = k8s.gpu_amount(container.value, resource)
            where = f"{container.path} ({container.name})"
            if amount.limit is UNKNOWN or amount.request is UNKNOWN:
                c.unknown(f"{container.path}.resources {resource}")
                continue
            problems = []
            limit = _whole(amount.limit) if amount.limit is not MISSING else None
            request = _whole(amount.request) if amount.request is not MISSING else None
            if amount.limit is MISSING and tpl.partial:
                c.unknown(f"{container.path}.resources.limits {resource} (a Patch leaves it to the live object)")
            elif amount.limit is MISSING:
                problems.append(f"requests {short(amount.request)} without a limit (GPUs go in limits)")
            elif limit is None:
                problems.append(f"limit {short(amount.limit)} is not a whole number")
            if amount.request is not MISSING:
                asked = k8s.gpus_of(amount.request)
                if request is None:
                    problems.append(f"request {short(amount.request)} is not a whole number")
                if limit is not None and asked is not None and asked != limit:
                    problems.append(f"request {short(amount.request)} differs from limit {short(amount.limit)} "
                                    "(GPUs cannot be overcommitted)")
            if problems:
                c.violation(f"{res.label}: {where}: {resource}: {'; '.join(problems)}. Kubernetes rejects this pod")


GPU_REQUEST_VALID = resource_rule(
    name="gpu-request-valid",
    description="Every accelerator (nvidia.com/gpu, MIG slices, amd.com/gpu, aws.amazon.com/neuron*) is a whole number "
                "set in limits, with requests equal to it or absent, in every workload shape.",
    severity=Severity.CRITICAL,
    remediation="Put a whole GPU count in resources.limits['nvidia.com/gpu'] and drop the request or make it equal. "
                "Kubernetes cannot share or overcommit GPUs; to share one use MIG, time-slicing or MPS through the "
                "NVIDIA device plugin instead of fractions.",
    types=k8s.may_carry_pods,
    check=_gpu_request_check,
    settings_=(GPU_RESOURCES_SETTING,),
    tags=["kubernetes", "gpu"],
)


# --- gpu-workload-placement ---------------------------------------------------------------------

def _carries(resource: str, key: str, values: list[str] | None, extra: list[str]) -> bool:
    """Does a node label requirement (``values`` None: the key exists) single out nodes carrying
    ``resource``: one of its table labels, an extra label, or instance types that all offer it?"""
    row = accelerators.accelerator(resource)
    if key in extra or (row is not None and key in row.node_labels):
        return True
    if key in accelerators.INSTANCE_TYPE_LABELS and values:
        return all(accelerators.per_instance(v, resource) != 0 for v in values)
    if key == accelerators.INSTANCE_FAMILY_LABEL and values and row is not None:
        return all(v in row.instance_families for v in values)
    return False


def _selects_accelerator_nodes(spec: Any, resource: str, extra: list[str]) -> bool | None:
    """Does the pod select nodes carrying ``resource`` (nodeSelector, or every required
    node-affinity term)? None when that depends on an unknown value."""
    selector = get(spec, "nodeSelector")
    if selector is UNKNOWN:
        return None
    labels, unknown = string_map(selector)
    if any(_carries(resource, k, [v], extra) for k, v in labels.items()):
        return True
    required = get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    if required is UNKNOWN:
        return None
    terms = elements(required)

    def term_selects(term: Any) -> bool:
        for expr in elements(get(term, "matchExpressions")):
            key, operator = get(expr, "key"), get(expr, "operator")
            values = [v for v in elements(get(expr, "values")) if isinstance(v, str)]
            if isinstance(key, str) and operator in ("In", "Exists") and \
                    _carries(resource, key, values if operator == "In" else None, extra):
                return True
        return False

    if terms and all(term_selects(term) for term in terms):
        return True
    return None if unknown else False


def _placement_check(res: Res, c: Check) -> None:
    for tpl in k8s.rule_templates(res, c):
        _placement_template(res, tpl, c)


def _placement_template(res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
    needs, needs_unknown = k8s.pod_needs(tpl, _gpu_resources(c))
    tolerations_raw = get(tpl.spec, "tolerations")
    if not needs and needs_unknown:
        c.unknown(f"the GPU amounts of {tpl.field('spec', 'containers')}")
        return
    extra = c.config.strings("gpuNodeLabels")
    label = res.label if tpl.values_path is None else f"{res.label} ({tpl.values_path})"
    if needs:
        if tolerations_raw is MISSING and tpl.partial:
            tolerations_raw = UNKNOWN  # a Patch leaves the tolerations to the live object
        for resource, amount in needs.items():
            taint = accelerator_taint(resource)
            taint_text = f"{taint.key}={taint.value}:{taint.effect}"
            tolerates = None if tolerations_raw is UNKNOWN else k8s.tolerates(elements(tolerations_raw), taint)
            if tolerates is None:
                c.unknown(tpl.field("spec", "tolerations"))
            elif not tolerates:
                c.violation(f"{label}: a GPU pod ({amount:g} {resource}) must tolerate the GPU taint {taint_text}")
            selects = _selects_accelerator_nodes(tpl.spec, resource, extra)
            if selects is None or (selects is False and tpl.partial and get(tpl.spec, "nodeSelector") is MISSING
                                   and get(tpl.spec, "affinity") is MISSING):
                c.unknown(tpl.field("spec", "nodeSelector"))
            elif not selects:
                row = accelerators.accelerator(resource)
                keys = [*(row.node_labels if row is not None else ()), *extra]
                c.violation(f"{label}: a GPU pod must select GPU nodes ({resource}) with a nodeSelector (or required "
                            f"node affinity) on one of {', '.join(keys) or 'the gpuNodeLabels setting'}, or on instance "
                            "types that offer it")
        return
    if tpl.kind == k8s.DAEMON_SET:
        return  # one pod per selected node: GPU node agents (device plugin, DCGM exporter) must tolerate the taint
    if tolerations_raw is UNKNOWN:
        c.unknown(tpl.field("spec", "tolerations"))
        return
    tolerated = [t for t in ACCELERATOR_TAINTS if k8s.tolerates(elements(tolerations_raw), t)]
    pending = any(k8s.tolerates(elements(tolerations_raw), t) is None for t in ACCELERATOR_TAINTS)
    if tolerated:
        c.violation(f"{label}: a pod without GPUs tolerates the GPU taint "
                    f"{', '.join(f'{t.key}:{t.effect}' for t in tolerated)} and may squat on expensive GPU nodes; remove "
                    "the toleration")
    elif pending:
        c.unknown(tpl.field("spec", "tolerations"))


GPU_WORKLOAD_PLACEMENT = resource_rule(
    name="gpu-workload-placement",
    description="Pods asking for an accelerator tolerate its taint and select nodes carrying it; other pods (bar "
                "DaemonSets' node agents) tolerate no accelerator taint.",
    severity=Severity.HIGH,
    remediation="Derive tolerations and nodeSelector from the node pool (components/inference/resources.py does): GPU "
                "pods get the nvidia.com/gpu toleration and the pool's labels; CPU pods get neither. Other "
                "accelerators follow the accelerator table (amd.com/gpu, aws.amazon.com/neuron taints).",
    types=k8s.may_carry_pods,
    check=_placement_check,
    settings_=(GPU_RESOURCES_SETTING,
               Setting("gpuNodeLabels", _STRINGS, [],
                       "Extra node label keys whose selection means 'a node with accelerators' (the accelerator "
                       "table's labels and instance types that offer the accelerator always count).")),
    tags=["kubernetes", "gpu"],
)


# --- gpu-workload-schedulable ---------------------------------------------------------------------

def _misfit(entry: GpuPool, needs: dict[str, float], needed: int, tolerations: list[Any]) -> str | None:
    """Why a known pool whose labels match cannot run the workload, None when it can, or '' when
    it depends on a count the catalog does not have."""
    untolerated = [t for t in entry.taints if t.effect in ("NoSchedule", "NoExecute")
                   and not k8s.tolerates(tolerations, t)]
    if untolerated:
        return (f"{entry.ng.name}: taint {', '.join(f'{t.key}={t.value}:{t.effect}' for t in untolerated)} "
                "not tolerated")
    per_node: int | None = None
    for resource, amount in needs.items():
        offered = entry.per_instance(resource)
        if offered is None:
            return ""
        if offered < amount:
            return f"{entry.ng.name}: {offered} {entry.unit(resource)} per instance < {amount:g} per pod"
        fits = int(offered // amount)
        per_node = fits if per_node is None else min(per_node, fits)
    max_size = aws.size(entry.pool.max_size) or 0
    if per_node is not None and max_size * per_node < needed:
        return f"{entry.ng.name}: maxSize {max_size} x {per_node} pod(s) per node < {needed} min replicas"
    return None


def _schedulable_check(stack: Stack, c: Check) -> None:
    resources = _gpu_resources(c)
    pools = gpu_pools(stack)
    hpas = hpa_index(stack)
    for workload, tpl in k8s.stack_templates(stack):
        needs, unknown = k8s.pod_needs(tpl, resources)
        label = workload.label if tpl.values_path is None else f"{workload.label} ({tpl.values_path})"
        if not needs:
            if unknown:
                c.unknown(f"the GPU amounts of {label}", workload.urn)
            continue
        gpus = sum(needs.values())
        selector_raw = get(tpl.spec, "nodeSelector")
        tolerations_raw = get(tpl.spec, "tolerations")
        replicas = min_replicas(stack, workload, hpas, c, tpl)
        if tpl.partial and MISSING in (selector_raw, tolerations_raw):
            c.unknown(f"nodeSelector/tolerations of {label} (a Patch leaves them to the live object)", workload.urn)
            continue
        if UNKNOWN in (selector_raw, tolerations_raw, replicas):
            c.unknown(f"nodeSelector/tolerations/replicas of {label}", workload.urn)
            continue
        selector, selector_unknown = string_map(selector_raw)
        needed = aws.size(replicas) or 1
        asked = f"{gpus:g} GPU(s)" if set(needs) == {accelerators.GPU_RESOURCE} else \
            ", ".join(f"{n:g} {r}" for r, n in needs.items())
        if not pools.pools:
            c.violation(f"{label} asks for {asked} per pod but the stack has no GPU node pool", workload.urn)
            continue
        tolerations = elements(tolerations_raw)
        # The labels index finds a fitting pool without walking every pool; only a workload that fits
        # none walks them all, to name each pool's reason.
        if any(_misfit(entry, needs, needed, tolerations) is None for entry in pools.candidates(selector)):
            continue
        reasons: list[str] = []
        pending_unknown = selector_unknown
        for entry in pools.pools:
            if entry.unknown:
                pending_unknown = True
                continue
            mismatch = [f"{k}={v}" for k, v in selector.items() if entry.labels.get(k) != v]
            if mismatch:
                reasons.append(f"{entry.ng.name}: labels lack {', '.join(mismatch)}")
                continue
            reason = _misfit(entry, needs, needed, tolerations)
            if reason == "":
                pending_unknown = True
            elif reason is not None:
                reasons.append(reason)
        if pending_unknown:
            c.unknown(f"the GPU node pools {label} could run on", workload.urn)
            continue
        c.violation(f"{label} ({asked} x {needed} min replicas) fits no GPU node pool: "
                    f"{'; '.join(reasons)}", workload.urn)


GPU_WORKLOAD_SCHEDULABLE = stack_rule(
    name="gpu-workload-schedulable",
    description="Every workload asking for accelerators (any shape, Helm values included) fits some node pool of "
                "the stack: labels match its nodeSelector, it tolerates the pool's taints, one instance offers enough "
                "of each accelerator for a pod, and max size holds the min replicas.",
    severity=Severity.HIGH,
    remediation="Point services[].nodePool at a GPU pool whose instance type has enough GPUs, and make that pool's "
                "maxSize hold replicas.min x GPUs; derive nodeSelector/tolerations from the pool, never retype them.",
    check=_schedulable_check,
    settings_=(GPU_RESOURCES_SETTING,),
    tags=["kubernetes", "gpu"],
)


POLICIES = [GPU_REQUEST_VALID, GPU_WORKLOAD_PLACEMENT, GPU_WORKLOAD_SCHEDULABLE]

__all__ = ["POLICIES"]
