"""The persistent volumes a Helm release asks for, read from its values: what the estimate prices for charts.

A chart's StatefulSets claim their volumes themselves, so no volume is a registered resource; the
release's values say how big and how many. Each known chart lists where in its values a volume
claim template and its replica count sit (keys as in the chart's values.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .quantity import GIB, quantity
from .values import integer, known_str, mapping


@dataclass(frozen=True)
class ChartVolume:
    what: str
    claim: tuple[str, ...]
    """Path of the ``volumeClaimTemplate`` in the chart's values."""
    replicas: tuple[str, ...]
    """Path of the replica count (each replica claims its own volume)."""


CHART_VOLUMES: dict[str, tuple[ChartVolume, ...]] = {
    "kube-prometheus-stack": (
        ChartVolume("Prometheus", ("prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate"),
                    ("prometheus", "prometheusSpec", "replicas")),
        ChartVolume("Alertmanager", ("alertmanager", "alertmanagerSpec", "storage", "volumeClaimTemplate"),
                    ("alertmanager", "alertmanagerSpec", "replicas")),
    ),
}


@dataclass(frozen=True)
class Claim:
    what: str
    gib: float
    replicas: int
    storage_class: str | None


def _at(values: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        values = mapping(values).get(key)
    return values


def gib(size: Any) -> float | None:
    """A storage quantity (``100Gi``) in GiB; None when it is not a known, non-negative quantity string."""
    found = quantity(known_str(size))
    return None if found is None or found < 0 else found / GIB


def claims(inputs: Mapping[str, Any]) -> list[Claim]:
    """The volume claims of a ``kubernetes:helm.sh/v3:Release``'s inputs (engine form), for known charts."""
    values = mapping(inputs.get("values"))
    found = []
    for volume in CHART_VOLUMES.get(known_str(inputs.get("chart")) or "", ()):
        template = mapping(_at(values, volume.claim))
        spec = mapping(template.get("spec"))
        size = gib(mapping(mapping(spec.get("resources")).get("requests")).get("storage"))
        if size is None:
            continue
        replicas = integer(_at(values, volume.replicas))
        found.append(Claim(volume.what, size, replicas if replicas is not None and replicas > 0 else 1,
                           known_str(spec.get("storageClassName"))))
    return found
