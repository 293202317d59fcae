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
    """A project whose stacks/ and pack config/ are copies of the shipped ones, for tests of what a
    user does to them."""
    return SHIPPED.own_project(tmp_path)


def edited_project(tmp_path: Path, stack: str, edit: ConfigEdit) -> Path:
    """``own_stacks_project`` with shipped ``stacks/Pulumi.<stack>.yaml`` edited by ``edit``."""
    return SHIPPED.edited_project(tmp_path, stack, edit)
