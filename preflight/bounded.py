"""Bounded reading of every file preflight parses: stack files, Pulumi.yaml, PulumiPolicy.yaml,
baselines, policy pack configs and price snapshots.

A hostile or broken file must fail in well under a second and a few MiB, with one
``file: what is wrong`` line, never a traceback or an exhausted machine. So:

- only regular files are read (``/dev/zero``, a FIFO or a directory is refused, and a FIFO is
  opened non-blocking so that refusing it cannot hang), and never more than a size cap;
- YAML is the safe subset Pulumi's own parser accepts: plain mappings, sequences and scalars, no
  explicit tags beyond those, duplicate keys rejected (as Pulumi rejects them), nesting depth and
  the size after alias expansion capped, recursive aliases refused, numbers finite and at most
  64-bit;
- JSON rejects ``NaN``/``Infinity``, integers beyond 64 bits, floats that overflow, duplicate keys
  and excessive depth.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

KIB, MIB = 1024, 1024 * 1024
CONFIG_LIMIT = 1 * MIB
"""Stack files, Pulumi.yaml, PulumiPolicy.yaml and pack configs (real ones are a few KiB)."""
REPORT_LIMIT = 16 * MIB
"""Baselines: a preflight/v1 report of a very large stack stays far below this."""
PRICES_LIMIT = 4 * MIB
"""Price snapshots (a whole region is about 40 KiB)."""
MAX_DEPTH = 64
"""Nesting of mappings and sequences; the stack config contract is at most 6 deep."""
MAX_NODES = 50_000
"""YAML values, as written and after alias expansion (a handful of aliases must not become a
billion values); the shipped prod stack has about 400."""
MAX_JSON_VALUES = 1_000_000
"""JSON values (about 250 MiB parsed); the prod stack's report has about 5,000."""
MAX_INT = 2**63
"""Integers as Go's int64 (the Pulumi CLI parses config numbers into it)."""
MAX_NUMBER_CHARS = 100
"""Longest number literal; Python refuses to even parse ints of 4,300 digits."""


class BoundedReadError(Exception):
    """A file that cannot be read or parsed within bounds; ``str()`` is ``file: what is wrong``."""

    def __init__(self, source: str, problem: str, kind: str = "file"):
        self.source = source
        self.problem = problem
        self.kind = kind
        """'file' (cannot be read within bounds), 'yaml' or 'json' (cannot be parsed within bounds)."""
        super().__init__(f"{source}: {problem}")


def _human(size: int) -> str:
    return f"{size / MIB:g} MiB" if size >= MIB else f"{size / KIB:g} KiB" if size >= KIB else f"{size} bytes"


