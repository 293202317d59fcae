"""The pack's shared helpers on the inputs the rules' cases do not reach: odd property bags, the
stack's own config, and a rule that fails (which must fail closed)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError

from preflight.engine import UNKNOWN as ENGINE_UNKNOWN
from tests.policypacks.test_policy_units import _check

from ai_platform_finops.quantity import quantity
from ai_governance import ai_safeguards, framework, k8s, pack_settings, props, resources


class Hostile(Mapping[str, Any]):
    """A mapping whose iteration fails: what a broken SDK proxy could hand a rule."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no")

    def __len__(self) -> int:
        return 0


def test_markers_are_falsy_and_named():
    assert not props.UNKNOWN and not props.MISSING
    assert repr(props.UNKNOWN) != repr(props.MISSING)
    assert props.is_unknown(props.UNKNOWN) and not props.is_unknown(ENGINE_UNKNOWN)


def test_get_treats_odd_keys_and_engine_markers():
    assert props.get({1: "x"}, 1) is props.MISSING  # mapping keys are strings
    assert props.get({"a": ENGINE_UNKNOWN}, "a") is props.UNKNOWN
    assert props.get({"a": None}, "a") is props.MISSING
    assert props.mapping({"a": 1}) == {"a": 1} and props.mapping([1]) is None
    assert props.entries(Hostile()) == []


def test_string_map_keeps_strings_and_numbers_and_names_unknowns():
    labels, unknown = props.string_map({"a": "x", "n": 2.0, "flag": True, "u": ENGINE_UNKNOWN, "l": [1]})
    assert labels == {"a": "x", "n": "2.0"}
    assert unknown == ["u"]


def test_to_plain_stops_at_absurd_depth():
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    plain = props.to_plain(deep)
    for _ in range(65):
        plain = plain[0]
    assert plain is None


@pytest.mark.parametrize("value", ["1e400", "9" * 400 + "e9"])
def test_quantity_that_overflows_is_not_a_number(value):
    assert quantity(value) is None


@pytest.mark.parametrize("env, key, expected", [
    (None, "aws:region", None),
    ("not json", "aws:region", None),
    ('["a list"]', "aws:region", None),
    (json.dumps({"aws:region": "eu-west-1"}), "aws:region", "eu-west-1"),
    (json.dumps({"p:list": '["a", "b"]'}), "p:list", ["a", "b"]),
    (json.dumps({"p:broken": "[not json"}), "p:broken", "[not json"),
])
def test_stack_config_value_reads_pulumi_config(monkeypatch, env, key, expected):
    if env is None:
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    else:
        monkeypatch.setenv("PULUMI_CONFIG", env)
    assert pack_settings.stack_config_value(key) == expected


@pytest.mark.parametrize("project_env, stack, expected", [
    ("staging", "anything", "staging"),
    (None, "dev", "dev"),
    (None, "feature-x", "prod"),  # unknown: the strictest rules
])
def test_the_environment_comes_from_stack_config_or_stack_name(monkeypatch, project_env, stack, expected):
    monkeypatch.setenv("PULUMI_PROJECT", "ai-platform")
    monkeypatch.setenv("PULUMI_STACK", stack)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ai-platform:environment": project_env} if project_env else {}))
    assert pack_settings.settings().environment == expected


@pytest.mark.parametrize("value, expected", [
    ("2026-12-01", dt.date(2026, 12, 1)), ("2026-12-01T10:00:00Z", dt.date(2026, 12, 1)),
    ("yesterday", None), (20261201, None),
])
def test_parse_date(value, expected):
    assert pack_settings._parse_date(value) == expected


def test_stack_children_and_dependents():
    parent = resources.Res(type="a:b:C", name="p", urn="urn:p", props={})
    child = resources.Res(type="a:b:D", name="c", urn="urn:c", props={}, parent_urn="urn:p",
                       property_dependencies={"x": ["urn:p"]})
    stack = resources.Stack([parent, child])
    assert stack.children("urn:p") == [child] and stack.children("urn:c") == []
    assert stack.dependents("urn:p") == [child]


def _run(body: Any) -> tuple[list[tuple[str, Any]], list[str]]:
    reported: list[tuple[str, Any]] = []
    skipped: list[str] = []
    framework._run("p", (), {"unknownValues": "mandatory"}, lambda m, u=None: reported.append((m, u)), None, body,
                skipped.append)
    return reported, skipped


def test_a_rule_that_raises_fails_closed():
    def broken(c: framework.Check) -> None:
        raise ZeroDivisionError("division by zero")

    reported, _ = _run(broken)
    assert reported == [("internal error in rule p (ZeroDivisionError: division by zero); treated as a violation", None)]


