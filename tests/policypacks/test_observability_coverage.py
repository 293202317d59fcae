"""observability-coverage at unit level: the owner routes read from Alertmanager's config, the alerts by service,
and the prod stack as shipped passing (the gRPC cases are in test_policy_grpc_cases.py)."""

from __future__ import annotations

from ai_governance.props import UNKNOWN
from ai_governance.observability import owner_routes


def test_routes_count_only_receivers_that_notify_someone():
    config = {"route": {"routes": [{"receiver": "a", "matchers": ['project="alpha"']},
                                   {"receiver": "silent", "matchers": ['project = "beta"']},
                                   {"receiver": "a", "match": {"project": "gamma"}},
                                   {"receiver": "low-noise", "matchers": ['severity="warning"']}]},
              "receivers": [{"name": "a", "sns_configs": [{"topic_arn": "arn"}]}, {"name": "silent"},
                            {"name": "low-noise", "webhook_configs": []}]}
    assert owner_routes(config) == {"alpha": True, "beta": False, "gamma": True}


def test_unknown_routing_is_unknown_not_a_violation():
    assert owner_routes(UNKNOWN) is UNKNOWN
    assert owner_routes({"route": UNKNOWN, "receivers": []}) is UNKNOWN
    assert owner_routes({}) == {}


# --- through gRPC, beside the failing cases in test_policy_grpc_cases.py ---------------------------

from tests.policypacks import builders as b  # noqa: E402
from tests.policypacks.conftest import violations  # noqa: E402

UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _set(path: tuple[str, ...], value):
    def apply(r):
        target = r.inputs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return apply


def test_routing_and_rules_unknown_at_preview_are_reported_as_unknown(pack):
    stack = b.replace(b.good_stack("prod"), "kube-prometheus-stack", _set(("values", "alertmanager", "config"), UNKNOWN_VALUE))
    stack = b.replace(stack, "observability-rules", _set(("spec", "groups"), UNKNOWN_VALUE))
    run = pack.run(stack, "prod")
    found = violations(run, "observability-coverage")
    assert found and all("cannot verify" in message for _, _, message in found), found


def test_a_route_to_a_receiver_that_notifies_nobody_is_no_owner_route(pack):
    stack = b.replace(b.good_stack("prod"), "kube-prometheus-stack",
                      _set(("values", "alertmanager", "config", "receivers"), [{"name": "project-project-nova"}]))
    found = violations(pack.run(stack, "prod"), "observability-coverage")
    assert [m for _, _, m in found if "an owner route for project 'project-nova'" in m], found


def test_quality_alerts_are_required_too_and_dev_is_not_judged(pack):
    stack = b.replace(b.good_stack("prod"), "observability-rules", _set(("spec", "groups"), [
        {"name": "g", "rules": [{"alert": "SloErrorBudgetBurnFast", "labels": {"project": "project-nova",
                                                                              "service": "multimodal"}}]}]))
    found = violations(pack.run(stack, "prod"), "observability-coverage")
    assert [m for _, _, m in found if "model quality alerts" in m and "SLO" not in m], found
    dev = b.without(b.good_stack("dev"), "kube-prometheus-stack", "observability-rules")
    assert violations(pack.run(dev, "dev"), "observability-coverage") == []
