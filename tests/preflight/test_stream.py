"""Streaming ``Analyze`` while the program runs gives exactly the run that analyzes afterwards.

``preflight preview`` hands the pack each resource as the program registers it
(``PolicyAnalyzer.stream`` / ``add``); ``run`` then sends only what is left and collects every answer
in resource order. Compared here on the tests' own prod stack (``live``), with the probe pack (which
reports what each call received, so the requests are compared too) and with the real pack under that
stack's own pack config.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from preflight.analyzer import PolicyAnalyzer, PolicyPackError, PolicyRun
from preflight.engine import RecordedResource, run_program
from preflight.stackfile import read_stack_config
from tests.policypacks.conftest import PACK_DIR
from tests.preflight.test_fidelity import PROBE
from tests.support import PROJECT, ROOT, recorded

STACK = "live"
"""The fixture stack of the prod environment: the largest, with every kind of resource."""
CONFIG = PROJECT / "policypacks" / "ai-governance" / "config" / f"{STACK}.json"


@pytest.fixture(scope="module")
def probe_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack = tmp_path_factory.mktemp("probe")
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    (pack / "__main__.py").write_text(PROBE)
    return pack


def analyzer(pack: Path, config_file: Path | None = None) -> PolicyAnalyzer:
    source = read_stack_config(PROJECT, STACK)
    return PolicyAnalyzer(pack, project="ai-platform", stack=STACK, config_file=config_file,
                          stack_config=source.config, secret_keys=source.secret_keys, python=sys.executable,
                          timeout=60)


def after(pack: Path, resources: list[RecordedResource], config_file: Path | None = None) -> PolicyRun:
    with analyzer(pack, config_file) as a:
        return a.run(resources)


def streamed(pack: Path, order: list[RecordedResource], resources: list[RecordedResource],
             config_file: Path | None = None) -> PolicyRun:
    a = analyzer(pack, config_file)
    try:
        a.start()
        a.stream()
        for resource in order:
            a.add(resource)
        return a.run(resources)
    finally:
        a.close()


def outcome(run: PolicyRun) -> tuple[list, list]:
    return [(v.policy, v.level, v.urn, v.message, v.severity) for v in run.violations], run.not_applicable


def test_streamed_requests_are_the_requests_sent_afterwards_in_any_arrival_order(probe_pack):
    resources = recorded(STACK).resources
    expected = outcome(after(probe_pack, resources))
    assert len(expected[0]) > 2 * len(resources)  # every Analyze and the stack's view of every resource
    # Reversed: every resource arrives before the explicit provider it names (left to run()).
    assert outcome(streamed(probe_pack, list(reversed(resources)), resources)) == expected
    # Only some arrive before run(): the rest are sent then.
    assert outcome(streamed(probe_pack, resources[::3], resources)) == expected


def test_the_pack_judges_a_program_streamed_as_it_registers_as_it_judges_it_afterwards():
    source = read_stack_config(PROJECT, STACK)
    config = CONFIG
    a = analyzer(PACK_DIR, config)
    try:
        a.start()
        a.stream()
        recording = run_program(ROOT, source, on_register=a.add)
        live = a.run(recording.resources)
    finally:
        a.close()
    expected = after(PACK_DIR, recording.resources, config)
    assert outcome(live) == outcome(expected)
    assert [r.urn for r in recording.resources] and live.pack == expected.pack


def test_a_pack_that_cannot_start_fails_the_streamed_run_with_its_message(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    (tmp_path / "__main__.py").write_text("import sys\nsys.exit('the pack is broken')\n")
    a = analyzer(tmp_path)
    try:
        a.start()
        a.stream()
        a.add(recorded(STACK).resources[0])
        with pytest.raises(PolicyPackError, match=r"exited before serving(.|\n)*the pack is broken"):
            a.run(recorded(STACK).resources)
    finally:
        a.close()
