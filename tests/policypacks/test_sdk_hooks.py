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


def _stack_request():
    from pulumi.runtime import proto

    request = proto.AnalyzeStackRequest()
    for urn, parent, deps, prop_deps, props in [
        ("urn:a", "", [], {}, {"n": 1}),
        ("urn:b", "urn:a", ["urn:a", "urn:missing"], {"x": ["urn:a", "urn:missing"]}, {"s": "v"}),
        ("urn:c", "urn:gone", ["urn:a", "urn:b"], {"y": []}, {}),
    ]:
        item = request.resources.add(type="t:m:R", urn=urn, name=urn[4:], parent=parent)
        item.properties.update(props)
        item.dependencies.extend(deps)
        for key, urns in prop_deps.items():
            item.propertyDependencies[key].urns.extend(urns)
    return request


def test_analyze_stack_gives_every_stack_policy_what_the_sdk_gives_it_built_once(monkeypatch):
    import inspect

    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    seen: list[tuple[str, list[object]]] = []

    def recorder(name, outcome):
        def validate(args, report):
            seen.append((name, [(r.resource_type, r.urn, r.name, r.parent.urn if r.parent else None,
                                 [d.urn for d in r.dependencies],
                                 {k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
                                 dict(r.props), r.opts.parent, r.provider, dict(args.stack_tags), args.get_config()) for r in args.resources]))
            if outcome == "violation":
                report("too big", args.resources[1].urn)
            elif outcome == "unknown":
                raise sdk.UnknownValueError("04da6b54-80e4-46f7-96ec-b56ff0331ba9", ["spec", "size"])
            elif outcome == "not applicable":
                raise sdk._NotApplicableError("nothing to judge")
        return validate

    policies = [StackValidationPolicy(name=f"stack-{o.replace(' ', '-')}", description="d", validate=recorder(o, o))
                for o in ("violation", "unknown", "not applicable", "pass")]
    policies.append(ResourceValidationPolicy(name="per-resource", description="d", validate=lambda a, r: None))
    servicer = sdk._PolicyAnalyzerServicer("pack", "1.0.0", policies, EnforcementLevel.MANDATORY)
    sdks_own = inspect.unwrap(sdk._PolicyAnalyzerServicer.AnalyzeStack)

    expected = sdks_own(servicer, _stack_request(), None)
    expected_seen, seen[:] = list(seen), []
    built: list[object] = []
    real = sdk_hooks.stack_resources
    monkeypatch.setattr(sdk_hooks, "stack_resources", lambda *a: built.append(a) or real(*a))
    ours = sdk_hooks.analyze_stack_once(sdks_own, sdk)(servicer, _stack_request(), None)

    assert ours == expected and len(ours.diagnostics) == 2 and len(ours.not_applicable) == 1
    assert seen == expected_seen and len(seen) == 4
    assert len(built) == 1  # once per call, not once per stack policy


def test_analyze_stack_falls_back_to_the_sdk_without_the_attributes_it_reads():
    called: list[object] = []
    hooked = sdk_hooks.analyze_stack_once(lambda self, request, context: called.append(request) or "sdk", sdk)
    assert hooked(object(), "request", None) == "sdk" and called == ["request"]


def test_stack_analysis_runs_with_the_collector_paused_and_restores_it():
    import gc

    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    during: dict[str, bool] = {}
    policies = [
        StackValidationPolicy(name="stack", description="d",
                              validate=lambda args, report: during.__setitem__("stack", gc.isenabled())),
        ResourceValidationPolicy(name="resource", description="d",
                                 validate=lambda args, report: during.__setitem__("resource", gc.isenabled())),
    ]
    servicer = sdk._PolicyAnalyzerServicer("pack", "1.0.0", policies, EnforcementLevel.MANDATORY)
    assert gc.isenabled()
    servicer.AnalyzeStack(_stack_request(), None)
    assert during.pop("stack") is False and gc.isenabled()
    request = sdk.proto.AnalyzeRequest(type="t:m:R", urn="urn:a", name="a")
    servicer.Analyze(request, None)
    assert during.pop("resource") is True  # per-resource calls hold little: the collector stays on

    gc.disable()
    try:
        servicer.AnalyzeStack(_stack_request(), None)
        assert not gc.isenabled()  # a caller's own choice is left as it was
    finally:
        gc.enable()


def test_overlapping_calls_restore_the_collector_only_when_the_last_returns():
    import gc

    collector = sdk_hooks._Collector()
    entered, release = threading.Barrier(2), threading.Event()

    def call():
        with collector.paused():
            entered.wait()
            release.wait()

    other = threading.Thread(target=call)
    other.start()
    with collector.paused():
        entered.wait()
        release.set()
        other.join()
        assert not gc.isenabled()  # the other call returned; this one still runs
    assert gc.isenabled()
