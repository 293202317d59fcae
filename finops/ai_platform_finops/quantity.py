"""Kubernetes resource quantities (``"500m"``, ``"16Gi"``, ``"1e3"``, ``1.0``) as numbers.

The grammar is apimachinery's ``resource.Quantity``: a signed decimal, an optional exponent or one
suffix, decimal (``k`` ... ``E``, ``m``) or binary (``Ki`` ... ``Ei``).
"""

from __future__ import annotations

import math
import re
from typing import Any

_QUANTITY = re.compile(r"^\s*([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?\s*$")
_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60}
GIB = 2.0**30


def quantity(value: Any) -> float | None:
    """A quantity as a number (cores, bytes, devices); None when it is not one or not finite."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    try:
        base = float(match.group(1)) * (10.0 ** int(match.group(2) or 0))
    except (ValueError, OverflowError):
        return None
    result = base * _SUFFIX[match.group(3) or ""]
    return result if math.isfinite(result) else None
