"""The alert thresholds come from the evaluation-gate's own source; the observability config says what is wrong."""

from __future__ import annotations

import json

import pytest
from ai_platform_finops.governance import DEFAULT_EVALUATION_THRESHOLDS

from components.observability.thresholds import (
    pack_config_path,
    stack_thresholds,
    thresholds_from,
    tier_thresholds,
)
from tests.support.fixtures import PROJECT, ROOT, P, errors
from tests.support.prometheus import alert_rule, groups


def test_prod_alerts_use_the_numbers_in_prods_pack_config():
    pack = json.loads(pack_config_path("live", PROJECT).read_text())["evaluation-gate"]["thresholds"]
    assert stack_thresholds("live", PROJECT) == pack
    high = alert_rule(groups("live"), "ModelQualityBelowMinimum", service="claims-triage-assistant", metric="accuracy")
    assert high["expr"].endswith(f"< {pack['high']['accuracy']['min']:g}") and high["labels"]["severity"] == "critical"
    parity = alert_rule(groups("live"), "ModelQualityAboveMaximum", service="claims-triage-assistant",
                        metric="demographic-parity-difference")
    assert parity["expr"].endswith(f"> {pack['high']['demographic-parity-difference']['max']:g}")


def test_without_a_pack_config_the_gates_defaults_apply(tmp_path):
    assert stack_thresholds("nowhere", tmp_path) == DEFAULT_EVALUATION_THRESHOLDS
    assert thresholds_from({"evaluation-gate": {"maxAgeDays": 3}}) == DEFAULT_EVALUATION_THRESHOLDS
    # The pack's evaluation-gate declares the very same default (one source, imported, never copied).
    source = (ROOT / "policypacks/ai-governance/ai_governance/responsible_ai.py").read_text()
    assert "DEFAULT_EVALUATION_THRESHOLDS," in source and '"minimal": {}' not in source


def test_malformed_bounds_are_dropped_and_an_unknown_tier_is_judged_as_high():
    parsed = thresholds_from({"evaluation-gate": {"thresholds": {
        "high": {"accuracy": {"min": 0.9, "max": "x"}, "junk": 3}, "odd": "nope"}}})
    assert parsed == {"high": {"accuracy": {"min": 0.9}}}
    assert tier_thresholds(parsed, "experimental") == {"accuracy": {"min": 0.9}}


def test_an_unreadable_pack_config_is_one_line(tmp_path):
    path = tmp_path / "policypacks" / "ai-governance" / "config"
    path.mkdir(parents=True)
    (path / "x.json").write_text("{nope")
    with pytest.raises(ValueError, match=r"^policypacks/ai-governance/config/x.json: "):
        stack_thresholds("x", tmp_path)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda c: c[P + "observability"].update(receivers={"nobody": {"sns": True}}),
     "observability.receivers.nobody: unknown project 'nobody'"),
    (lambda c: c[P + "observability"].update(receivers={"project-nova": {"emails": ["a@b.io"]}}),
     "email receivers need observability.smtp"),
    (lambda c: (c[P + "observability"].update(enabled=False),
                c[P + "services"][0].update(autoscaling={"signal": "inFlight"})),
     "services[0].autoscaling.signal: 'inFlight' reads Prometheus through prometheus-adapter"),
    (lambda c: c[P + "services"][0].update(metrics={"preset": "triton"}, slo={"latency": {"thresholdSeconds": 2, "percent": 95}}),
     "services[0].metrics: preset 'triton' names no latencyBucket (slo.latency); set them explicitly"),
    (lambda c: c[P + "services"][0].update(slo={"window": "30d"}), "an slo needs availabilityPercent and/or latency"),
    (lambda c: c[P + "observability"].update(driftLimits={"extreme": 0.1}),
     "observability.driftLimits.extreme: is not a risk tier"),
])
def test_observability_config_errors_name_the_key(edit, expected):
    assert any(expected in line for line in errors("sandbox", edit)), errors("sandbox", edit)


def test_the_local_stack_refuses_a_monitoring_stack():
    def enable(c):
        c[P + "observability"] = {"enabled": True}
    assert any("observability.enabled: the local stack runs no monitoring stack" in line for line in errors("kind", enable))


def test_every_pack_config_is_where_the_rules_look():
    for stack in ("dev", "staging", "prod"):  # the pack's own configs, one per shipped AWS stack
        assert pack_config_path(stack) == ROOT / "policypacks" / "ai-governance" / "config" / f"{stack}.json"
        assert pack_config_path(stack).exists()
