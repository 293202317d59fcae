"""The observability tests' helpers: the fixture stacks' generated rules, and promtool/amtool."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.observability.rules import RuleSet, rule_groups, rule_sets

from .fixtures import config, thresholds

APT_HINT = "apt-get install -y prometheus prometheus-alertmanager (.ci/run installs them)"


def tool(name: str) -> str:
    """The path of a Debian-packaged tool; a skip on a workstation without it, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: {APT_HINT}"
        if os.environ.get("REQUIRE_PROMETHEUS_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def groups(stack: str) -> list[dict[str, Any]]:
    """Every generated group of the stack (names recur across rule sets: look rules up, write ``rule_files``)."""
    return rule_groups(config(stack), thresholds(stack))


def sets(stack: str) -> list[RuleSet]:
    return rule_sets(config(stack), thresholds(stack))


def write_rules(path: Path, stack_groups: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"groups": stack_groups}, sort_keys=False, width=10_000))
    return path


def rule_files(directory: Path, stack: str) -> list[Path]:
    """One rule file per PrometheusRule, as the Prometheus Operator writes them."""
    return [write_rules(directory / f"{i:03d}-{rs.scope}-{rs.subject or 'cluster'}.yaml", rs.groups)
            for i, rs in enumerate(sets(stack))]


def render(text: str, value: float) -> str:
    """The two templates the generated annotations use, expanded as Prometheus would."""
    return (text.replace('{{ $value | printf "%.0f" }}', f"{value:.0f}")
            .replace("{{ $value }}", f"{value:g}"))


def expected_alert(rule: dict[str, Any], value: float, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A promtool ``exp_alerts`` entry for ``rule`` firing with ``value``."""
    return {"exp_labels": {**rule["labels"], **(extra_labels or {})},
            "exp_annotations": {k: render(v, value) for k, v in rule["annotations"].items()}}


def alert_rule(stack_groups: list[dict[str, Any]], name: str, **labels: str) -> dict[str, Any]:
    found = [r for g in stack_groups for r in g["rules"] if r.get("alert") == name
             and all(r["labels"].get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, len(found))
    return found[0]
