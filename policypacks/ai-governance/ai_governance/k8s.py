"""Kubernetes objects as rules read them: workloads, their pod templates, containers and GPUs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ai_platform_finops import accelerators
from ai_platform_finops.resource_types import HELM_RELEASE, INGRESS, NAMESPACE, SERVICE, STORAGE_CLASS  # noqa: F401 (re-exported)

from .common import (
    APP_COMPONENT,
    GPU_RESOURCE,
    INFERENCE_COMPONENT,
    MISSING,
    UNKNOWN,
    Check,
    PackSettings,
    Res,
    Stack,
    elements,
    entries,
    get,
    quantity,
    string_map,
    text,
)
from .sdk_hooks import per_call_cache

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
REPLICATION_CONTROLLER = "kubernetes:core/v1:ReplicationController"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
HPA_TYPES = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler")
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HELM_CHARTS = (HELM_RELEASE, "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
PATCH = "Patch"
"""Suffix of the server-side-apply variants (``kubernetes:apps/v1:DeploymentPatch``)."""

WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB)
"""Objects that own a pod template."""
POD_OWNERS = (*WORKLOADS, POD)
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    **{t: ("spec", "template") for t in (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB,
                                         REPLICATION_CONTROLLER)},
    CRON_JOB: ("spec", "jobTemplate", "spec", "template"),
    POD: (),
}
"""Where the pod template (metadata + spec) sits in each kind; a bare Pod is its own template."""
WORKLOAD_TYPES = (*POD_OWNERS, REPLICATION_CONTROLLER, *(t + PATCH for t in (*POD_OWNERS, REPLICATION_CONTROLLER)))
"""Every known kind carrying pods, with its server-side-apply ``*Patch`` variant."""
UNKNOWN_KIND_FIELDS = (("spec", "template"), ("spec", "jobTemplate"))
"""A ``kubernetes:*`` object of another kind with one of these may run pods the pack cannot read."""
COMPONENT_TYPES = frozenset({"kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:yaml/v2:ConfigGroup",
                             "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml:ConfigGroup", "kubernetes:yaml:ConfigFile",
                             "kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory"})
"""Component resources: their children (Deployments, ...) reach the pack as ordinary resources."""


def base_type(type_: str) -> str:
    """``kubernetes:apps/v1:DeploymentPatch`` -> ``kubernetes:apps/v1:Deployment``."""
    return type_[: -len(PATCH)] if type_.endswith(PATCH) and type_[: -len(PATCH)] in TEMPLATE_PATHS else type_


def is_patch(type_: str) -> bool:
    return base_type(type_) != type_


def pod_template_path(type_: str) -> tuple[str, ...] | None:
    """Where the pod template (metadata + spec) sits in an object of ``type_`` (or its Patch)."""
    return TEMPLATE_PATHS.get(base_type(type_))


def may_carry_pods(type_: str) -> bool:
    """Types a workload rule must look at: known workloads and their Patches, Helm v3 releases, and
    any other ``kubernetes:*`` type (it may carry a pod template of a kind the pack does not know)."""
    return type_ in _POD_TYPES or (type_.startswith("kubernetes:") and type_ not in COMPONENT_TYPES
                                   and not type_.startswith("kubernetes:core/v1:") and type_ not in _NO_PODS)


_POD_TYPES = frozenset((*WORKLOAD_TYPES, HELM_RELEASE))
_NO_PODS = frozenset({
    *HPA_TYPES, PDB, INGRESS, "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:networking.k8s.io/v1:IngressClass", "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", STORAGE_CLASS,
    "kubernetes:scheduling.k8s.io/v1:PriorityClass", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "pulumi:providers:kubernetes",
})
"""Kinds known to carry no pods (core/v1 kinds other than Pod carry none either: Service,
ConfigMap, Secret, Namespace, ResourceQuota, LimitRange, PodTemplate objects are not run)."""


@dataclass
class Container:
    name: str
    path: str
    """Where it sits, e.g. ``spec.template.spec.containers[0]`` or ``values.server``."""
    value: Any
    init: bool = False

    @property
    def sidecar(self) -> bool:
        """A restartable init container (``restartPolicy: Always``): it runs beside the app containers."""
        return self.init and get(self.value, "restartPolicy") == "Always"


@dataclass
class PodTemplate:
    """A workload's pod template, with the paths to name in messages."""

    path: str
    """e.g. ``spec.template`` ('' for a bare Pod)."""
    metadata: Any
    spec: Any
    containers: list[Container] = field(default_factory=list)
    containers_unknown: bool = False
    kind: str = ""
    """The workload kind without its Patch suffix (``kubernetes:apps/v1:DaemonSet``)."""
    partial: bool = False
    """A server-side-apply Patch: fields it leaves out keep the live object's values."""
    values_path: str | None = None
    """For a workload read from Helm values: the values key it comes from (messages name it)."""
    replicas: Any = MISSING
    """For a workload read from Helm values: its replica count there (MISSING: the chart's default, 1)."""

    def field(self, *names: str) -> str:
        if self.values_path is not None:
            last = names[-1] if names else ""
            helm = {"labels": "podLabels", "annotations": "podAnnotations", "containers": ""}.get(last, last)
            return ".".join(p for p in (self.values_path, helm) if p)
        return ".".join(p for p in (self.path, *names) if p)


