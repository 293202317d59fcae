"""Node taints and Kubernetes toleration matching."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..props import UNKNOWN, get

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
