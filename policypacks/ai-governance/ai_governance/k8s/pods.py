"""Which pods a resource runs: the one accessor every workload rule goes through, for workload kinds,
their Patches and Helm releases alike, failing closed on a kind the pack cannot read."""

from __future__ import annotations

from ..framework import Check
from ..props import MISSING, UNKNOWN, get
from ..resources import Res, Stack
from ..sdk_hooks import per_call_cache
from . import helm_values
from .kinds import COMPONENT_TYPES, HELM_RELEASE, UNKNOWN_KIND_FIELDS, WORKLOAD_TYPES
from .templates import PodTemplate, Workloads, pod_template


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
