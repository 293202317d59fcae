"""The shipped stacks (stacks/): for the tests of what users get, and for preflight's end-to-end tests.

Component and config behaviour tests use ``tests.support.fixtures`` instead, so that a user editing
``stacks/`` (as the README tells them to) never breaks a unit test.
"""

from __future__ import annotations

from pathlib import Path

from preflight.engine import Recording
from preflight.stackfile import StackConfigSource

from .stackset import ROOT, ConfigEdit, StackSet

SHIPPED = StackSet(ROOT)
STACKS = SHIPPED.names
AWS_STACKS = SHIPPED.aws


def stack_source(stack: str, edit: ConfigEdit | None = None) -> StackConfigSource:
    return SHIPPED.source(stack, edit)


def preview(stack: str, edit: ConfigEdit | None = None, *, preview: bool = True,
            secret_values: dict[str, str] | None = None) -> Recording:
    """The recorded resources of shipped ``stack`` (after ``edit``), as preflight records them."""
    return SHIPPED.preview(stack, edit, preview=preview, secret_values=secret_values)


def recorded(stack: str, preview_mode: bool = True) -> Recording:
    """The recording of an unedited shipped stack, taken once per test session (never mutate it)."""
    return SHIPPED.recorded(stack, preview_mode)


def own_stacks_project(tmp_path: Path) -> Path:
    """A project whose stacks/ and pack config/ are its own copies (everything else linked to this
    repository), so a test may edit them as a user would."""
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "program", "components", "finops"):
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
