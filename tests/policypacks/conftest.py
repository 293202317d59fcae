"""One policy pack process for the whole session, driven through the Analyzer gRPC protocol.

Starting the pack costs about a second (it imports pulumi and pulumi-policy), so every gRPC test
shares one process: each case re-sends ``Configure`` with its config and then ``Analyze`` per
resource and ``AnalyzeStack``, exactly as the engine would for a stack. The pack runs with this
interpreter (which has the pack's requirements) instead of creating the pack's own virtualenv.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from preflight.analyzer import PolicyAnalyzer, PolicyConfig, PolicyRun, load_policy_config
from preflight.engine import RecordedResource

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policypacks" / "ai-governance"

AS_OF = "2026-12-01"
"""The pinned date for expiry and age checks, so the suite does not change with the calendar (CI's
preflight runs use today's date)."""

from tests.policypacks.builders import PREFIX, PROJECT, STACK  # noqa: E402

STACK_CONFIG = {"aws:region": "us-east-1", f"{PROJECT}:finops": json.dumps({"tagPrefix": PREFIX})}
"""What the shared pack process gets as PULUMI_CONFIG: the org's tag prefix, as a stack sets it; the
environment comes from each case's policy config (its ``"all"`` entry pins it)."""


def config_for(env: str, *, as_of: str | None = AS_OF, **policies: Any) -> dict[str, PolicyConfig]:
    """``config/<env>.json`` as the CLI parses it, with ``asOf`` pinned and per-policy overrides:
    a string sets the level, a dict updates the level/properties."""
    config = copy.deepcopy(load_policy_config(PACK_DIR / "config" / f"{env}.json"))
    if as_of is not None:
        config["all"].properties["asOf"] = as_of
    for name, value in policies.items():
        name = name.replace("_", "-")
        entry = config.setdefault(name, PolicyConfig())
        if isinstance(value, str):
            entry.level = value
        else:
            value = dict(value)
            if "enforcementLevel" in value:
                entry.level = value.pop("enforcementLevel")
            entry.properties.update(value)
    return config


class Pack:
    def __init__(self, analyzer: PolicyAnalyzer) -> None:
        self.analyzer = analyzer

    def run(self, resources: Sequence[RecordedResource], config: Mapping[str, PolicyConfig] | str = "prod") -> PolicyRun:
        if isinstance(config, str):
            config = config_for(config)
        return self.analyzer.run(list(resources), config)


@pytest.fixture(scope="session")
def pack() -> Iterator[Pack]:
    analyzer = PolicyAnalyzer(PACK_DIR, project=PROJECT, stack=STACK, config_file=None,
                              stack_config=STACK_CONFIG, python=sys.executable, timeout=60)
    with analyzer:
        yield Pack(analyzer)


def violations(run: PolicyRun, policy: str | None = None) -> list[tuple[str, str, str]]:
    """(policy, level, message) of every violation (of ``policy``)."""
    return [(v.policy, v.level, v.message) for v in run.violations if policy is None or v.policy == policy]


def levels(run: PolicyRun, policy: str) -> set[str]:
    return {v.level for v in run.violations if v.policy == policy}
