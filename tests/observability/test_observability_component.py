"""Observability under mocks, against the fixture stacks' recorded inputs: pinned releases on the system
pool, prod's encrypted gp3 volumes (EBS CSI add-on on Pod Identity, StorageClass), the generated
PrometheusRule and ServiceMonitors after the CRDs, every chart values key checked against the pinned chart."""

from __future__ import annotations

import json

import pytest

from components.config import POOL_LABEL
from components.observability import chart_keys
from components.observability.values import STORAGE_CLASS
from tests.support.fixtures import AWS_STACKS, P, preview, recorded
from tests.support.prometheus import config
from tests.support.recordings import by_name, of_type, one

RELEASE = "kubernetes:helm.sh/v3:Release"
KPS = "observability-kube-prometheus-stack"
OPENCOST = "observability-opencost"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
ADDON = "aws:eks/addon:Addon"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
PASSED_THROUGH = {"kube-prometheus-stack": [("alertmanager", "config")]}
"""Values the chart hands on whole: ``alertmanager.config`` becomes alertmanager.yml (amtool checks it)."""
SUBCHARTS = {"grafana": ("grafana", "12.11.1"), "kube-state-metrics": ("kube-state-metrics", "8.4.0")}


def releases(stack: str):
    return {n: r for n, r in by_name(recorded(stack), RELEASE).items() if n.startswith("observability-")}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_releases_are_pinned_from_their_official_repos_on_the_system_pool(stack):
    cfg = config(stack)
    kps, opencost = releases(stack)[KPS].inputs, releases(stack)[OPENCOST].inputs
    assert (kps["chart"], kps["version"], kps["repositoryOpts"]) == (
        "kube-prometheus-stack", "88.5.3", {"repo": "https://prometheus-community.github.io/helm-charts"})
    assert (opencost["chart"], opencost["version"], opencost["repositoryOpts"]) == (
        "opencost", "2.5.17", {"repo": "https://opencost.github.io/opencost-helm-chart"})
    system = {POOL_LABEL: cfg.system_pool.name}
    values = kps["values"]
    assert values["prometheus"]["prometheusSpec"]["nodeSelector"] == system
    assert values["alertmanager"]["alertmanagerSpec"]["nodeSelector"] == system
    assert values["prometheus"]["prometheusSpec"]["retention"] == cfg.observability.retention
    assert opencost["values"]["opencost"]["nodeSelector"] == system
    # kube-state-metrics exports the pool label of nodes and the FinOps labels OpenCost allocates by.
    allow = values["kube-state-metrics"]["metricLabelsAllowlist"]
    prefix = cfg.finops.tag_prefix
    assert allow[0] == "nodes=[ai-platform.io/node-pool]"
    assert allow[1] == f"pods=[{prefix}/cost-center,{prefix}/project,{prefix}/environment,{prefix}/tier,{prefix}/owner]"
    # OpenCost reads that Prometheus.
    internal = opencost["values"]["opencost"]["prometheus"]["internal"]
    assert (internal["serviceName"], internal["namespaceName"]) == ("kps-prometheus", "monitoring")


def _check_keys(values, chart: str, version: str) -> list[str]:
    tree = chart_keys.load(chart, version)["keys"]
    for key, (sub, sub_version) in SUBCHARTS.items():
        if chart == "kube-prometheus-stack":
            merged = dict(chart_keys.load(sub, sub_version)["keys"])
            merged.update(tree.get(key) or {})
            tree = {**tree, key: merged}
    for parent, key in PASSED_THROUGH.get(chart, []):
        tree = {**tree, parent: {**tree[parent], key: None}}
    return chart_keys.unknown_keys(values, tree)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_values_key_exists_in_the_pinned_charts_values_yaml(stack):
    for name, release in releases(stack).items():
        inputs = release.inputs
        values = inputs["values"]
        assert _check_keys(values, inputs["chart"], inputs["version"]) == [], name


def test_the_key_check_catches_a_misspelt_key():
    assert _check_keys({"prometheus": {"prometheusSpec": {"retension": "1d"}}}, "kube-prometheus-stack", "88.5.3") == [
        "prometheus.prometheusSpec.retension"]
    assert _check_keys({"grafana": {"sidecar": {"dashboards": {"lable": "x"}}}}, "kube-prometheus-stack", "88.5.3") == [
        "grafana.sidecar.dashboards.lable"]
    snapshot = chart_keys.load("opencost", "2.5.17")
    assert snapshot["source"].startswith("opencost/opencost-helm-chart tag opencost-2.5.17") and snapshot["recorded"]


def test_prod_persists_on_encrypted_gp3_through_the_ebs_csi_add_on_with_pod_identity():
    recording = recorded("live")
    addon = one(recording, ADDON, "observability-aws-ebs-csi-driver")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    association = one(recording, ASSOCIATION, "observability-ebs-csi").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("kube-system", "ebs-csi-controller-sa")
    assert one(recording, ASSOCIATION, "observability-ebs-csi").urn in addon.options["dependsOn"]
    sc = one(recording, SC, f"observability-{STORAGE_CLASS}")
    assert sc.inputs["provisioner"] == "ebs.csi.aws.com"
    assert sc.inputs["parameters"]["type"] == "gp3" and sc.inputs["parameters"]["encrypted"] == "true"
    assert sc.inputs["reclaimPolicy"] == "Retain" and sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    kps = releases("live")[KPS]
    assert {addon.urn, sc.urn} <= set(kps.options["dependsOn"])
    claim = kps.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == STORAGE_CLASS and claim["resources"]["requests"]["storage"] == "100Gi"
    assert kps.inputs["values"]["alertmanager"]["alertmanagerSpec"]["replicas"] == 2


