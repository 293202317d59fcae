"""Defensive readers for engine-form property values.

Resource inputs arrive as the engine has them: camelCase keys, JSON numbers as floats, values
computed at apply time as the unknown marker, secrets in the engine's envelope. A hand-edited
program or a fuzzer can put anything anywhere, so every reader returns None rather than raise.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's marker for a value not known until apply."""
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def unwrap(value: Any) -> Any:
    """A secret envelope's value (the estimator never prints it), else the value itself."""
    if isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return value.get("value")
    return value


def is_unknown(value: Any) -> bool:
    return unwrap(value) == UNKNOWN


def mapping(value: Any) -> Mapping[str, Any]:
    value = unwrap(value)
    return value if isinstance(value, Mapping) else {}


def seq(value: Any) -> list[Any]:
    value = unwrap(value)
    return list(value) if isinstance(value, (list, tuple)) else []


def known_str(value: Any) -> str | None:
    value = unwrap(value)
    return value if isinstance(value, str) and value != UNKNOWN else None


def number(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string; None otherwise."""
    value = unwrap(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    result = number(value)
    if result is None or not result.is_integer() or abs(result) > 10**9:
        return None
    return int(result)
