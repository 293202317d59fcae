"""IAM identity-policy documents, parsed bounded, and the questions the artifact rules ask of them.

A document is JSON text (``{"Version": ..., "Statement": [...] | {...}}``). Each statement has an
``Effect``, ``Action`` or ``NotAction`` and ``Resource`` or ``NotResource``, each a string or a list
of strings. Patterns use IAM's wildcards: ``*`` (any run of characters, ``:`` and ``/`` included) and
``?`` (one character); actions compare case-insensitively, resources case-sensitively. A policy
variable (``${aws:username}``) may expand to anything, so it reads as ``*``.

What a grant means is judged to fail closed: ``Condition`` blocks are not evaluated (a condition
only narrows an Allow, so ignoring it can only over-report), and ``Deny`` statements are not
subtracted (the same). A ``NotResource`` excludes a resource set only when one of its patterns
certainly covers all of it.

Bounds: the text is at most ``MAX_TEXT`` characters (IAM's own limits are lower: 10,240 for an inline
role policy, 6,144 for a managed one), at most ``MAX_STATEMENTS`` statements and ``MAX_ITEMS``
patterns per field; a pattern longer than ``MAX_PATTERN`` characters reads as ``*``. Matching two
patterns is a reachability walk over pairs of positions, so its cost is at most the product of
their lengths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TEXT = 65_536
MAX_STATEMENTS = 256
MAX_ITEMS = 256
MAX_PATTERN = 1_024
MAX_DEPTH = 32

_VARIABLE = re.compile(r"\$\{[^}]*\}")


class PolicyError(ValueError):
    """Why a policy document cannot be read (its message says what is wrong, briefly)."""


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: actions lower-cased, every field a tuple of patterns."""

    effect: str
    """"Allow" or "Deny"."""
    actions: tuple[str, ...]
    not_actions: bool
    """True: ``actions`` came from ``NotAction`` (the statement covers every other action)."""
    resources: tuple[str, ...]
    not_resources: bool
    """True: ``resources`` came from ``NotResource``."""
    sid: str = ""
    principal_everyone: bool = False
    """A resource policy's ``Principal`` is everyone (``*`` or ``{"AWS": "*"}``)."""
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(operator, key, values) of the ``Condition`` block; keys lower-cased, values as strings
    (JSON booleans as ``true``/``false``)."""

    def condition(self, operator: str, key: str) -> tuple[str, ...] | None:
        """The values of one condition (``Bool``, ``aws:SecureTransport``), or None when absent."""
        for op, k, values in self.conditions:
            if op == operator and k == key.lower():
                return values
        return None

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def covers_action(self, action: str) -> bool:
        """Does the statement apply to ``action`` (``s3:GetObject``)?"""
        hit = any(glob_match(p, action.lower()) for p in self.actions)
        return hit != self.not_actions

    def reaches(self, target: str) -> bool:
        """Does the statement apply to some resource matching the pattern ``target``?"""
        if self.not_resources:
            return not any(glob_covers(p, target) for p in self.resources)
        return any(glob_intersects(p, target) for p in self.resources)

    def reaches_all(self, target: str) -> bool:
        """Does the statement certainly apply to every resource matching ``target``?"""
        if self.not_resources:
            return not any(glob_intersects(p, target) for p in self.resources)
        return any(glob_covers(p, target) for p in self.resources)

    def covers_all_actions(self, prefix: str) -> bool:
        """Does the statement certainly apply to every action of a service (``s3:*``)?"""
        if self.not_actions:
            return not any(glob_intersects(p, prefix.lower()) for p in self.actions)
        return any(glob_covers(p, prefix.lower()) for p in self.actions)

    @property
    def label(self) -> str:
        return f"statement '{self.sid}'" if self.sid else "a statement"


def _depth(value: object, depth: int = 0) -> int:
    if depth > MAX_DEPTH:
        return depth
    if isinstance(value, dict):
        return max([_depth(v, depth + 1) for v in value.values()] or [depth])
    if isinstance(value, list):
        return max([_depth(v, depth + 1) for v in value] or [depth])
    return depth


def _strings(statement: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    raw = statement[key]
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{where}.{key} is not a string or a non-empty list of strings")
    if len(items) > MAX_ITEMS:
        raise PolicyError(f"{where}.{key} has more than {MAX_ITEMS} entries")
    if not all(isinstance(i, str) for i in items):
        raise PolicyError(f"{where}.{key} holds a value that is not a string")
    return tuple(_pattern(i) for i in items if isinstance(i, str))


def _pattern(value: str) -> str:
    value = _VARIABLE.sub("*", value.strip())
    return "*" if len(value) > MAX_PATTERN else value


def _statement(raw: object, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect is {effect!r}, not Allow or Deny")
    fields = []
    for plain, negated in (("Action", "NotAction"), ("Resource", "NotResource")):
        present = [k for k in (plain, negated) if k in raw]
        if len(present) != 1:
            raise PolicyError(f"{where} needs exactly one of {plain} and {negated}")
        fields.append((_strings(raw, present[0], where), present[0] == negated))
    (actions, not_actions), (resources, not_resources) = fields
    sid = raw.get("Sid")
    return Statement(effect, tuple(a.lower() for a in actions), not_actions, resources, not_resources,
                     sid if isinstance(sid, str) else "", _everyone(raw.get("Principal")),
                     _conditions(raw.get("Condition"), where))


def _everyone(principal: object) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _value(item: object) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _conditions(raw: object, where: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}.Condition is not an object")
    found = []
    for operator, block in raw.items():
        if not isinstance(block, dict):
            raise PolicyError(f"{where}.Condition.{operator} is not an object")
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            found.append((str(operator), str(key).lower(), tuple(_value(v) for v in items[:MAX_ITEMS])))
    return tuple(found)


def parse(text: str) -> list[Statement]:
    """The statements of a policy document; ``PolicyError`` when it is not one (or is too big)."""
    if len(text) > MAX_TEXT:
        raise PolicyError(f"the document is longer than {MAX_TEXT} characters")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise PolicyError(f"not JSON ({str(error)[:80]})") from None
    if _depth(document) > MAX_DEPTH:
        raise PolicyError(f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document, dict):
        raise PolicyError("not a JSON object")
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise PolicyError("Statement is not an object or a list")
    if len(items) > MAX_STATEMENTS:
        raise PolicyError(f"more than {MAX_STATEMENTS} statements")
    return [_statement(item, f"Statement[{i}]") for i, item in enumerate(items)]


# --- wildcard patterns ----------------------------------------------------------------------------

def _steps(pattern: str, i: int) -> Iterable[tuple[int, str | None]]:
    """Ways ``pattern`` at position ``i`` consumes one character: (next position, the literal
    character required, or None for any)."""
    if i >= len(pattern):
        return ()
    char = pattern[i]
    if char == "*":
        return ((i, None),)
    if char == "?":
        return ((i + 1, None),)
    return ((i + 1, char),)


def glob_intersects(a: str, b: str) -> bool:
    """Is there a string both patterns match? (Two literals intersect when equal.)"""
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if i == len(a) and j == len(b):
            return True
        moves: list[tuple[int, int]] = []
        if i < len(a) and a[i] == "*":
            moves.append((i + 1, j))  # the star matches nothing more
        if j < len(b) and b[j] == "*":
            moves.append((i, j + 1))
        for ni, ca in _steps(a, i):
            for nj, cb in _steps(b, j):
                if ca is None or cb is None or ca == cb:
                    moves.append((ni, nj))
        for state in moves:
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return False


def glob_match(pattern: str, value: str) -> bool:
    """Does ``pattern`` match the literal ``value``?"""
    return glob_intersects(pattern, _literal(value))


def _literal(value: str) -> str:
    # Inside glob_intersects a literal must not read as a wildcard: these characters never occur in
    # the values matched here (actions and ARNs built by the rules), so they are dropped.
    return value.replace("*", "").replace("?", "")


def glob_covers(outer: str, inner: str) -> bool:
    """Does ``outer`` certainly match every string ``inner`` matches? Decided for the shapes the rules
    ask about (``inner`` literal, or a literal head and a trailing ``*``); anything else is False."""
    head, star, tail = inner.partition("*")
    if "?" in inner or tail:
        return outer == inner
    if not star:
        return glob_match(outer, inner)
    # inner is ``head*``: outer covers it when it is ``h*`` (stars only after h) with ``head``
    # starting with something ``h`` matches.
    o_head, o_star, o_tail = outer.partition("*")
    if not o_star or o_tail.strip("*"):
        return outer == inner
    if "?" in o_head:
        return any(glob_match(o_head, head[:k]) for k in range(len(head) + 1))
    return head.startswith(o_head)


__all__ = ["MAX_TEXT", "PolicyError", "Statement", "glob_covers", "glob_intersects", "glob_match", "parse"]
