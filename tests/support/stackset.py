"""A directory of stack files run as the program's config: read, edit, validate and preview one stack."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from components.config import ConfigError, StackConfig, validate_flat_config
from preflight.bounded import load_yaml
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

    def own_project(self, tmp_path: Path) -> Path:
        """A project whose stacks/ and pack config/ are copies of these (the program, the FinOps package and
        the rest of the pack linked to this repository), so a test may edit them as a user would."""
        project = tmp_path / "project"
        (project / "stacks").mkdir(parents=True)
        for name in ("Pulumi.yaml", "__main__.py", "program", "components", "finops"):
            (project / name).symlink_to(ROOT / name)
        for path in (self.project / "stacks").glob("Pulumi.*.yaml"):
            (project / "stacks" / path.name).write_text(path.read_text())
        pack = project / "policypacks" / "ai-governance"
        pack.mkdir(parents=True)
        for entry in (ROOT / "policypacks" / "ai-governance").iterdir():
            if entry.name not in ("config", "venv"):
                (pack / entry.name).symlink_to(entry)
        (pack / "config").mkdir()
        for path in (self.project / "policypacks" / "ai-governance" / "config").glob("*.json"):
            (pack / "config" / path.name).write_text(path.read_text())
        return project

    def edited_project(self, tmp_path: Path, stack: str, edit: ConfigEdit) -> Path:
        """``own_project`` with ``stacks/Pulumi.<stack>.yaml`` edited by ``edit`` (keys as in the file)."""
        project = self.own_project(tmp_path)
        path = project / "stacks" / f"Pulumi.{stack}.yaml"
        doc = load_yaml(path)
        edit(doc["config"])
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return project
