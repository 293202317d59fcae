"""Example values preview offline but are refused when a stack is deployed for real."""

from __future__ import annotations

import pytest
from pulumi.runtime.mocks import MockMonitor, Mocks

from components.config import ConfigError, validate_flat_config
from components.config.examples import (
    example_reason,
    example_value_problems,
    is_real_engine,
)
from preflight.engine import run_program
from tests.support.fixtures import ROOT, stack_source


def _for_real(stack: str, edit=None) -> list[str]:
    source = stack_source(stack, edit)
    try:
        validate_flat_config(source.config, source.project, source.source, source.secret_keys, for_real=True)
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def test_staging_for_real_lists_every_value_to_replace():
    assert _for_real("preprod") == [
        "stacks/Pulumi.preprod.yaml: cluster.adminPrincipalArn: 'arn:aws:iam::123456789012:role/platform-admin' is "
        "an example value (AWS's documentation account 123456789012; use your account id) and must be replaced "
        "before deploying for real",
        "stacks/Pulumi.preprod.yaml: cluster.publicAccessCidrs[0]: '203.0.113.0/24' is an example value (a "
        "documentation address block (RFC 5737); use your runners' or office's CIDRs) and must be replaced before "
        "deploying for real",
    ]


def test_the_local_stack_may_keep_its_values_for_real():
    assert _for_real("kind") == []


def test_a_stack_with_its_own_values_passes_for_real():
    def adopt(c):
        c["ai-platform:cluster"]["adminPrincipalArn"] = "arn:aws:iam::210987654321:role/platform-admin"
        c["ai-platform:cluster"]["publicAccessCidrs"] = ["198.18.0.0/24"]
        c["ai-platform:budgets"]["alertEmails"] = ["finops@acme.io"]

    assert _for_real("preprod", adopt) == []
    assert _for_real("preprod", lambda c: (adopt(c), c["ai-platform:budgets"].update(
        alertEmails=["finops@example.com"]))) == [
        "stacks/Pulumi.preprod.yaml: budgets.alertEmails[0]: 'finops@example.com' is an example value (an "
        "example.com-style domain (RFC 2606); use your organisation's domain or address) and must be replaced "
        "before deploying for real"]


@pytest.mark.parametrize("value, example", [
    ("arn:aws:iam::123456789012:role/x", True),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/m", True),
    ("203.0.113.0/24", True), ("203.0.113.128/25", True), ("192.0.2.7", True), ("198.51.100.0/22", True),
    ("finops@example.com", True), ("https://argocd.example.org/x", True), ("https://models.corp.example/card", True),
    ("finops.example.com", True),
    ("10.0.0.0/16", False), ("203.0.114.0/24", False), ("ops@examples.com", False), ("https://example.company.io", False),
    ("arn:aws:iam::210987654321:role/x", False), ("1.35", False),
])
def test_example_reason(value, example):
    assert (example_reason(value) is not None) == example


def test_example_problems_name_the_key_path():
    assert [p for p, _ in example_value_problems({"region": "203.0.113.1", "a": {"b": ["x", "ops@example.net"]}})] == [
        "a.b[1]"]


def test_the_real_engine_is_told_from_mocks_by_the_monitor():
    class _Mocks(Mocks):
        def new_resource(self, args):  # pragma: no cover - never called
            return "", {}

        def call(self, args):  # pragma: no cover - never called
            return {}

    assert is_real_engine(object()) is True  # a gRPC ResourceMonitorStub in a real preview or up
    assert is_real_engine(MockMonitor(_Mocks())) is False
    assert is_real_engine(None) is False


def test_under_preflight_the_program_is_not_deployed_for_real():
    from pulumi.runtime.settings import get_monitor

    seen: list[bool] = []
    run_program(ROOT, stack_source("preprod"), program=lambda: seen.append(is_real_engine(get_monitor())))
    assert seen == [False]


def test_the_program_refuses_example_values_when_the_engine_is_real(monkeypatch):
    from components.config import loader

    monkeypatch.setattr(loader, "is_real_engine", lambda monitor: True)
    failures: list[str] = []

    def program() -> None:
        try:
            loader.load_from_pulumi()
        except ConfigError as exc:
            failures.append(str(exc))

    run_program(ROOT, stack_source("live"), program=program)
    assert len(failures) == 1 and "cluster.deployerPrincipalArns[0]" in failures[0]