def template_from(path: str, template: Any, **kw: Any) -> PodTemplate:
    """A PodTemplate over ``template`` (a PodTemplateSpec-shaped value found at ``path``)."""
    tpl = PodTemplate(path=path, metadata=get(template, "metadata"), spec=get(template, "spec"), **kw)
    for key, init in (("containers", False), ("initContainers", True)):
        raw = get(tpl.spec, key)
        if raw is UNKNOWN or tpl.spec is UNKNOWN or template is UNKNOWN:
            if not init:
                tpl.containers_unknown = True
            continue
        for index, item in enumerate(elements(raw)):
            where = tpl.field("spec", f"{key}[{index}]") if tpl.values_path is None else \
                (tpl.values_path if not init else f"{tpl.values_path}.initContainers[{index}]")
            if item is UNKNOWN:
                if not init:
                    tpl.containers_unknown = True
                continue
            name = text(get(item, "name")) or f"#{index}"
            tpl.containers.append(Container(name=name, path=where, value=item, init=init))
    return tpl


def pod_template(res: Res) -> PodTemplate | None:
    """The pod template of a known workload kind (or its Patch); None for anything else."""
    path = pod_template_path(res.type)
    if path is None:
        return None
    template = get(res.props, *path) if path else res.props
    return template_from(".".join(path), template, kind=base_type(res.type), partial=is_patch(res.type))


@dataclass
class Workloads:
    """What a resource runs, as the rules see it."""

    templates: list[PodTemplate] = field(default_factory=list)
    unverifiable: str | None = None
    """Why the pods cannot be read: a pod template in a kind the pack does not know."""
    uninspectable: str | None = None
    """Why a Helm release's workloads cannot be read (its chart's shape is not known)."""


def workloads(res: Res) -> Workloads:
    """Every pod template a resource carries: one for a workload kind or its Patch, those a known
    Helm chart renders from its values, none for anything else (with the reason it cannot be read
    when it may carry pods). The one accessor every workload rule goes through."""
    return _workloads(res)


@per_call_cache
def _workloads(res: Res) -> Workloads:
    tpl = pod_template(res)
    if tpl is not None:
        return Workloads([tpl])
    if res.type == HELM_RELEASE:
        from . import helm_values  # the chart table imports this module

        return helm_values.release_workloads(res)
    if not res.type.startswith("kubernetes:") or res.type in COMPONENT_TYPES or get(res.props, "spec") is UNKNOWN:
        return Workloads()  # a custom object whose whole spec is computed: nothing says it runs pods
    for path in UNKNOWN_KIND_FIELDS:
        if get(res.props, *path) is not MISSING:
            return Workloads(unverifiable=(
                f"cannot verify {res.label}: {res.type} carries {'.'.join(path)}, a pod template in a kind this "
                "pack does not read; run it through a Deployment, StatefulSet, DaemonSet, Job or CronJob, or "
                "exempt it deliberately"))
    return Workloads()


def rule_templates(res: Res, c: Check, *, advise: bool = False) -> list[PodTemplate]:
    """The pod templates a workload rule judges, after failing closed on an unknown kind (a
    violation of the rule) and, where ``advise``, noting a Helm release it cannot inspect."""
    found = workloads(res)
    if found.unverifiable is not None:
        c.violation(found.unverifiable)
    if found.uninspectable is not None and advise:
        c.advise(found.uninspectable)
    for tpl in found.templates:
        if tpl.containers_unknown:
            c.unknown(tpl.field("spec", "containers"))
    return found.templates


def stack_templates(stack: Stack, types: tuple[str, ...] = WORKLOAD_TYPES + (HELM_RELEASE,)
                    ) -> list[tuple[Res, PodTemplate]]:
    """Every (workload, pod template) of the stack, built once per stack and shared by stack rules."""
    return stack.index(f"templates:{','.join(types)}", lambda s: [
        (r, tpl) for r in s.of_type(*types) for tpl in workloads(r).templates])


# --- accelerators -------------------------------------------------------------------------------

ACCELERATOR_PATTERNS = accelerators.RESOURCE_PATTERNS


def accelerator_names(container: Any, patterns: Sequence[str] = ACCELERATOR_PATTERNS) -> tuple[list[str], bool]:
    """The accelerator resources a container names in limits or requests, and whether its
    resources (or one of those maps) are unknown."""
    resources = get(container, "resources")
    if resources is UNKNOWN:
        return [], True
    names: list[str] = []
    unknown = False
    for kind in ("limits", "requests"):
        raw = get(resources, kind)
        if raw is UNKNOWN:
            unknown = True
        for key, _ in entries(raw):
            if key not in names and accelerators.is_accelerator(key, patterns):
                names.append(key)
    return names, unknown


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


