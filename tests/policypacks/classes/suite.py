"""Table-driven class suites in the style of gatekeeper-library: allowed and disallowed samples.

Each class of input (workload shapes, accelerators, EC2 compute paths, exposure, ...) has one test
module here holding a table of :class:`Case`. Every case is sent through the Analyzer gRPC path
(the shared ``pack`` fixture) on top of ``good_stack(env)``, which passes every policy on its own,
so a case's verdict is the sample's alone. Allowed samples (false-positive probes) count as much
as disallowed ones: ``expect`` empty means *no* violation of ``policies`` may appear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import Pack, config_for


@dataclass(frozen=True)
class Case:
    """One sample: what is added to (or changed in) the good stack, and the verdict expected."""

    id: str
    sample: Callable[[list[RecordedResource]], list[RecordedResource]]
    """Takes the good stack, returns the stack to judge (add resources, replace, drop)."""
    policies: frozenset[str]
    """The policies this case is about; only their violations are judged."""
    expect: frozenset[str] = frozenset()
    """The policies that must report a violation; empty for an allowed sample."""
    env: str = "prod"
    message: str | None = None
    """A substring every expected violation's message must contain (e.g. "cannot verify")."""
    config: dict[str, Any] = field(default_factory=dict)
    """Per-policy overrides passed to :func:`config_for`."""


def allowed(id: str, sample: Callable[[list[RecordedResource]], list[RecordedResource]], *policies: str,
            env: str = "prod", **config: Any) -> Case:
    return Case(id, sample, frozenset(policies), frozenset(), env, None, config)


def disallowed(id: str, sample: Callable[[list[RecordedResource]], list[RecordedResource]], *policies: str,
               env: str = "prod", message: str | None = None, expect: Iterable[str] | None = None,
               **config: Any) -> Case:
    return Case(id, sample, frozenset(policies), frozenset(expect if expect is not None else policies), env,
                message, config)


def adding(*resources: RecordedResource | Callable[[], RecordedResource]) -> Callable[[list[RecordedResource]], list[RecordedResource]]:
    """A sample that adds resources to the good stack."""
    def apply(stack: list[RecordedResource]) -> list[RecordedResource]:
        return [*stack, *(r() if callable(r) else r for r in resources)]
    return apply


def params(cases: Sequence[Case]) -> list[Any]:
    return [pytest.param(c, id=f"{'allowed' if not c.expect else 'disallowed'}:{c.id}") for c in cases]


def check(pack: Pack, case: Case) -> None:
    """Run the case through gRPC and assert exactly the expected policies fire among ``policies``."""
    run = pack.run(case.sample(b.good_stack(case.env)), config_for(case.env, **case.config))
    fired = [v for v in run.violations if v.policy in case.policies]
    assert {v.policy for v in fired} == set(case.expect), [(v.policy, v.message) for v in fired]
    if case.message is not None:
        assert all(case.message in v.message for v in fired), [v.message for v in fired]
