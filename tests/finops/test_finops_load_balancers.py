"""Load balancers found wherever a stack declares them, and priced: hourly + capacity units + public IPv4.

By hand: an ALB or NLB is 730 h x 0.0225 $/h = 16.425; capacity units add LCU x 730 h x 0.008 (ALB)
or x 0.006 (NLB); an internet-facing one adds zones x 730 h x 0.005 (2 zones: 7.30). A Classic
Load Balancer is 730 h x 0.025 = 18.25.
"""

from __future__ import annotations

from typing import Any

import pytest

from ai_platform_finops import load_balancers
from ai_platform_finops.usage import Usage, usage_of
from tests.finops.finops_fixtures import KEY, resource
from tests.finops.test_finops_estimator import item, run

SVC, ING = load_balancers.SERVICE, load_balancers.INGRESS
GW, HELM = load_balancers.GATEWAYS[0], load_balancers.HELM_RELEASES[0]


def service(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return resource(SVC, name, {"metadata": {"name": name, "annotations": annotations or {}},
                                "spec": {"type": "LoadBalancer", **spec}})


def kinds(resources: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    found, _ = load_balancers.find(resources)
    return [(str(lb.resource.get("name")), lb.kind, lb.internet_facing) for lb in found]


def test_services_follow_the_controller_and_scheme_rules():
    assert kinds([
        service("clb"),
        service("clb-internal", {load_balancers.INTERNAL: "true"}),
        service("clb-not-internal", {load_balancers.INTERNAL: "false"}),
        service("nlb-in-tree", {load_balancers.LB_TYPE: "nlb"}),
        service("nlb-lbc", {load_balancers.LB_TYPE: "external"}),
        service("nlb-lbc-public", {load_balancers.LB_TYPE: "external", load_balancers.SCHEME: "internet-facing"}),
        service("nlb-class", loadBalancerClass="service.k8s.aws/nlb"),
        resource(SVC, "cluster-ip", {"spec": {"type": "ClusterIP"}}),
    ]) == [("clb", "CLB", True), ("clb-internal", "CLB", False), ("clb-not-internal", "CLB", True),
           ("nlb-in-tree", "NLB", True), ("nlb-lbc", "NLB", False), ("nlb-lbc-public", "NLB", True),
           ("nlb-class", "NLB", False)]


def test_ingresses_make_one_alb_per_group_and_other_classes_none():
    def ingress(name: str, cls: str | None, **annotations: str) -> dict[str, Any]:
        spec = {"ingressClassName": cls} if cls else {}
        return resource(ING, name, {"metadata": {"annotations": annotations}, "spec": spec})

    resources = [
        ingress("a", "alb", **{load_balancers.ALB_GROUP: "shared"}),
        ingress("b", "alb", **{load_balancers.ALB_GROUP: "shared", load_balancers.ALB_SCHEME: "internet-facing"}),
        ingress("public", "alb", **{load_balancers.ALB_SCHEME: "internet-facing"}),
        ingress("nginx", "nginx"),
        ingress("classless", None),
    ]
    found, notes = load_balancers.find(resources)
    assert [(lb.resource["name"], lb.kind, lb.internet_facing) for lb in found] == [
        ("a", "ALB", False), ("public", "ALB", True), ("classless", "ALB", False)]
    assert any("IngressClass 'nginx' reuses its controller's own load balancer" in n for n in notes)
    assert found[2].note and "names no IngressClass" in found[2].note


def test_gateways_are_nlbs_when_every_listener_is_layer_4():
    tcp = resource(GW, "tcp", {"spec": {"gatewayClassName": "aws-nlb", "listeners": [{"protocol": "TCP"}, {"protocol": "TLS"}]}})
    http = resource(GW, "http", {"spec": {"gatewayClassName": "aws-alb", "listeners": [{"protocol": "HTTPS"}]}})
    assert kinds([tcp, http]) == [("tcp", "NLB", False), ("http", "ALB", False)]


def test_helm_values_show_load_balancer_services_and_enabled_ingresses():
    release = resource(HELM, "ingress-nginx", {"chart": "ingress-nginx", "values": {
        "controller": {"service": {"type": "LoadBalancer", "annotations": {load_balancers.LB_TYPE: "nlb"}}},
        "defaultBackend": {"service": {"type": "ClusterIP"}},
    }})
    argo = resource(HELM, "argocd", {"chart": "argo-cd", "values": {
        "server": {"ingress": {"enabled": True, "ingressClassName": "alb",
                               "annotations": {load_balancers.ALB_SCHEME: "internet-facing"}},
                   "ingressGrpc": {"enabled": False}},
    }})
    found, _ = load_balancers.find([release, argo])
    assert [(lb.kind, lb.internet_facing) for lb in found] == [("NLB", True), ("ALB", True)]
    assert "controller.service" in found[0].what and "server.ingress" in found[1].what


def test_aws_lb_resources_are_priced_by_type_and_scheme():
    nlb = resource("aws:lb/loadBalancer:LoadBalancer", "nlb", {"loadBalancerType": "network", "internal": True,
                                                                "tags": {KEY: "p"}})
    alb = resource("aws:alb/loadBalancer:LoadBalancer", "alb", {"tags": {KEY: "p"}})
    result = run([nlb, alb], usage=Usage(lcu_per_load_balancer=2, load_balancer_zones=3))
    # NLB internal: 16.425 + 2 NLCU x 730 x 0.006 = 8.76 -> 25.19 (no public address).
    assert item(result, "nlb").figures.expected == pytest.approx(16.425 + 2 * 730 * 0.006, abs=0.005)
    # ALB internet-facing: 16.425 + 2 LCU x 730 x 0.008 = 11.68 + 3 zones x 730 x 0.005 = 10.95 -> 39.055, rounded to the cent.
    assert item(result, "alb").figures.expected == pytest.approx(16.425 + 11.68 + 10.95, abs=0.0051)
    section = result.section()
    assert section["fixed"]["public_ipv4"]["count"] == 3 and section["fixed"]["public_ipv4"]["usd"] == 10.95
    assert section["usage"]["assumptions"]["finops.usage.lcuPerLoadBalancer"] == 2


def test_a_kubernetes_load_balancer_is_billed_to_its_label_else_its_namespace_project():
    namespace = resource("kubernetes:core/v1:Namespace", "team", {"metadata": {"name": "team", "labels": {KEY: "team"}}})
    labelled = resource(SVC, "labelled", {"metadata": {"labels": {KEY: "other"}}, "spec": {"type": "LoadBalancer"}})
    in_team = resource(SVC, "in-team", {"metadata": {"namespace": "team"}, "spec": {"type": "LoadBalancer"}})
    nowhere = resource(SVC, "nowhere", {"spec": {"type": "LoadBalancer"}})
    result = run([namespace, labelled, in_team, nowhere], default_project="platform")
    assert {i.name: i.project for i in result.items} == {"labelled": "other", "in-team": "team", "nowhere": "platform"}
    # A CLB's per-GB processing is not modelled: said.
    assert any("Classic Load Balancer also bills 0.008 $/GB" in a for a in result.assumptions)


def test_usage_assumptions_read_from_the_stack_config_and_odd_values_keep_the_defaults():
    assert usage_of({"usage": {"natGbPerMonth": 100.0, "logsGbPerMonth": "5", "lcuPerLoadBalancer": -1,
                               "loadBalancerZones": 0}}) == Usage(nat_gb_per_month=100.0, logs_gb_per_month=5.0)
    assert usage_of(None) == Usage()
    logs = resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"tags": {KEY: "p"}})
    result = run([logs], usage=Usage(logs_gb_per_month=20))
    # 20 GB x 0.50 $/GB = 10.00.
    assert item(result, "cloudwatch-logs-ingestion").figures.expected == 10.0
