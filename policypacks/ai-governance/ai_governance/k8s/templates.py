"""Pod templates as rules read them: a workload's template with its containers and the paths
messages name, and ``Workloads``, what one resource runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..props import MISSING, UNKNOWN, elements, get, text
from ..resources import Res
from .kinds import base_type, is_patch, pod_template_path


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
