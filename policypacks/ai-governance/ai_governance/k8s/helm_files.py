"""A Helm v3 ``Release``'s values as Helm computes them: its ``valueYamlFiles`` first, in order,
then its inline ``values`` on top (pulumi-kubernetes passes both to Helm in that order; later
sources win key by key, maps merge recursively).

``valueYamlFiles`` are assets. Only a text asset carries its content in the resource's inputs;
a file, remote or archive asset names content the pack never receives (and under preview it may
not exist yet), so such a release's values are unknown: its workloads fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ..props import MISSING, UNKNOWN, elements, entries, get
from ..resources import Res

MAX_VALUES_TEXT = 1 << 20
"""Longest values file parsed (bounded parsing)."""
MAX_DEPTH = 64
ASSET_SIG_KEY, ASSET_SIG = "4dabf18193072939515e22adb298388d", "c44067f5952c0a294b673a41bacd8c17"
"""The engine's marker of a serialized asset (pulumi's rpc protocol)."""


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases: an alias can make a small file expand without bound."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not accepted in values files")
        return super().compose_node(parent, index)  # type: ignore[misc]


def asset_text(item: Any) -> Any:
    """A text asset's content; None for an asset whose content is not in the inputs; UNKNOWN."""
    if item is UNKNOWN:
        return UNKNOWN
    content = getattr(item, "text", None)  # pulumi.StringAsset, as pulumi-policy deserializes it
    if isinstance(item, Mapping):
        content = item.get("text") if item.get(ASSET_SIG_KEY) == ASSET_SIG else None
    return content if isinstance(content, str) else None


def parse_values(content: str) -> dict[str, Any]:
    """One values file's map; ValueError says what is wrong with it."""
    if len(content) > MAX_VALUES_TEXT:
        raise ValueError(f"longer than {MAX_VALUES_TEXT} characters")
    try:
        doc = yaml.load(content, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError(f"a values file is a map, not {type(doc).__name__}")
    return doc


def merge(base: Any, top: Any, depth: int = 0) -> Any:
    """Helm's merge of two values sources: maps merge key by key, anything else in ``top`` wins."""
    if not isinstance(base, Mapping) or not isinstance(top, Mapping) or depth > MAX_DEPTH:
        return top
    merged = {k: v for k, v in entries(base)}
    for key, value in entries(top):
        merged[key] = merge(merged[key], value, depth + 1) if key in merged else value
    return merged


def release_values(res: Res) -> tuple[Any, str | None]:
    """(the values Helm renders the release with, or UNKNOWN; why they are unknown when it is
    the values files)."""
    values = get(res.props, "values")
    files = get(res.props, "valueYamlFiles")
    if files is MISSING or files == [] or files is None:
        return values, None
    if files is UNKNOWN:
        return UNKNOWN, "its valueYamlFiles are unknown"
    merged: Any = {}
    for index, item in enumerate(elements(files)):
        content = asset_text(item)
        where = f"valueYamlFiles[{index}]"
        if content is UNKNOWN:
            return UNKNOWN, f"{where} is unknown"
        if content is None:
            return UNKNOWN, f"{where} is a file or remote asset whose content the pack does not receive"
        try:
            merged = merge(merged, parse_values(content))
        except ValueError as exc:
            return UNKNOWN, f"{where}: {exc}"
    if values is UNKNOWN:
        return UNKNOWN, None
    return (merge(merged, values) if isinstance(values, Mapping) else merged), None
