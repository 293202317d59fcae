"""Kubernetes objects as rules read them: workloads, their pod templates, containers and GPUs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .common import (
    APP_COMPONENT,
    GPU_RESOURCE,
    INFERENCE_COMPONENT,
    MISSING,
    UNKNOWN,
    PackSettings,
    Res,
    elements,
    entries,
    get,
    quantity,
    string_map,
    text,
)

NAMESPACE = "kubernetes:core/v1:Namespace"
POD = "kubernetes:core/v1:Pod"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
HPA_TYPES = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler")
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHARTS = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")

WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB)
"""Objects that own a pod template."""
POD_OWNERS = (*WORKLOADS, POD)


def pod_template_path(type_: str) -> tuple[str, ...] | None:
    """Where the pod template (metadata + spec) sits in an object of ``type_``."""
    if type_ == CRON_JOB:
        return ("spec", "jobTemplate", "spec", "template")
    if type_ in WORKLOADS:
        return ("spec", "template")
    if type_ == POD:
        return ()
    return None


@dataclass
class Container:
    name: str
    path: str
    """Where it sits, e.g. ``spec.template.spec.containers[0]``."""
    value: Any
    init: bool = False


@dataclass
class PodTemplate:
    """A workload's pod template, with the paths to name in messages."""

    path: str
    """e.g. ``spec.template`` ('' for a bare Pod)."""
    metadata: Any
    spec: Any
    containers: list[Container] = field(default_factory=list)
    containers_unknown: bool = False

    def field(self, *names: str) -> str:
        return ".".join(p for p in (self.path, *names) if p)


def pod_template(res: Res) -> PodTemplate | None:
    path = pod_template_path(res.type)
    if path is None:
        return None
    template = get(res.props, *path) if path else res.props
    dotted = ".".join(path)
    tpl = PodTemplate(path=dotted, metadata=get(template, "metadata"), spec=get(template, "spec"))
    for key, init in (("containers", False), ("initContainers", True)):
        raw = get(tpl.spec, key)
        if raw is UNKNOWN or tpl.spec is UNKNOWN or template is UNKNOWN:
            if not init:
                tpl.containers_unknown = True
            continue
        for index, item in enumerate(elements(raw)):
            where = tpl.field("spec", f"{key}[{index}]")
            if item is UNKNOWN:
                if not init:
                    tpl.containers_unknown = True
                continue
            name = text(get(item, "name")) or f"#{index}"
            tpl.containers.append(Container(name=name, path=where, value=item, init=init))
    return tpl


def labels_of(obj: Any) -> tuple[dict[str, str], bool]:
    """(known labels, whether the label map or any value is unknown)."""
    raw = get(obj, "metadata", "labels")
    if raw is UNKNOWN:
        return {}, True
    known, unknown = string_map(raw)
    return known, bool(unknown)


def annotations_of(metadata: Any) -> tuple[dict[str, str], list[str], bool]:
    """(known annotations, keys with unknown values, whether the whole map is unknown)."""
    raw = get(metadata, "annotations")
    if raw is UNKNOWN or metadata is UNKNOWN:
        return {}, [], True
    known, unknown = string_map(raw)
    return known, unknown, False


@dataclass
class GpuAmount:
    limit: Any = MISSING
    request: Any = MISSING

    @property
    def set(self) -> bool:
        return self.limit is not MISSING or self.request is not MISSING


def gpu_amount(container: Any, resource: str = GPU_RESOURCE) -> GpuAmount:
    return GpuAmount(limit=get(container, "resources", "limits", resource),
                     request=get(container, "resources", "requests", resource))


def gpus_of(value: Any) -> float | None:
    """The GPU count of a limit/request value; None when it is not a quantity."""
    return quantity(value)


def pod_gpus(tpl: PodTemplate, resources: tuple[str, ...] = (GPU_RESOURCE,)) -> tuple[float, bool]:
    """GPUs one pod asks for (the sum over its app containers; the limit, else the request), and
    whether some GPU amount is unknown."""
    total = 0.0
    unknown = tpl.containers_unknown
    for c in tpl.containers:
        if c.init:
            continue
        for resource in resources:
            amount = gpu_amount(c.value, resource)
            value = amount.limit if amount.limit is not MISSING else amount.request
            if value is UNKNOWN or get(c.value, "resources") is UNKNOWN:
                unknown = True
                continue
            count = gpus_of(value)
            if count is not None and count > 0:
                total += count
    return total, unknown


