"""The pack's one hook into pulumi-policy internals: pinned, installed, and refusing to start otherwise."""

from __future__ import annotations

import re
import types

import pytest
from pulumi_policy import policy as sdk

from tests.policypacks.conftest import PACK_DIR

from ai_governance import sdk_hooks  # noqa: E402  (the pack dir is on sys.path: conftest)


def test_the_installed_sdk_is_the_tested_one_and_the_hooks_are_in_place():
    from importlib import metadata

    assert sdk_hooks.problem(metadata.version("pulumi-policy"), sdk) is None
    sdk_hooks.install(lambda _: None)  # idempotent: the pack (conftest's process) may have installed them
    assert getattr(sdk._PolicyAnalyzerServicer.Configure, "_ai_governance_hook", False)


def test_requirements_pin_the_tested_minor():
    pin = re.search(r"^pulumi-policy>=([\d.]+),<([\d.]+)$", (PACK_DIR / "requirements.txt").read_text(), re.M)
    assert pin is not None and pin.group(1) == sdk_hooks.TESTED_PULUMI_POLICY
    major, minor = sdk_hooks.TESTED_PULUMI_POLICY.split(".")
    assert pin.group(2) == f"{major}.{int(minor) + 1}"


@pytest.mark.parametrize("version, servicer, expected", [
    ("1.22.0", sdk._PolicyAnalyzerServicer, "pulumi-policy 1.22.0 is installed, but the pack is tested with 1.21.x"),
    ("1.20.3", sdk._PolicyAnalyzerServicer, "tested with 1.21.x"),
    (None, sdk._PolicyAnalyzerServicer, "pulumi-policy is not installed"),
    ("1.21.0", None, "has no analyzer servicer with Configure, Analyze, AnalyzeStack"),
    ("1.21.5", type("S", (), {"Configure": lambda self: None}), "has no analyzer servicer"),
])
def test_the_hooks_say_why_they_cannot_install(version, servicer, expected):
    fake = types.SimpleNamespace(_PolicyAnalyzerServicer=servicer)
    assert expected in (sdk_hooks.problem(version, fake) or "")


def test_the_pack_refuses_to_start_when_the_hooks_cannot_install(monkeypatch):
    monkeypatch.setattr(sdk_hooks, "_installed_version", lambda: "1.22.0")
    with pytest.raises(SystemExit) as raised:
        sdk_hooks.install(lambda _: None)
    assert str(raised.value).startswith("ai-governance: cannot start: pulumi-policy 1.22.0 is installed")


def test_the_pack_installs_the_hooks_before_building_the_pack():
    main = (PACK_DIR / "__main__.py").read_text()
    assert main.index("install_sdk_hooks()") < main.index("PolicyPack(")
