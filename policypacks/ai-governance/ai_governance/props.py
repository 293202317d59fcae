"""Safe property access: how every rule reads a resource's properties.

Policy ``props`` are the SDK's read-only proxies over the engine's camelCase inputs: numbers arrive
as floats, a computed value is the engine's unknown marker and reading one through the proxy raises
``UnknownValueError``. ``get`` and friends never raise: they return the value, ``MISSING`` (absent,
null or of the wrong shape) or ``UNKNOWN``. Rules read only the fields they need and decide
themselves what an unknown means.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

# --- the engine's markers -----------------------------------------------------------------------

UNKNOWN_MARKERS = frozenset({
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (the one the engine sends for any computed input)
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})


class Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = Marker("<unknown>")
"""A value the engine will only know at apply time."""
MISSING: Any = Marker("<missing>")
"""Absent, null, or not the shape the rule asked for."""


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def child(container: Any, key: Any) -> Any:
    """``container[key]`` as a value, ``MISSING`` or ``UNKNOWN``; never raises."""
    if container is UNKNOWN:
        return UNKNOWN
    try:
        if isinstance(container, Mapping):
            if not isinstance(key, str):
                return MISSING
            value = container[key]
        elif _is_seq(container) and isinstance(key, int) and not isinstance(key, bool):
            if not -len(container) <= key < len(container):
                return MISSING
            value = container[key]
        else:
            return MISSING
    except UnknownValueError:
        return UNKNOWN
    except (KeyError, IndexError, TypeError, ValueError):
        return MISSING
    if isinstance(value, str) and value in UNKNOWN_MARKERS:
        return UNKNOWN
    if value is None:
        return MISSING
    return value


def get(obj: Any, *path: Any) -> Any:
    """Walk ``path`` (keys and list indexes); the first missing or unknown step decides."""
    value = obj
    for key in path:
        value = child(value, key)
        if value is MISSING or value is UNKNOWN:
            return value
    return value


def mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def entries(value: Any) -> list[tuple[str, Any]]:
    """A mapping's (key, value) pairs with unknown values as ``UNKNOWN``; [] for anything else."""
    if not isinstance(value, Mapping):
        return []
    result = []
    try:
        keys = list(value)
    except Exception:  # noqa: BLE001 - a hostile mapping is simply empty
        return []
    for key in keys:
        if isinstance(key, str):
            result.append((key, child(value, key)))
    return result


def elements(value: Any) -> list[Any]:
    """A list's elements with unknown ones as ``UNKNOWN``; [] for anything else."""
    if not _is_seq(value):
        return []
    return [child(value, i) for i in range(len(value))]


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def flag(value: Any) -> bool | None:
    """A boolean, also from the strings "true"/"false" (AWS launch templates spell it so)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def string_map(value: Any) -> tuple[dict[str, str], list[str]]:
    """A str->str map (non-strings dropped) and the keys whose value is unknown."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for key, item in entries(value):
        if item is UNKNOWN:
            unknown.append(key)
        elif isinstance(item, str):
            known[key] = item
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            known[key] = str(item)
    return known, unknown


def to_plain(value: Any, depth: int = 0) -> Any:
    """A plain dict/list copy of SDK proxies; unknown values become the engine's unknown marker."""
    if depth > 64:
        return None
    if value is UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        return {k: to_plain(v, depth + 1) for k, v in entries(value)}
    if _is_seq(value):
        return [to_plain(v, depth + 1) for v in elements(value)]
    return value


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    """Shell-style patterns: ``g5.*``, ``us-*``, ``*``."""
    return any(fnmatch.fnmatchcase(value, p) for p in patterns if isinstance(p, str))


def short(value: Any, limit: int = 80) -> str:
    """A value for a message, cut to ``limit`` characters."""
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
