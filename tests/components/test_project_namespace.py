"""ProjectNamespace on the fixture stacks: the recorded Namespace, ResourceQuota, LimitRange and NetworkPolicy inputs."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, validate_flat_config
from preflight.engine import RecordedResource, Recording
from tests.support.fixtures import STACKS, P, preview, recorded, stack_source
from tests.support.recordings import one

COMPONENT = "ai-platform:tenancy:ProjectNamespace"
NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

FINOPS = "finops.apexlogic.com/"


def kubernetes_provider(recording: Recording) -> str:
    providers = recording.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1, [p.urn for p in providers]
    return providers[0].urn


def child_of(recording: Recording, resource: RecordedResource, component_type: str, name: str) -> bool:
    parent = recording.by_urn().get(resource.parent)
    return parent is not None and parent.type == component_type and parent.name == name


def test_one_component_per_project_and_each_child_is_parented_and_uses_the_cluster_provider(every_stack):
    rec = every_stack
    provider = kubernetes_provider(rec)
    components = rec.of_type(COMPONENT)
    assert components, f"{rec.stack}: no ProjectNamespace"
    for component in components:
        children = [r for r in rec.resources if r.parent == component.urn]
        assert {c.type for c in children} >= {NAMESPACE, QUOTA, LIMIT_RANGE}
        for child in children:
            assert child.options["provider"].startswith(provider + "::"), (child.urn, child.options["provider"])
            assert child.custom


def test_dev_namespace_carries_the_finops_labels_and_pod_security(dev):
    ns = one(dev, NAMESPACE, "project-nova")
    assert ns.inputs["apiVersion"] == "v1" and ns.inputs["kind"] == "Namespace"
    assert ns.inputs["metadata"]["name"] == "project-nova"
    assert ns.inputs["metadata"]["labels"] == {
        FINOPS + "cost-center": "ai-innovation",
        FINOPS + "project": "project-nova",
        FINOPS + "environment": "dev",
        FINOPS + "tier": "development",
        FINOPS + "owner": "ml-platform-team",
        "app.kubernetes.io/part-of": "ai-platform",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/component": "tenancy",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def test_a_project_with_its_own_cost_center_is_billed_to_it(prod):
    labels = one(prod, NAMESPACE, "project-atlas").inputs["metadata"]["labels"]
    assert labels[FINOPS + "cost-center"] == "claims-analytics"
    assert labels[FINOPS + "owner"] == "claims-ml-team"
    assert labels[FINOPS + "project"] == "project-atlas"
    assert labels[FINOPS + "environment"] == "prod"


def test_quota_caps_whole_gpus_cpu_and_memory_from_config(prod):
    # GPUs as requests. only: the quota evaluator never counts limits. of an extended resource.
    quota = one(prod, QUOTA, "project-atlas")
    assert quota.inputs["metadata"]["namespace"] == "project-atlas"
    assert quota.inputs["metadata"]["name"] == "quota"
    assert quota.inputs["spec"] == {"hard": {
        "requests.nvidia.com/gpu": "12",
        "requests.cpu": "144",
        "requests.memory": "576Gi",
        "limits.memory": "576Gi",
    }}
    assert quota.inputs["metadata"]["labels"][FINOPS + "cost-center"] == "claims-analytics"


def test_quota_and_limit_range_wait_for_the_namespace(prod):
    ns = one(prod, NAMESPACE, "project-nova")
    for type_ in (QUOTA, LIMIT_RANGE):
        child = one(prod, type_, "project-nova")
        assert child.property_dependencies["metadata"] == [ns.urn]


def test_quota_follows_the_config():
    rec = preview("sandbox", lambda c: c[P + "projects"][0]["quota"].update(gpus=4, cpu="40", memory="160Gi"))
    hard = one(rec, QUOTA, "project-nova").inputs["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "4" and "limits.nvidia.com/gpu" not in hard
    assert (hard["requests.cpu"], hard["requests.memory"]) == ("40", "160Gi")


def test_limit_range_gives_containers_defaults_but_no_cpu_limit(dev):
    spec = one(dev, LIMIT_RANGE, "project-nova").inputs["spec"]
    assert spec == {"limits": [{
        "type": "Container",
        "default": {"memory": "1Gi"},
        "defaultRequest": {"cpu": "250m", "memory": "256Mi"},
    }]}


DNS_EGRESS = {
    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_tenant_namespace_gets_a_default_deny_policy_for_ingress_and_egress(stack):
    rec = recorded(stack)
    for namespace in rec.of_type(NAMESPACE):
        if namespace.parent not in {c.urn for c in rec.of_type(COMPONENT)}:
            continue  # platform namespaces (argocd) are not tenants
        project = namespace.inputs["metadata"]["name"]
        policy = one(rec, NETWORK_POLICY, project)
        assert policy.inputs["metadata"] == {
            "name": "default-deny",
            "namespace": project,
            "labels": one(rec, QUOTA, project).inputs["metadata"]["labels"],
        }
        spec = policy.inputs["spec"]
        assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress", "Egress"]
        assert spec["egress"] == [DNS_EGRESS, {"to": [{"podSelector": {}}]}]


def test_ingress_admits_only_the_ingress_controller_argocd_prometheus_and_the_namespace_itself(prod):
    for project in ("project-nova", "project-atlas"):
        assert one(prod, NETWORK_POLICY, project).inputs["spec"]["ingress"] == [{"from": [
            {"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In",
                 "values": ["argocd", "ingress-nginx", "monitoring"]}]}},
            {"podSelector": {}},
        ]}]


def _project(c: dict[str, Any]) -> dict[str, Any]:
    return c[P + "projects"][0]


def test_network_policy_can_be_fenced_tighter_and_opened_to_cidrs():
    def fence(c: dict[str, Any]) -> None:
        _project(c).update(allowedIngressNamespaces=["gateway"], allowSameNamespace=False,
                           allowedEgressCidrs=["10.42.128.0/20"])
        c.pop(P + "argocd")
        c.pop(P + "observability")

    spec = one(preview("sandbox", fence), NETWORK_POLICY, "project-nova").inputs["spec"]
    assert spec["ingress"] == [{"from": [{"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["gateway"]}]}}]}]
    assert spec["egress"] == [DNS_EGRESS, {"to": [{"ipBlock": {"cidr": "10.42.128.0/20"}}]}]


def test_network_policy_with_nothing_admitted_denies_all_ingress_and_all_egress_but_dns():
    def deny_all(c: dict[str, Any]) -> None:
        _project(c).update(allowedIngressNamespaces=[], allowSameNamespace=False)
        c.pop(P + "argocd")
        c.pop(P + "observability")

    spec = one(preview("sandbox", deny_all), NETWORK_POLICY, "project-nova").inputs["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": [DNS_EGRESS]}


def test_a_project_opts_out_only_with_a_reason_recorded_on_its_namespace():
    reason = "legacy batch jobs call partner APIs; tracked in PLAT-2291"
    rec = preview("live", lambda c: _project(c).update(networkPolicy=False, networkPolicyOptOutReason=reason))
    assert [r.name for r in rec.of_type(NETWORK_POLICY)] == ["project-atlas"]
    annotations = one(rec, NAMESPACE, "project-nova").inputs["metadata"]["annotations"]
    assert annotations == {"governance.apexlogic.com/network-policy-opt-out": reason}


@pytest.mark.parametrize("edit, message", [
    ({"networkPolicy": False}, "projects[0]: networkPolicy: false needs networkPolicyOptOutReason"),
    ({"networkPolicyOptOutReason": "because we said so"}, "projects[0]: networkPolicyOptOutReason is set but networkPolicy is on"),
    ({"allowedEgressCidrs": ["10.0.0.1/8"]}, "projects[0].allowedEgressCidrs[0]: Input is not a valid IPv4 network"),
])
def test_network_policy_config_errors(edit, message):
    source = stack_source("sandbox", lambda c: _project(c).update(edit))
    with pytest.raises(ConfigError) as raised:
        validate_flat_config(source.config, source.project, source.source, source.secret_keys)
    assert message in str(raised.value)


def test_namespace_pod_security_level_is_configurable():
    rec = preview("sandbox", lambda c: _project(c).update(podSecurity="baseline"))
    labels = one(rec, NAMESPACE, "project-nova").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_local_project_nova_enforces_baseline_for_the_argocd_guestbook():
    # Argo CD syncs the public guestbook (root, port 80) into project-nova on kind: restricted would refuse it.
    labels = one(recorded("kind"), NAMESPACE, "project-nova").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"
    for stack in ("sandbox", "preprod", "live"):
        for namespace in recorded(stack).of_type(NAMESPACE):
            if COMPONENT in namespace.parent:
                assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_namespaces_are_exported(dev):
    assert dev.outputs["namespaces"] == {"project-nova": "project-nova"}
