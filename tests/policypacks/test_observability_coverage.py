"""observability-coverage at unit level: the owner routes read from Alertmanager's config, the alerts by service,
and the prod stack as shipped passing (the gRPC cases are in test_policy_grpc_cases.py)."""

from __future__ import annotations

from ai_governance.common import UNKNOWN
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
