"""The pack's one hook into pulumi-policy internals: pinned, installed, and refusing to start otherwise."""

from __future__ import annotations

import os
import re
import threading
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import policy as sdk

from tests.policypacks.conftest import PACK_DIR

from ai_governance import sdk_hooks


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


def test_the_runtime_settings_are_made_once_per_thread_while_their_environment_holds(monkeypatch):
    calls: list[tuple[str, str | None]] = []
    configure = sdk_hooks.configure_runtime_once(
        lambda self: calls.append((threading.current_thread().name, os.environ.get("PULUMI_STACK"))))
    monkeypatch.setenv("PULUMI_STACK", "hooks-a")
    configure(None)
    configure(None)
    assert calls == [(threading.current_thread().name, "hooks-a")]
    monkeypatch.setenv("PULUMI_STACK", "hooks-b")  # any input of the settings changes: made again
    configure(None)
    configure(None)
    assert calls[1:] == [(threading.current_thread().name, "hooks-b")]
    other = threading.Thread(target=configure, args=(None,), name="worker")  # its own context variables
    other.start()
    other.join()
    assert calls[2:] == [("worker", "hooks-b")]


def test_options_and_provider_views_are_built_once_per_message_and_call():
    built: list[object] = []

    def view(self, message):
        built.append(message)
        return object()

    cached = sdk_hooks.per_call_method(view)
    first, second = object(), object()
    assert cached(None, first) is not cached(None, first)  # outside a call: nothing is kept
    sdk_hooks.CALL.entries = {}
    try:
        assert cached(None, first) is cached(None, first)
        assert cached(None, second) is not cached(None, first)
    finally:
        sdk_hooks.CALL.entries = None
    assert built == [first, first, first, second]


def test_settings_are_computed_once_per_call_and_override(monkeypatch):
    from ai_governance import pack_settings

    computed: list[object] = []
    real = pack_settings._settings
    monkeypatch.setattr(pack_settings, "_settings", lambda override: computed.append(override) or real(override))
    sdk_hooks.CALL.entries = {}
    try:
        shared = pack_settings.settings({})
        assert pack_settings.settings(None) is shared and pack_settings.settings({"other": 1}) is shared
        strict = pack_settings.settings({"unknownValues": "disabled"})
        assert strict.unknown_values == "disabled" and pack_settings.settings({"unknownValues": "disabled"}) is strict
    finally:
        sdk_hooks.CALL.entries = None
    assert len(computed) == 2
    pack_settings.settings({})
    assert len(computed) == 3  # outside a call: computed each time


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _JSON, max_size=6))
def test_property_bags_convert_exactly_as_message_to_dict_does(bag):
    from google.protobuf import json_format, struct_pb2

    struct = struct_pb2.Struct()
    struct.update(bag)
    assert sdk_hooks.struct_to_dict(struct) == json_format.MessageToDict(struct)
    assert sdk_hooks._JsonFormat(json_format).MessageToDict(struct) == json_format.MessageToDict(struct)


def test_a_property_bag_with_an_infinity_fails_as_message_to_dict_does():
    from google.protobuf import json_format, struct_pb2

    struct = struct_pb2.Struct()
    struct.update({"a": [1.0, float("inf")]})
    for convert in (sdk_hooks.struct_to_dict, json_format.MessageToDict):
        with pytest.raises(ValueError):
            convert(struct)
    other = struct_pb2.ListValue()  # not a Struct: json_format itself
    other.extend([1.0, "x"])
    assert sdk_hooks._JsonFormat(json_format).MessageToDict(other) == [1.0, "x"]
