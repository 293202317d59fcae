"""The stack priced before and after a change, by preflight itself: the program run under mocks with
the (edited) stack config, then ``preflight.cost`` over what it registers: the same estimator, the
same figures the pull request's cost diff will show."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from components.config import ConfigError, StackConfig, validate_flat_config

from ..cost import cost_diff, cost_section
from ..engine import run_program
from ..report import SCHEMA
from ..stackfile import StackConfigSource
from .edits import Edit, apply_flat


@dataclasses.dataclass
class Priced:
    report: dict[str, Any]
    """A ``preflight/v1`` report holding only its cost section (what ``cost_diff`` compares)."""
    cfg: StackConfig

    @property
    def expected(self) -> float:
        return float(self.report["cost"]["total"]["expected"])

    def project_expected(self, project: str) -> float:
        entry = self.report["cost"]["by_project"].get(project) or {}
        return float(entry.get("expected") or 0.0)


def price(project_dir: Path, source: StackConfigSource, edits: list[Edit]) -> Priced:
    """The stack with ``edits`` applied, validated as preflight validates it and priced. ConfigError when
    the edited config would not pass the stack's own checks."""
    flat = apply_flat(source.config, source.project, edits)
    cfg = validate_flat_config(flat, source.project, source.source, source.secret_keys)
    edited = dataclasses.replace(source, config=flat)
    recording = run_program(project_dir, edited)
    report = {"schema": SCHEMA, "project": source.project, "stack": source.stack,
              "cost": cost_section(recording, cfg)}
    return Priced(report, cfg)


def saving(before: Priced, after: Priced) -> float:
    """USD a month saved (negative: the change costs more), expected figures."""
    return round(before.expected - after.expected, 2)


__all__ = ["ConfigError", "Priced", "cost_diff", "price", "saving"]
