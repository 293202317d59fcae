"""A directory of stack files run as the program's config: read, edit, validate and preview one stack."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Callable

import pytest

from components.config import ConfigError, StackConfig, validate_flat_config
from preflight.engine import Recording, run_program
from preflight.stackfile import StackConfigSource, read_stack_config

ROOT = Path(__file__).resolve().parents[2]
"""The repository: its ``__main__.py`` is the program every stack set runs."""

ConfigEdit = Callable[[dict[str, Any]], None]
"""Edits the stack's config in place; keys are as in the stack file, e.g. 'ai-platform:nodePools'."""

P = "ai-platform:"
"""The project's config namespace, for edits: ``c[P + "nodePools"]``."""


class StackSet:
    """The stacks of ``project`` (its ``Pulumi.yaml`` and ``stacks/Pulumi.<stack>.yaml``)."""

    def __init__(self, project: Path):
        self.project = project
        self.names = sorted(p.name.split(".")[1] for p in (project / "stacks").glob("Pulumi.*.yaml"))
        self.aws = [s for s in self.names if self.source(s).config.get(P + "environment") != "local"]
        """The stacks on AWS: all but those of the ``local`` environment (kind/minikube)."""
        self.recorded = cache(self._recorded)
        self.config = cache(self._config)

    def source(self, stack: str, edit: ConfigEdit | None = None) -> StackConfigSource:
        source = read_stack_config(self.project, stack)
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

    def preview(self, stack: str, edit: ConfigEdit | None = None, *, preview: bool = True,
                secret_values: dict[str, str] | None = None) -> Recording:
        """The recorded resources of ``stack`` (after ``edit``), as preflight records them."""
        return run_program(ROOT, self.source(stack, edit), preview=preview, secret_values=secret_values)

    def _recorded(self, stack: str, preview_mode: bool = True) -> Recording:
        """The recording of an unedited stack, taken once per test session (never mutate it)."""
        return self.preview(stack, preview=preview_mode)

    def _config(self, stack: str) -> StackConfig:
        """The validated config of an unedited stack, once per session."""
        source = self.source(stack)
        return validate_flat_config(source.config, source.project, source.source)

    def load(self, stack: str, edit: ConfigEdit | None = None) -> StackConfig:
        source = self.source(stack, edit)
        return validate_flat_config(source.config, source.project, source.source)

    def errors(self, stack: str, edit: ConfigEdit) -> list[str]:
        """The lines of the ConfigError ``edit`` causes (preflight and the program share the validator)."""
        source = self.source(stack, edit)
        with pytest.raises(ConfigError) as caught:
            validate_flat_config(source.config, source.project, source.source)
        return str(caught.value).splitlines()
