"""Kubernetes GPU hygiene: valid GPU requests, pods on the right nodes (and only there), resources,
and availability and probes for inference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from ai_platform_finops import accelerators

from . import aws, k8s
from .common import (
    MISSING,
    UNKNOWN,
    Check,
    Res,
    Setting,
    Stack,
    elements,
    environments_setting,
    get,
    resource_rule,
    short,
    stack_rule,
    string_map,
)

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
                "set in limits, with requests equal to it or absent, in every workload shape. Severity: critical.",
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
                "DaemonSets' node agents) tolerate no accelerator taint. Severity: high.",
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

def min_replicas(stack: Stack, workload: Res, hpas: dict[tuple[str, str], Res], c: Check,
                 tpl: k8s.PodTemplate | None = None) -> Any:
    """Min replicas: the HPA's minReplicas when one targets the workload, else spec.replicas (default 1);
    for a workload of a Helm release, its replica count in the values."""
    if tpl is not None and tpl.values_path is not None:
        return 1 if tpl.replicas is MISSING or tpl.kind == k8s.DAEMON_SET else tpl.replicas
    name, namespace = k8s.name_of(workload), k8s.namespace_of(workload)
    hpa = None
    if isinstance(name, str):
        if isinstance(namespace, str):
            hpa = hpas.get((namespace, name)) or hpas.get(("*", name))
        else:
            hpa = hpas.get(("", name))
    if hpa is not None:
        value = get(hpa.props, "spec", "minReplicas")
        return 1 if value is MISSING else value
    if k8s.base_type(workload.type) == k8s.DAEMON_SET:
        return 1
    value = get(workload.props, "spec", "replicas")
    return 1 if value is MISSING else value


def hpa_index(stack: Stack) -> dict[tuple[str, str], Res]:
    """HPAs by (namespace, target name): namespace '*' for an HPA whose namespace is not known (it may
    be the workload's), '' for the first HPA of that target anywhere (for a workload whose namespace is
    not known). An HPA in another known namespace scales another workload. Built once per stack."""
    return stack.index("hpas", _build_hpa_index)


def _build_hpa_index(stack: Stack) -> dict[tuple[str, str], Res]:
    index: dict[tuple[str, str], Res] = {}
    for hpa in stack.of_type(*k8s.HPA_TYPES):
        target = get(hpa.props, "spec", "scaleTargetRef", "name")
        if not isinstance(target, str):
            continue
        namespace = k8s.namespace_of(hpa)
        index[(namespace if isinstance(namespace, str) else "*", target)] = hpa
        index.setdefault(("", target), hpa)
    return index


@dataclass(frozen=True)
class GpuPool:
    """A GPU node group with what scheduling onto it depends on, computed once per stack."""

    ng: Res
    pool: aws.Pool
    labels: dict[str, str]
    taints: list[k8s.Taint]
    unknown: bool
    """Labels, taints, instance types or max size unknown: the pool can neither be counted on nor ruled out."""

    def per_instance(self, resource: str) -> int | None:
        """How many of ``resource`` every instance of the pool offers (the least over its types);
        None when the catalog cannot say (trn2/trn3; MIG slices without a uniform layout label)."""
        mig_config = self.labels.get(accelerators.MIG_CONFIG_LABEL)
        counts = [accelerators.per_instance(t, resource, mig_config) for t in self.pool.instance_types]
        if not counts:
            return 0
        if any(n == 0 for n in counts):
            return 0
        if any(n is None for n in counts):
            return None
        return min(n for n in counts if n is not None)


@dataclass(frozen=True)
class GpuPools:
    pools: list[GpuPool]
    by_label: dict[tuple[str, str], list[int]]
    """Positions (in stack order) of the known pools carrying each node label."""

    def candidates(self, selector: dict[str, str]) -> list[GpuPool]:
        """The known pools whose labels hold every pair of ``selector``, in stack order."""
        if not selector:
            return [p for p in self.pools if not p.unknown]
        rarest = min((self.by_label.get(item, []) for item in selector.items()), key=len)
        return [pool for pool in (self.pools[i] for i in rarest)
                if all(pool.labels.get(k) == v for k, v in selector.items())]


def gpu_pools(stack: Stack) -> GpuPools:
    return stack.index("gpu-pools", _build_gpu_pools)


def _build_gpu_pools(stack: Stack) -> GpuPools:
    pools: list[GpuPool] = []
    by_label: dict[tuple[str, str], list[int]] = {}
    for ng in stack.of_type(aws.NODE_GROUP):
        lt = aws.launch_template_of(stack, ng)
        if not aws.is_gpu_pool(ng, lt) and not _accelerator_pool(ng, lt):
            continue
        pool = aws.pool(ng, lt)
        labels, labels_unknown = aws.node_labels(ng, pool.instance_types)
        taints, taints_unknown = aws.node_taints(ng)
        unknown = labels_unknown or taints_unknown or pool.instance_types_unknown or pool.max_size is UNKNOWN
        if not unknown:
            for item in labels.items():
                by_label.setdefault(item, []).append(len(pools))
        pools.append(GpuPool(ng, pool, labels, taints, unknown))
    return GpuPools(pools, by_label)


def _accelerator_pool(ng: Res, lt: Res | None) -> bool:
    """A node group whose instance types, AMI or taints carry a non-NVIDIA accelerator of the table."""
    types, _ = aws.instance_types(ng, lt)
    if any(accelerators.offered(t) for t in types):
        return True
    ami = get(ng.props, "amiType")
    if isinstance(ami, str) and "NEURON" in ami:
        return True
    taints, _ = aws.node_taints(ng)
    return any(t.key in accelerators.TAINT_KEYS for t in taints)


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
            what = "GPU(s)" if resource == accelerators.GPU_RESOURCE else resource
            return f"{entry.ng.name}: {offered} {what} per instance < {amount:g} per pod"
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
                "of each accelerator for a pod, and max size holds the min replicas. Severity: high.",
    severity=Severity.HIGH,
    remediation="Point services[].nodePool at a GPU pool whose instance type has enough GPUs, and make that pool's "
                "maxSize hold replicas.min x GPUs; derive nodeSelector/tolerations from the pool, never retype them.",
    check=_schedulable_check,
    settings_=(GPU_RESOURCES_SETTING,),
    tags=["kubernetes", "gpu"],
)


# --- container-resources --------------------------------------------------------------------------

def _resources_check(res: Res, c: Check) -> None:
    for tpl in k8s.rule_templates(res, c):
        _resources_template(res, tpl, c)


def _resources_template(res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
    for container in tpl.containers:
        resources = get(container.value, "resources")
        if resources is UNKNOWN:
            c.unknown(f"{container.path}.resources")
            continue
        missing = []
        for kind, name in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
            value = get(resources, kind, name)
            if value is UNKNOWN:
                c.unknown(f"{container.path}.resources.{kind}.{name}")
            elif (value is MISSING and not tpl.partial) or (isinstance(value, str) and not value.strip()):
                missing.append(f"{kind}.{name}")
        if missing:
            c.violation(f"{res.label}: {container.path} ({container.name}) sets no {', '.join(missing)}")


CONTAINER_RESOURCES = resource_rule(
    name="container-resources",
    description="Every container sets cpu and memory requests and a memory limit. Severity: medium.",
    severity=Severity.MEDIUM,
    remediation="Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on every "
                "container (services[].resources in the stack config); requests drive scheduling and cost "
                "allocation, the memory limit keeps one pod from starving a node.",
    types=list(k8s.WORKLOAD_TYPES),
    check=_resources_check,
    tags=["kubernetes", "reliability"],
)


# --- inference-availability -----------------------------------------------------------------------

@dataclass(frozen=True)
class PdbIndex:
    """PodDisruptionBudgets by the rarest pair of their matchLabels. A PDB with known, non-empty
    matchLabels and no unknown part selects only pods carrying that pair, so a workload need look
    only at the PDBs filed under its own labels, plus the ``others`` (expressions-only, empty or
    unknown selectors), which any workload may hit."""

    by_label: dict[tuple[str, str], list[Res]]
    others: list[Res]

    def candidates(self, pod_labels: dict[str, str]) -> list[Res]:
        found = list(self.others)
        for item in pod_labels.items():
            found.extend(self.by_label.get(item, ()))
        return found


def pdb_index(stack: Stack) -> PdbIndex:
    return stack.index("pdbs", _build_pdb_index)


def _build_pdb_index(stack: Stack) -> PdbIndex:
    keyed: list[tuple[Res, dict[str, str]]] = []
    others: list[Res] = []
    counts: dict[tuple[str, str], int] = {}
    for pdb in stack.of_type(k8s.PDB):
        selector = get(pdb.props, "spec", "selector")
        match_raw = get(selector, "matchLabels")
        match_labels, unknown = string_map(match_raw)
        if (selector is UNKNOWN or selector is MISSING or match_raw is UNKNOWN or unknown or not match_labels
                or get(selector, "matchExpressions") is UNKNOWN):
            others.append(pdb)
            continue
        keyed.append((pdb, match_labels))
        for item in match_labels.items():
            counts[item] = counts.get(item, 0) + 1
    by_label: dict[tuple[str, str], list[Res]] = {}
    for pdb, match_labels in keyed:
        rarest = min(match_labels.items(), key=lambda item: counts[item])
        by_label.setdefault(rarest, []).append(pdb)
    return PdbIndex(by_label, others)


def _availability_check(stack: Stack, c: Check) -> None:
    c.applies_in(c.config.strings("environments"))
    minimum = int(c.config.num("minReplicas"))
    hpas = hpa_index(stack)
    pdbs = pdb_index(stack)
    # The shared (workload, template) index: templates are read once per AnalyzeStack for every rule.
    for workload, tpl in k8s.stack_templates(stack):
        if workload.type != k8s.DEPLOYMENT or not k8s.is_inference(workload, tpl, c.settings):
            continue
        replicas = min_replicas(stack, workload, hpas, c)
        if replicas is UNKNOWN:
            c.unknown(f"the replicas of {workload.label}", workload.urn)
        else:
            count = aws.size(replicas)
            if count is None or count < minimum:
                c.violation(f"{workload.label}: {short(replicas)} min replica(s); inference in "
                            f"{c.settings.environment} needs at least {minimum}", workload.urn)
        labels_raw = get(tpl.metadata, "labels")
        namespace = k8s.namespace_of(workload)
        if labels_raw is UNKNOWN:
            c.unknown(f"the pod labels of {workload.label}", workload.urn)
            continue
        pod_labels, _ = string_map(labels_raw)
        covered, pending = False, False
        for pdb in pdbs.candidates(pod_labels):
            pdb_namespace = k8s.namespace_of(pdb)
            if isinstance(namespace, str) and isinstance(pdb_namespace, str) and pdb_namespace != namespace:
                continue
            selected = k8s.selector_matches(get(pdb.props, "spec", "selector"), pod_labels)
            if selected is None and get(pdb.props, "spec", "selector") is UNKNOWN:
                pending = True
            if selected:
                covered = True
                break
        if not covered:
            if pending:
                c.unknown(f"the PodDisruptionBudget selectors for {workload.label}", workload.urn)
            else:
                c.violation(f"{workload.label}: no PodDisruptionBudget selects its pods; a node drain could take "
                            "every replica down at once", workload.urn)


INFERENCE_AVAILABILITY = stack_rule(
    name="inference-availability",
    description="In prod, inference Deployments run at least 2 replicas and a PodDisruptionBudget selects them. "
                "Severity: high.",
    severity=Severity.HIGH,
    remediation="Set services[].replicas.min to 2 or more; the InferenceService component then creates a "
                "PodDisruptionBudget (maxUnavailable 1) selecting the pods.",
    check=_availability_check,
    settings_=(environments_setting(["prod"], "inference must be highly available"),
               Setting("minReplicas", {"type": "integer", "minimum": 1}, 2, "Minimum replicas of an inference workload.")),
    tags=["kubernetes", "reliability"],
)


# --- inference-probes -----------------------------------------------------------------------------

PROBED_KINDS = (k8s.DEPLOYMENT, k8s.STATEFUL_SET, k8s.REPLICA_SET, k8s.REPLICATION_CONTROLLER)
"""Kinds that serve traffic through a Service (Jobs, CronJobs and bare Pods are not rolled out)."""


def _probes_check(res: Res, c: Check) -> None:
    for tpl in k8s.rule_templates(res, c):
        if tpl.kind not in PROBED_KINDS:
            continue
        if k8s.inference_unknown(res, tpl, c.settings):
            c.unknown(f"whether {res.label} serves a model (a Patch setting containers without "
                      f"{tpl.field('metadata', 'labels')} app.kubernetes.io/component)")
            continue
        if k8s.is_inference(res, tpl, c.settings):
            _probes_template(res, tpl, c)


def _probes_template(res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
    for container in tpl.containers:
        if container.init:
            continue
        probe = get(container.value, "readinessProbe")
        if probe is MISSING and tpl.partial:
            continue  # the live object's probe stays
        if probe is UNKNOWN:
            c.unknown(f"{container.path}.readinessProbe")
        elif probe is MISSING or not any(get(probe, k) is not MISSING for k in ("httpGet", "tcpSocket", "exec", "grpc")):
            c.violation(f"{res.label}: {container.path} ({container.name}) has no readiness probe; traffic would reach "
                        "a model that is still loading")


INFERENCE_PROBES = resource_rule(
    name="inference-probes",
    description="Inference containers (Deployments, StatefulSets, ReplicaSets, ReplicationControllers, their Patches "
                "and known Helm charts) have a readiness probe. Severity: medium.",
    severity=Severity.MEDIUM,
    remediation="Give the model server a readiness endpoint and set services[].probes.readinessPath; the "
                "InferenceService component adds readiness, liveness and startup probes.",
    types=k8s.may_carry_pods,
    check=_probes_check,
    tags=["kubernetes", "reliability"],
)


POLICIES = [
    GPU_REQUEST_VALID, GPU_WORKLOAD_PLACEMENT, GPU_WORKLOAD_SCHEDULABLE, CONTAINER_RESOURCES, INFERENCE_AVAILABILITY,
    INFERENCE_PROBES,
]

__all__ = ["POLICIES", "hpa_index", "min_replicas"]