def is_gpu_workload(tpl: PodTemplate, resources: tuple[str, ...] = (GPU_RESOURCE,)) -> bool:
    return pod_gpus(tpl, resources)[0] > 0


def is_inference(res: Res, tpl: PodTemplate | None, s: PackSettings, component_labels: Mapping[str, str] | None = None,
                 gpu_resources: tuple[str, ...] = (GPU_RESOURCE,)) -> bool:
    """An inference workload: labelled as one (``app.kubernetes.io/component: inference``), carrying
    governance annotations, or asking for GPUs (on this platform GPUs serve models)."""
    wanted = dict(component_labels or {APP_COMPONENT: INFERENCE_COMPONENT})
    labels, _ = labels_of(res.props)
    if tpl is not None:
        template_labels, _ = labels_of({"metadata": tpl.metadata})
        labels = {**template_labels, **labels}
    if any(labels.get(k) == v for k, v in wanted.items()):
        return True
    prefix = f"{s.governance_prefix}/"
    for metadata in (get(res.props, "metadata"), tpl.metadata if tpl is not None else MISSING):
        for key, _ in entries(get(metadata, "annotations")):
            if key.startswith(prefix):
                return True
    return tpl is not None and is_gpu_workload(tpl, gpu_resources)


def governance_annotations(res: Res, tpl: PodTemplate | None) -> tuple[dict[str, str], set[str]]:
    """The workload's annotations merged with its pod template's (the template wins), and the keys
    whose value is unknown in both."""
    merged: dict[str, str] = {}
    unknown: set[str] = set()
    for metadata in (get(res.props, "metadata"), tpl.metadata if tpl is not None else MISSING):
        known, unknown_keys, whole_unknown = annotations_of(metadata)
        merged.update(known)
        unknown.update(unknown_keys)
        if whole_unknown:
            unknown.add("*")
    return merged, {k for k in unknown if k not in merged}


def env_value(container: Any, name: str) -> Any:
    """A container env var's literal value, ``UNKNOWN``, or ``MISSING`` (absent or from a ref)."""
    env = get(container, "env")
    if env is UNKNOWN:
        return UNKNOWN
    for item in elements(env):
        if item is UNKNOWN:
            continue
        if get(item, "name") == name:
            return get(item, "value")
    return MISSING


def chart_name(res: Res) -> str:
    """The chart of a Helm release or chart resource, without its repository path."""
    chart = text(get(res.props, "chart")) or ""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def namespace_of(res: Res) -> Any:
    return get(res.props, "metadata", "namespace")


def name_of(res: Res) -> Any:
    return get(res.props, "metadata", "name")


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool | None:
    """Does a LabelSelector select ``labels``? None when the selector is unknown or empty."""
    if selector is UNKNOWN or selector is MISSING:
        return None
    match_labels, unknown = string_map(get(selector, "matchLabels"))
    if unknown or get(selector, "matchLabels") is UNKNOWN:
        return None
    expressions = get(selector, "matchExpressions")
    if expressions is UNKNOWN:
        return None
    exprs = elements(expressions)
    if not match_labels and not exprs:
        return None  # an empty selector selects everything: never a proof of anything
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in exprs:
        key, operator = text(get(expr, "key")), text(get(expr, "operator"))
        values = [v for v in elements(get(expr, "values")) if isinstance(v, str)]
        if key is None or operator is None:
            return None
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
    return True


K8S_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str
    """Kubernetes spelling: NoSchedule, NoExecute, PreferNoSchedule."""


def tolerates(tolerations: list[Any], taint: Taint) -> bool | None:
    """Kubernetes toleration matching; None if some toleration is unknown and none matched."""
    unknown = False
    for tol in tolerations:
        if tol is UNKNOWN:
            unknown = True
            continue
        key = get(tol, "key")
        operator = get(tol, "operator")
        value = get(tol, "value")
        effect = get(tol, "effect")
        if UNKNOWN in (key, operator, value, effect):
            unknown = True
            continue
        key = key if isinstance(key, str) else ""
        operator = operator if isinstance(operator, str) and operator else "Equal"
        value = value if isinstance(value, str) else ""
        effect = effect if isinstance(effect, str) else ""
        if effect and effect != taint.effect:
            continue
        if operator == "Exists":
            if not key or key == taint.key:
                return True
        elif operator == "Equal" and key == taint.key and value == taint.value:
            return True
    return None if unknown else False
