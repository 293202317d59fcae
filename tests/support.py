"""Test helpers: run a stack's program under preflight's engine, optionally with edited config."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from preflight.engine import Recording, RecordedResource, run_program
from preflight.stackfile import StackConfigSource, read_stack_config

ROOT = Path(__file__).resolve().parent.parent
STACKS = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
AWS_STACKS = [s for s in STACKS if s != "local"]

ConfigEdit = Callable[[dict[str, Any]], None]
"""Edits the stack's config in place; keys are as in the stack file, e.g. 'ai-platform:nodePools'."""


def stack_source(stack: str, edit: ConfigEdit | None = None) -> StackConfigSource:
    import json

    source = read_stack_config(ROOT, stack)
    if edit is not None:
        decoded: dict[str, Any] = {}
        for key, raw in source.config.items():
            try:
                decoded[key] = json.loads(raw)
            except json.JSONDecodeError:
                decoded[key] = raw
        edited = copy.deepcopy(decoded)
        edit(edited)
        source.config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in edited.items()}
    return source


def preview(stack: str, edit: ConfigEdit | None = None, *, preview: bool = True,
            secret_values: dict[str, str] | None = None) -> Recording:
    """The recorded resources of ``stack`` (after ``edit``), as preflight records them."""
    return run_program(ROOT, stack_source(stack, edit), preview=preview, secret_values=secret_values)


def one(recording: Recording, type_: str, name: str | None = None) -> RecordedResource:
    found = [r for r in recording.resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
    return found[0]


@lru_cache(maxsize=None)
def recorded(stack: str, preview_mode: bool = True) -> Recording:
    """The recording of an unedited shipped stack, taken once per test session (never mutate it)."""
    return preview(stack, preview=preview_mode)


def own_stacks_project(tmp_path: Path) -> Path:
    """A project whose stacks/ and pack config/ are its own copies (everything else linked to this
    repository), so a test may edit them as a user would."""
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "components", "finops"):
        (project / name).symlink_to(ROOT / name)
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        (project / "stacks" / path.name).write_text(path.read_text())
    pack = project / "policypacks" / "ai-governance"
    pack.mkdir(parents=True)
    for entry in (ROOT / "policypacks" / "ai-governance").iterdir():
        if entry.name not in ("config", "venv"):
            (pack / entry.name).symlink_to(entry)
    (pack / "config").mkdir()
    for path in (ROOT / "policypacks" / "ai-governance" / "config").glob("*.json"):
        (pack / "config" / path.name).write_text(path.read_text())
    return project
