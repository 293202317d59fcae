"""How many replicas a workload runs at least: its HorizontalPodAutoscaler's minReplicas when one
targets it, else its own count; the HPAs indexed once per stack."""

from __future__ import annotations

from typing import Any

from . import k8s
from .framework import Check
from .props import MISSING, get
from .resources import Res, Stack


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


__all__ = ["hpa_index", "min_replicas"]
