"""The preflight report: the JSON document (schema preflight/v1) and the human plan view."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .engine import REDACTED, SECRET_SIG, SIG_KEY, UNKNOWN, Recording

SCHEMA = "preflight/v1"


def build_report(recording: Recording) -> dict[str, Any]:
    """The ``preflight/v1`` document; later sections (``cost``, ``policy``) are added by their modules."""
    return {
        "schema": SCHEMA,
        "project": recording.project,
        "stack": recording.stack,
        "resources": [r.as_json() for r in recording.resources],
        "outputs": recording.outputs,
    }


def display_value(value: Any) -> str:
    """A short human rendering: unknowns as <unknown>, secrets as [secret]."""
    if value == UNKNOWN:
        return "<unknown>"
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        return REDACTED
    if isinstance(value, (dict, list)):
        return "{...}" if isinstance(value, dict) else f"[{len(value)} items]"
    return str(value)


def render_plan(recording: Recording) -> str:
    """A tree like ``pulumi preview``: type, name, ``+ create``; then a count per type."""
    children: dict[str, list[Any]] = {}
    for resource in recording.resources:
        children.setdefault(resource.parent, []).append(resource)
    known = {r.urn for r in recording.resources}
    stack_type = "pulumi:pulumi:Stack"
    rows: list[tuple[str, str]] = [(stack_type, f"{recording.project}-{recording.stack}")]

    def walk(parent: str, depth: int) -> None:
        for resource in children.get(parent, []):
            rows.append(("   " * depth + "├─ " + resource.type, resource.name))
            walk(resource.urn, depth + 1)

    for root in (p for p in children if p not in known):
        walk(root, 1)
    type_width = max(len(t) for t, _ in rows) + 2
    name_width = min(max(len(n) for _, n in rows), 48) + 2
    lines = [f"Previewing update ({recording.stack}) of project {recording.project} - offline, under mocks", "",
             f"     {'Type':<{type_width}}{'Name':<{name_width}}Plan"]
    lines += [f" +   {type_:<{type_width}}{name:<{name_width - 2}}  create" for type_, name in rows]

    counts = Counter(r.type for r in recording.resources)
    lines += ["", "Resources:", f"    + {len(recording.resources)} to create", ""]
    width = max((len(t) for t in counts), default=10)
    for type_, count in sorted(counts.items()):
        lines.append(f"    {type_:<{width}}  {count:>4}")
    if recording.outputs:
        lines += ["", "Outputs:"]
        for key, value in sorted(recording.outputs.items()):
            lines.append(f"    {key}: {display_value(value)}")
    if recording.logs:
        lines += ["", "Diagnostics:"]
        lines += [f"    {level}: {message}" for level, message in recording.logs]
    return "\n".join(lines)