@pytest.mark.parametrize("stack", ["sandbox", "preprod"])
def test_dev_and_staging_are_small_and_keep_no_volumes(stack):
    recording = recorded(stack)
    assert not [a for a in of_type(recording, ADDON) if a.inputs["addonName"] == "aws-ebs-csi-driver"]
    assert not of_type(recording, SC)
    values = releases(stack)[KPS].inputs["values"]
    assert "storageSpec" not in values["prometheus"]["prometheusSpec"]
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == 1
    assert values["prometheus"]["prometheusSpec"]["resources"]["requests"]["memory"] == "1Gi"


def test_the_local_stack_runs_no_monitoring_stack():
    assert not [r for r in recorded("kind").resources if r.name.startswith("observability")]


def test_rules_and_monitors_wait_for_the_release_that_installs_the_crds():
    recording = recorded("live")
    kps = releases("live")[KPS]
    rules = by_name(recording, RULE)
    assert set(rules) == {"observability-rules", "observability-rules-pool-gpu-a10g", "observability-rules-pool-gpu-a10g-x4",
                          "observability-rules-project-project-nova", "observability-rules-project-project-atlas",
                          *(f"observability-rules-service-{s.name}" for s in config("live").services)}
    quotas = {q.urn for q in of_type(recording, "kubernetes:core/v1:ResourceQuota")}
    for rule in rules.values():
        # Only the CRDs' release: every rule object lives in monitoring, none waits for a tenant's namespace.
        assert kps.urn in rule.options["dependsOn"] and not quotas & set(rule.options["dependsOn"])
        assert rule.inputs["metadata"]["namespace"] == "monitoring"
    monitors = by_name(recording, MONITOR)
    assert set(monitors) == {f"observability-{s.name}" for s in config("live").services}
    for monitor in monitors.values():
        assert kps.urn in monitor.options["dependsOn"]
        # ...and for the project's namespace (its quota stands for it: created in it, after it).
        quota = one(recording, "kubernetes:core/v1:ResourceQuota", monitor.inputs["metadata"]["namespace"])
        assert quota.urn in monitor.options["dependsOn"]
        # ...and for no other project's, so the stack's dependency edges grow with services, not their product.
        others = {q.urn for q in of_type(recording, "kubernetes:core/v1:ResourceQuota")} - {quota.urn}
        assert others and not others & set(monitor.options["dependsOn"])
        assert monitor.inputs["spec"]["endpoints"][0]["path"] == "/metrics"
    assert kps.urn in releases("live")[OPENCOST].options["dependsOn"]
    # The DCGM exporter's ServiceMonitor is on now that the operator's CRDs come with the stack, and waits for them.
    dcgm = by_name(recording, RELEASE)["cluster-addons-dcgm-exporter"]
    assert dcgm.inputs["values"]["serviceMonitor"] == {"enabled": True}
    assert kps.urn in dcgm.options["dependsOn"]


def test_rule_labels_carry_project_service_and_owner():
    rules = by_name(recorded("live"), RULE)
    groups = [g for rule in rules.values() for g in rule.inputs["spec"]["groups"]]
    service_alerts = [r for g in groups for r in g["rules"] if r.get("labels", {}).get("scope") == "service"]
    assert service_alerts
    # Each service's alerts are in its own object; the cluster's holds none of them.
    for svc in config("live").services:
        own = rules[f"observability-rules-service-{svc.name}"].inputs
        assert own["metadata"]["name"] == f"ai-platform-service-{svc.name}"
        assert {r["labels"]["service"] for g in own["spec"]["groups"] for r in g["rules"] if "alert" in r} == {svc.name}
    cluster = rules["observability-rules"].inputs
    assert cluster["metadata"]["name"] == "ai-platform-generated"
    assert not [r for g in cluster["spec"]["groups"] for r in g["rules"] if "service" in r.get("labels", {})]
    for rule in service_alerts:
        assert {"project", "service", "owner", "severity", "node_pool"} <= set(rule["labels"])
    by_service = {r["labels"]["service"] for r in service_alerts}
    assert by_service == {s.name for s in config("live").services}


def test_alertmanager_publishes_to_the_finops_topic_with_its_own_pod_identity_role():
    recording = recorded("live")
    association = one(recording, ASSOCIATION, "observability-alertmanager")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("monitoring", "alertmanager")
    policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", "observability-alertmanager").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"sns:Publish", "kms:GenerateDataKey*", "kms:Decrypt"}
    assert policy["Statement"][0]["Resource"].endswith(":ai-platform-live-cost-alerts")
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}
    # Known at preview, so the routing (and the observability-coverage policy) can be judged before apply.
    config = releases("live")[KPS].inputs["values"]["alertmanager"]["config"]
    assert config["receivers"][2]["sns_configs"][0]["topic_arn"].endswith(":ai-platform-live-cost-alerts")


def test_tenant_namespaces_admit_prometheus_only_when_it_is_installed():
    def ingress(recording, project):
        policy = one(recording, "kubernetes:networking.k8s.io/v1:NetworkPolicy", project)
        return json.dumps(policy.inputs["spec"]["ingress"])
    assert '"monitoring"' in ingress(recorded("live"), "project-nova")
    off = preview("sandbox", lambda c: c[P + "observability"].update(enabled=False))
    assert '"monitoring"' not in ingress(off, "project-nova")


def test_a_key_tree_keeps_mappings_and_ends_at_leaves():
    values = {"a": {"b": 1, "c": {}, "d": {"e": [1]}}, "f": None}
    assert chart_keys.key_tree(values) == {"a": {"b": None, "c": None, "d": {"e": None}}, "f": None}
    assert chart_keys.unknown_keys({"a": {"c": {"anything": 1}, "x": 2}}, chart_keys.key_tree(values)) == ["a.x"]
