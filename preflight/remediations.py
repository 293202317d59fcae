"""Remediations in the preflight report: the ``policy`` section's ``remediations`` list, its lines in the
human view and in the pull-request comment.

Each entry is one remediation of one resource, as ``pulumi preview`` shows it (``[remediate] policy
(type: name)`` and a diff of the properties before and after it)::

    {"pack": "ai-governance", "policy": "finops-required-tags", "urn": "urn:pulumi:...",
     "changes": [{"path": "tags[\\"finops.example.com/owner\\"]", "change": "added", "after": "ml-team"},
                 {"path": "...", "change": "changed", "before": ..., "after": ...}]}

Values keep the report's conventions: a secret is its envelope with ``[secret]`` as the value (a
secret is one change, never opened), an unknown is the engine's unknown marker. Entries are in URN
order, and a resource's remediations in the order the pack applied them, so two runs give the same
bytes. A report without remediations has no ``remediations`` key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .analyzer import Remediation
from .engine import REDACTED, SECRET_SIG, SIG_KEY, UNKNOWN
from .mdtext import cell

VALUE_WIDTH = 100
"""Longest value shown in the human view and the comment (the JSON report has it whole)."""
SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def section_entries(remediations: Sequence[Remediation]) -> list[dict[str, Any]]:
    """The report's ``remediations``: by URN (stable, so a resource's keep the order they applied in)."""
    return [r.as_json() for r in sorted(remediations, key=lambda r: r.urn)]


def _plain(value: Any) -> Any:
    if value == UNKNOWN:
        return "<unknown>"
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return REDACTED
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def shown(value: Any) -> str:
    """A value on one line: JSON, with unknowns as ``<unknown>`` and secrets as ``[secret]``."""
    plain = _plain(value)
    out = plain if isinstance(plain, str) and plain in ("<unknown>", REDACTED) else json.dumps(plain, ensure_ascii=False)
    return out if len(out) <= VALUE_WIDTH else out[:VALUE_WIDTH - 1] + "…"


def change_text(change: Mapping[str, Any]) -> str:
    """``+ path: value``, ``- path: value`` or ``~ path: before => after``."""
    kind = str(change.get("change"))
    path = str(change.get("path") or "(properties)")
    if kind == "changed":
        return f"~ {path}: {shown(change.get('before'))} => {shown(change.get('after'))}"
    value = change.get("after") if kind == "added" else change.get("before")
    return f"{SIGNS.get(kind, '?')} {path}: {shown(value)}"


def _entries(section: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in section.get("remediations") or [] if isinstance(r, Mapping)]


def render_lines(section: Mapping[str, Any], resource: Any) -> list[str]:
    """The human view's lines (none without remediations); ``resource(urn)`` names a resource briefly."""
    entries = _entries(section)
    if not entries:
        return []
    lines = []
    for entry in entries:
        lines.append(f"    [remediate]  {entry.get('policy')}  ({resource(str(entry.get('urn') or ''))})")
        lines += [f"        {change_text(c)}" for c in entry.get("changes") or [] if isinstance(c, Mapping)]
    return lines


def markdown_lines(section: Mapping[str, Any], resource: Any) -> list[str]:
    """The comment's remediation table (no lines without remediations)."""
    entries = _entries(section)
    if not entries:
        return []
    lines = [f"**:wrench: {len(entries)} remediation(s)** applied before analysis (the pack's `remediate` level; "
             "`pulumi up` applies the same changes):", "",
             "| Policy | Resource | Change |", "|---|---|---|"]
    for entry in entries:
        for change in (c for c in entry.get("changes") or [] if isinstance(c, Mapping)):
            lines.append(f"| `{cell(entry.get('policy'))}` | {cell(resource(str(entry.get('urn') or '')))} | "
                         f"{cell(change_text(change))} |")
    return [*lines, ""]
