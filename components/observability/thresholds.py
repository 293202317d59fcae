"""The evaluation thresholds per risk tier, from the same place the ``evaluation-gate`` policy reads them.

That place is the stack's policy pack config, ``policypacks/ai-governance/config/<stack>.json``
(``evaluation-gate.thresholds``), which ``pulumi preview --policy-pack-config`` and preflight hand
to the pack; where it sets none, the gate's default (``DEFAULT_EVALUATION_THRESHOLDS``) applies, here too.
So a threshold that gates a deploy is the very threshold its production alert fires on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ai_platform_finops.governance import DEFAULT_EVALUATION_THRESHOLDS
from preflight.bounded import BoundedReadError, load_json

ROOT = Path(__file__).resolve().parents[2]
GATE = "evaluation-gate"

Thresholds = dict[str, dict[str, dict[str, float]]]
"""risk tier -> metric -> {"min": x} and/or {"max": y}."""


def pack_config_path(stack: str, root: Path = ROOT) -> Path:
    return root / "policypacks" / "ai-governance" / "config" / f"{stack}.json"


def thresholds_from(pack_config: Any) -> Thresholds:
    """The gate's thresholds in a parsed pack config, else its default; malformed entries are dropped
    (the pack reports them), numbers only."""
    gate = pack_config.get(GATE) if isinstance(pack_config, Mapping) else None
    raw = gate.get("thresholds") if isinstance(gate, Mapping) else None
    if not isinstance(raw, Mapping):
        raw = DEFAULT_EVALUATION_THRESHOLDS
    result: Thresholds = {}
    for tier, metrics in raw.items():
        if not isinstance(metrics, Mapping):
            continue
        result[str(tier)] = {
            str(metric): {k: float(v) for k, v in bounds.items()
                          if k in ("min", "max") and isinstance(v, (int, float)) and not isinstance(v, bool)}
            for metric, bounds in metrics.items() if isinstance(bounds, Mapping)
        }
    return result


def stack_thresholds(stack: str, root: Path = ROOT) -> Thresholds:
    """This stack's thresholds; a missing pack config means the gate's defaults (as the pack would use)."""
    path = pack_config_path(stack, root)
    if not path.exists():
        return thresholds_from(None)
    try:
        return thresholds_from(load_json(path, f"policypacks/ai-governance/config/{stack}.json"))
    except BoundedReadError as error:
        raise ValueError(str(error)) from None


def tier_thresholds(thresholds: Thresholds, tier: str) -> dict[str, dict[str, float]]:
    """A tier's bounds; an unknown tier uses 'high', the strictest, as the gate does."""
    return thresholds.get(tier, thresholds.get("high", {}))
