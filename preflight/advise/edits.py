"""Stack-file edits: one shape for pricing (the flat config the engine reads) and for ``--patch`` (a
ruamel.yaml round trip that keeps comments, order and flow style).

Only the keys below may change: capacity and schedule of a node pool, the minimum replicas of a
service. Governance (model, ethics, evaluation), budgets, tags and everything else are out of reach
by construction: :func:`check` refuses any other path.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

POOLS, SERVICES = "nodePools", "services"
ALLOWED: dict[str, frozenset[tuple[str, ...]]] = {
    POOLS: frozenset({("instanceTypes",), ("capacityType",), ("minSize",), ("desiredSize",), ("offPeak",)}),
    SERVICES: frozenset({("replicas", "min")}),
}


class EditError(Exception):
    pass


@dataclass(frozen=True)
class Edit:
    section: str
    """``nodePools`` or ``services`` (under the project's namespace)."""
    name: str
    """The pool's or service's name."""
    path: tuple[str, ...]
    value: Any
    before: Any = None

    @property
    def where(self) -> str:
        return f"{self.section}[{self.name}].{'.'.join(self.path)}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.where, "from": self.before, "to": self.value}


def check(edit: Edit) -> None:
    if edit.path not in ALLOWED.get(edit.section, frozenset()):
        raise EditError(f"{edit.where}: the advisor never edits this key")


def _item(items: Any, name: str, where: str) -> Any:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    raise EditError(f"{where}: no entry named {name!r}")


KEY_ORDER = ("name", "role", "instanceTypes", "capacityType", "amiType", "minSize", "maxSize", "desiredSize",
             "diskSizeGib", "labels", "taints", "offPeak", "replicas", "min", "max")
"""Where a key the stack file lacks goes: after the last key that comes before it here (the shipped stacks' order)."""


def _last_leaf(node: CommentedMap) -> tuple[CommentedMap, Any]:
    """The map and key whose value is written last under ``node`` (where a trailing comment hangs)."""
    key = list(node)[-1]
    value = node[key]
    if isinstance(value, CommentedMap) and len(value):
        return _last_leaf(value)
    return node, key


def _trailing_comment(node: CommentedMap) -> Any:
    """Detach the comment lines ruamel hangs after the last value of ``node`` (they introduce what follows)."""
    if not len(node):
        return None
    owner, key = _last_leaf(node)
    entry = owner.ca.items.get(key)
    if entry and len(entry) > 2 and entry[2] is not None:
        token, entry[2] = entry[2], None
        return token
    return None


def _reattach(node: CommentedMap, token: Any) -> None:
    if token is None:
        return
    owner, key = _last_leaf(node)
    entry = owner.ca.items.setdefault(key, [None, None, None, None])
    entry[2] = token


def _styled(value: Any) -> Any:
    """Crons in double quotes, as the shipped stacks write them."""
    return DoubleQuotedScalarString(value) if isinstance(value, str) and " " in value else value


def _insert(node: CommentedMap, key: str, value: Any) -> None:
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    position = len(node)
    if key in rank:
        before = [i for i, k in enumerate(node) if rank.get(k, len(rank)) < rank[key]]
        position = before[-1] + 1 if before else 0
    node.insert(position, key, value)


def _set_round_trip(item: CommentedMap, path: tuple[str, ...], value: Any) -> None:
    trailing = _trailing_comment(item)
    node = item
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            _insert(node, key, CommentedMap())
        node = node[key]
    key = path[-1]
    current = node.get(key)
    if isinstance(current, CommentedSeq) and isinstance(value, list):
        current[:] = value  # in place: keeps the list's flow style and comments
    elif isinstance(current, CommentedMap) and isinstance(value, dict):
        for k in [k for k in current if k not in value]:
            del current[k]
        for k, v in value.items():
            current[k] = _styled(v)
    else:
        new = CommentedMap({k: _styled(v) for k, v in value.items()}) if isinstance(value, dict) else copy.deepcopy(value)
        if key in node:
            node[key] = new
        else:
            _insert(node, key, new)
    _reattach(item, trailing)


def _set(item: Any, path: tuple[str, ...], value: Any, round_trip: bool) -> None:
    if round_trip:
        _set_round_trip(item, path, value)
        return
    node = item
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = copy.deepcopy(value)


def config_key(config: Any, project: str, section: str) -> str:
    """The key the stack file uses for a section: ``<project>:<section>`` or the bare ``<section>``."""
    for key in (f"{project}:{section}", section):
        if key in config:
            return key
    raise EditError(f"{section}: not in the stack file (set in Pulumi.yaml?); the advisor edits stack files only")


def apply_flat(flat: dict[str, str], project: str, edits: list[Edit]) -> dict[str, str]:
    """The engine's flat config with ``edits`` applied (what the program and the estimator then see)."""
    out = dict(flat)
    for edit in edits:
        check(edit)
        key = f"{project}:{edit.section}"
        items = json.loads(out[key]) if key in out else []
        _set(_item(items, edit.name, edit.where), edit.path, edit.value, round_trip=False)
        out[key] = json.dumps(items)
    return out


def _yaml() -> YAML:
    # The settings preflight init writes with: never fold long values, two-space maps, offset lists.
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def patch_text(text: str, project: str, edits: list[Edit]) -> str:
    """The stack file's text with ``edits`` applied, everything else byte for byte where ruamel can."""
    yaml = _yaml()
    doc = yaml.load(text)
    config = doc["config"]
    for edit in edits:
        check(edit)
        items = config[config_key(config, project, edit.section)]
        _set(_item(items, edit.name, edit.where), edit.path, edit.value, round_trip=True)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def unified_diff(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))
