"""Workload reliability: containers with resources, inference that survives a node drain, and
model servers that take traffic only once ready."""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_policy import Severity

from . import aws, k8s
from .framework import Check, Setting, environments_setting, resource_rule, stack_rule
from .props import MISSING, UNKNOWN, get, short, string_map
from .replicas import hpa_index, min_replicas
from .resources import Res, Stack

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
    description="Every container sets cpu and memory requests and a memory limit.",
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
    description="In prod, inference Deployments run at least 2 replicas and a PodDisruptionBudget selects them.",
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
                "and known Helm charts) have a readiness probe.",
    severity=Severity.MEDIUM,
    remediation="Give the model server a readiness endpoint and set services[].probes.readinessPath; the "
                "InferenceService component adds readiness, liveness and startup probes.",
    types=k8s.may_carry_pods,
    check=_probes_check,
    tags=["kubernetes", "reliability"],
)


POLICIES = [CONTAINER_RESOURCES, INFERENCE_AVAILABILITY, INFERENCE_PROBES]

__all__ = ["POLICIES", "pdb_index"]
