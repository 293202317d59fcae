"""The accelerators a pod asks for, as the scheduler counts them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ai_platform_finops import accelerators
from ai_platform_finops.accelerators import GPU_RESOURCE
from ai_platform_finops.quantity import quantity

from ..props import MISSING, UNKNOWN, entries, get
from .templates import PodTemplate

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