def container_need(container: Any, resource: str) -> tuple[float, bool]:
    """What one container asks of ``resource`` (the limit, else the request: an extended
    resource's request defaults to its limit), and whether that is unknown."""
    if get(container, "resources") is UNKNOWN:
        return 0.0, True
    amount = gpu_amount(container, resource)
    value = amount.limit if amount.limit is not MISSING else amount.request
    if value is UNKNOWN:
        return 0.0, True
    count = gpus_of(value)
    return (count if count is not None and count > 0 else 0.0), False


def effective_need(app: Sequence[float], init: Sequence[tuple[float, bool]]) -> float:
    """A pod's effective request for one resource, as Kubernetes computes it (kubernetes.io,
    "Effective Pod requests and limits"; component-helpers ``resource.PodRequests``): the larger
    of the app containers plus every sidecar, and, for each init container in order, its own
    request plus the sidecars started before it. ``init`` is (request, is sidecar) in order."""
    sidecars = 0.0
    init_peak = 0.0
    for amount, sidecar in init:
        if sidecar:
            sidecars += amount
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, amount + sidecars)
    return max(sum(app) + sidecars, init_peak)


def pod_needs(tpl: PodTemplate, patterns: Sequence[str] = ACCELERATOR_PATTERNS) -> tuple[dict[str, float], bool]:
    """Per accelerator resource, what one pod needs (``effective_need``), and whether some amount
    is unknown (the containers, a resources map, or a value)."""
    unknown = tpl.containers_unknown
    names: list[str] = []
    for c in tpl.containers:
        found, some_unknown = accelerator_names(c.value, patterns)
        unknown = unknown or some_unknown
        names.extend(n for n in found if n not in names)
    needs: dict[str, float] = {}
    for name in names:
        app: list[float] = []
        init: list[tuple[float, bool]] = []
        for c in tpl.containers:
            amount, amount_unknown = container_need(c.value, name)
            unknown = unknown or amount_unknown
            if c.init:
                init.append((amount, c.sidecar))
            else:
                app.append(amount)
        need = effective_need(app, init)
        if need > 0:
            needs[name] = need
    return needs, unknown


def pod_gpus(tpl: PodTemplate, resources: Sequence[str] = ACCELERATOR_PATTERNS) -> tuple[float, bool]:
    """Accelerators one pod needs, over every accelerator resource, and whether some is unknown."""
    needs, unknown = pod_needs(tpl, resources)
    return sum(needs.values()), unknown


def is_gpu_workload(tpl: PodTemplate, resources: Sequence[str] = ACCELERATOR_PATTERNS) -> bool:
    return pod_gpus(tpl, resources)[0] > 0


def is_inference(res: Res, tpl: PodTemplate | None, s: PackSettings, component_labels: Mapping[str, str] | None = None,
                 gpu_resources: Sequence[str] = ACCELERATOR_PATTERNS) -> bool:
    """An inference workload: labelled as one (``app.kubernetes.io/component: inference``), carrying
    governance annotations, or asking for accelerators (on this platform they serve models)."""
    wanted = dict(component_labels or {APP_COMPONENT: INFERENCE_COMPONENT})
    labels: dict[str, str] = {}
    if tpl is None or tpl.values_path is None:
        labels, _ = labels_of(res.props)
    if tpl is not None:
        template_labels, _ = labels_of({"metadata": tpl.metadata})
        labels = {**template_labels, **labels}
    if any(labels.get(k) == v for k, v in wanted.items()):
        return True
    prefix = f"{s.governance_prefix}/"
    for metadata in _metadatas(res, tpl):
        for key, _ in entries(get(metadata, "annotations")):
            if key.startswith(prefix):
                return True
    return tpl is not None and is_gpu_workload(tpl, gpu_resources)


def inference_unknown(res: Res, tpl: PodTemplate, s: PackSettings) -> bool:
    """A Patch that sets containers but says nothing that tells whether the workload serves a
    model: the live object decides, so a rule needing it cannot verify it."""
    if not tpl.partial or not tpl.containers or is_inference(res, tpl, s):
        return False
    labels, _ = labels_of({"metadata": tpl.metadata})
    return APP_COMPONENT not in labels


def _metadatas(res: Res, tpl: PodTemplate | None) -> tuple[Any, ...]:
    if tpl is not None and tpl.values_path is not None:
        return (tpl.metadata,)  # a Helm release's own metadata is not its pods'
    return (get(res.props, "metadata"), tpl.metadata if tpl is not None else MISSING)


def governance_annotations(res: Res, tpl: PodTemplate | None) -> tuple[dict[str, str], set[str]]:
    """The workload's annotations merged with its pod template's (the template wins), and the keys
    whose value is unknown in both."""
    merged: dict[str, str] = {}
    unknown: set[str] = set()
    for metadata in _metadatas(res, tpl):
        known, unknown_keys, whole_unknown = annotations_of(metadata)
        merged.update(known)
        unknown.update(unknown_keys)
        if whole_unknown:
            unknown.add("*")
    return merged, {k for k in unknown if k not in merged}


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