def read_bytes(path: str | os.PathLike[str], limit: int, source: str | None = None) -> bytes:
    """At most ``limit`` bytes of a regular file; anything else raises BoundedReadError."""
    shown = source or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise BoundedReadError(shown, "not found") from None
    except OSError as exc:
        raise BoundedReadError(shown, f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket"
                    if stat.S_ISSOCK(info.st_mode) else "not a file")
            raise BoundedReadError(shown, f"is {kind}, not a regular file")
        if info.st_size > limit:
            raise BoundedReadError(shown, f"is {_human(info.st_size)}, over the {_human(limit)} limit")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 * MIB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise BoundedReadError(shown, f"grew over the {_human(limit)} limit while being read")
        return b"".join(chunks)
    except OSError as exc:
        raise BoundedReadError(shown, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], limit: int, source: str | None = None) -> str:
    data = read_bytes(path, limit, source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BoundedReadError(source or str(path), f"is not UTF-8 text (at byte offset {exc.start})") from None


# --- YAML --------------------------------------------------------------------------------------

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_ALLOWED_TAGS = frozenset({_STR, _MAP, _SEQ, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool",
                           "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:merge"})
_DROPPED_RESOLVERS = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"})


class _Limit(yaml.YAMLError):
    def __init__(self, problem: str, mark: Any = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader with depth, tag, number and duplicate-key limits; dates stay strings, as in Pulumi."""

    yaml_implicit_resolvers = {
        first: [r for r in resolvers if r[0] not in _DROPPED_RESOLVERS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        # The composer recurses once per level: stop long before Python's recursion limit. And count
        # nodes as they are built, so a wide document stops early instead of filling memory.
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Limit(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            if self._nodes > MAX_NODES:
                raise _Limit(f"holds more than {MAX_NODES:,} values", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` overrides are allowed, as in Pulumi
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise _Limit("a mapping key must be a scalar", key_node.start_mark) from None
            if duplicate:
                raise _Limit(f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]

    def construct_yaml_int(self, node: ScalarNode) -> int:  # type: ignore[override]
        if len(node.value) > MAX_NUMBER_CHARS:
            raise _Limit(f"number {node.value[:20]}... has {len(node.value)} characters", node.start_mark)
        value = super().construct_yaml_int(node)
        if not -MAX_INT <= value < MAX_INT:
            raise _Limit(f"integer {node.value[:24]} is beyond 64 bits", node.start_mark)
        return value

    def construct_yaml_float(self, node: ScalarNode) -> float:  # type: ignore[override]
        if len(node.value) > MAX_NUMBER_CHARS:
            raise _Limit(f"number {node.value[:20]}... has {len(node.value)} characters", node.start_mark)
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Limit(f"number {node.value[:24]} is not finite", node.start_mark)
        return value


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)
_BoundedLoader.add_constructor("tag:yaml.org,2002:float", _BoundedLoader.construct_yaml_float)


def _check_graph(root: Node) -> None:
    """Tags, recursion, expanded depth and expanded size of a composed document. Aliases share
    nodes, so (size, height) is memoized per node: the walk is linear in the text however large
    the expansion would be."""
    seen: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def walk(node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in active:
            raise _Limit("an alias refers to the node that contains it", node.start_mark)
        if key not in seen:
            if depth > MAX_DEPTH:
                raise _Limit(f"nested deeper than {MAX_DEPTH} levels once aliases are expanded", node.start_mark)
            if node.tag not in _ALLOWED_TAGS:
                raise _Limit(f"tag {node.tag!r} is not allowed (only plain mappings, sequences and scalars)",
                             node.start_mark)
            active.add(key)
            children = (node.value if isinstance(node, SequenceNode)
                        else [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else [])
            total, height = 1, 0
            for item in children:
                size, below = walk(item, depth + 1)
                total, height = total + size, max(height, below)
            active.discard(key)
            seen[key] = (total, height + 1)
        total, height = seen[key]
        if total > MAX_NODES:
            raise _Limit(f"expands to more than {MAX_NODES:,} values (aliases)", node.start_mark)
        if depth + height - 1 > MAX_DEPTH:
            raise _Limit(f"nested deeper than {MAX_DEPTH} levels once aliases are expanded", node.start_mark)
        return total, height

    walk(root, 1)


def loads_yaml(text: str, source: str) -> Any:
    """Parse one YAML document within the limits above; BoundedReadError names the line."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise BoundedReadError(source, f"{line}{problem}", "yaml") from None
    except RecursionError:  # belt and braces: the depth limit fires first
        raise BoundedReadError(source, f"nested deeper than {MAX_DEPTH} levels", "yaml") from None
    finally:
        loader.dispose()


def load_yaml(path: str | os.PathLike[str], source: str | None = None, limit: int = CONFIG_LIMIT) -> Any:
    return loads_yaml(read_text(path, limit, source), source or str(path))


# --- JSON --------------------------------------------------------------------------------------

class _JsonLimit(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _JsonLimit(f"{name} is not a JSON number")


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _JsonLimit(f"number {literal[:20]}... has {len(literal)} digits")
    value = int(literal)
    if not -MAX_INT <= value < MAX_INT:
        raise _JsonLimit(f"integer {literal[:24]} is beyond 64 bits")
    return value


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _JsonLimit(f"number {literal[:20]}... has {len(literal)} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise _JsonLimit(f"number {literal[:24]} is out of range")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonLimit(f"duplicate key {key!r}")
        result[key] = value
    return result


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed document (iterative: the document may be deep)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def loads_json(text: str, source: str, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON: no NaN/Infinity, 64-bit integers, finite floats, unique keys, bounded depth and
    a bounded number of values (counted before parsing: each costs ~100 bytes once parsed)."""
    values = text.count(",") + text.count("[") + text.count("{")  # an upper bound, counted in C
    if values > MAX_JSON_VALUES:
        raise BoundedReadError(source, f"holds more than {MAX_JSON_VALUES:,} values", "json")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float,
                           object_pairs_hook=_unique_object)
    except _JsonLimit as exc:
        raise BoundedReadError(source, str(exc), "json") from None
    except json.JSONDecodeError as exc:
        raise BoundedReadError(source, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                               "json") from None
    except RecursionError:
        raise BoundedReadError(source, f"nested deeper than {max_depth} levels", "json") from None
    if json_depth(value) > max_depth:
        raise BoundedReadError(source, f"nested deeper than {max_depth} levels", "json")
    return value


def load_json(path: str | os.PathLike[str], source: str | None = None, limit: int = CONFIG_LIMIT) -> Any:
    return loads_json(read_text(path, limit, source), source or str(path))


def same_file(a: Path, b: Path) -> bool:
    """Do two paths name one file (through symlinks, ``..`` or hard links)?"""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