def test_a_rule_that_reads_an_unknown_through_the_proxy_reports_it():
    def naive(c: framework.Check) -> None:
        raise UnknownValueError(ENGINE_UNKNOWN, ["spec", "replicas"])

    reported, _ = _run(naive)
    assert reported == [("cannot verify spec.replicas at preview", None)]


def test_a_rule_that_does_not_apply_says_why_and_reports_nothing():
    def elsewhere(c: framework.Check) -> None:
        c.applies_in(["dev"])
        c.violation("never")

    reported, skipped = _run(elsewhere)
    assert reported == [] and len(skipped) == 1 and "dev" in skipped[0]


def test_check_known_records_the_unknown():
    check, reported = _check("mandatory")
    assert check.known("x", "a") and check.known(props.MISSING, "b")
    assert not check.known(props.UNKNOWN, "c")
    check.finish()
    assert [m for m, _ in reported] == ["cannot verify instanceTypes at preview", "cannot verify c at preview"]


# --- Kubernetes semantics --------------------------------------------------------------------------------

LABELS = {"app": "model", "tier": "gpu"}


@pytest.mark.parametrize("selector, expected", [
    ({"matchLabels": {"app": "model"}}, True),
    ({"matchLabels": {"app": "other"}}, False),
    ({"matchLabels": ENGINE_UNKNOWN}, None),
    ({"matchLabels": {"app": ENGINE_UNKNOWN}}, None),
    ({"matchExpressions": ENGINE_UNKNOWN}, None),
    ({}, None),  # selects everything: proves nothing
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gpu", "cpu"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["cpu"]}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["cpu"]}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
    ({"matchExpressions": [{"key": "app", "operator": "Near"}]}, None),
    ({"matchExpressions": [{"operator": "Exists"}]}, None),
    ({"matchLabels": {"app": "model"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["cpu"]}]},
     False),
])
def test_label_selectors_follow_kubernetes(selector, expected):
    assert k8s.selector_matches(selector, LABELS) is expected


GPU_TAINT = k8s.Taint("nvidia.com/gpu", "true", "NoSchedule")


@pytest.mark.parametrize("tolerations, expected", [
    ([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}], True),
    ([{"key": "nvidia.com/gpu", "value": "true"}], True),  # operator defaults to Equal, any effect
    ([{"key": "nvidia.com/gpu", "value": "false"}], False),
    ([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], False),
    ([{"operator": "Exists"}], True),  # tolerates everything
    ([{"key": "nvidia.com/gpu", "operator": "Exists", "value": ENGINE_UNKNOWN}], None),
    ([ENGINE_UNKNOWN, {"key": "other", "operator": "Exists"}], None),
    ([ENGINE_UNKNOWN, {"key": "nvidia.com/gpu", "operator": "Exists"}], True),  # a known match wins
])
def test_tolerations_follow_kubernetes(tolerations, expected):
    assert k8s.tolerates([props.get({"t": t}, "t") for t in tolerations], GPU_TAINT) is expected


@pytest.mark.parametrize("env, expected", [
    ([{"name": "MODEL_VERSION", "value": "v1"}], "v1"),
    ([ENGINE_UNKNOWN, {"name": "MODEL_VERSION", "value": "v1"}], "v1"),
    ([{"name": "MODEL_VERSION", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}], props.MISSING),
    ([], props.MISSING),
    (ENGINE_UNKNOWN, props.UNKNOWN),
])
def test_env_value(env, expected):
    assert k8s.env_value({"env": env}, "MODEL_VERSION") == expected  # the markers compare by identity


def test_pod_gpus_counts_every_gpu_resource_even_past_an_unknown_one():
    containers = [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": ENGINE_UNKNOWN, "amd.com/gpu": "2"}}}]
    init = [{"name": "i", "resources": {"limits": {"amd.com/gpu": "1"}}}]  # init containers run before, not beside
    res = resources.Res(type=k8s.DEPLOYMENT, name="d", urn="u",
                     props={"spec": {"template": {"spec": {"containers": containers, "initContainers": init}}}})
    tpl = k8s.pod_template(res)
    assert tpl is not None
    assert k8s.pod_gpus(tpl, ("nvidia.com/gpu", "amd.com/gpu")) == (2.0, True)
    assert k8s.pod_gpus(tpl, ("amd.com/gpu",)) == (2.0, False)


@pytest.mark.parametrize("env, expected", [
    (json.dumps({"aws:region": "eu-west-1"}), "eu-west-1"), (json.dumps({"aws:region": ""}), None),
    ("not json", None), ("[]", None), (None, None),
])
def test_residency_reads_the_stack_region_from_pulumi_config(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    else:
        monkeypatch.setenv("PULUMI_CONFIG", env)
    assert ai_safeguards._stack_region() == expected
