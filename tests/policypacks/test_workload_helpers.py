"""The workload accessor and the Helm chart table as pure helpers: kinds, Patches, components,
and each chart's values read into pod templates (unknowns kept unknown)."""

from __future__ import annotations

from typing import Any

import pytest

from ai_governance import k8s

from ai_governance.k8s import helm_values
from ai_governance.props import MISSING, UNKNOWN, elements
from ai_governance.resources import Res


def res(type_: str, props: dict[str, Any]) -> Res:
    return Res(type=type_, name="x", urn=f"urn:pulumi:s::p::{type_}::x", props=props)


def release(chart: str, values: Any, **props: Any) -> Res:
    return res(k8s.HELM_RELEASE, {"chart": chart, "values": values, **props})


@pytest.mark.parametrize("type_, base, patch", [
    ("kubernetes:apps/v1:DeploymentPatch", "kubernetes:apps/v1:Deployment", True),
    ("kubernetes:core/v1:PodPatch", "kubernetes:core/v1:Pod", True),
    ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:Deployment", False),
    ("kubernetes:example.com/v1:ThingPatch", "kubernetes:example.com/v1:ThingPatch", False),  # not a known kind
])
def test_patch_variants_map_to_their_kind(type_, base, patch):
    assert k8s.base_type(type_) == base and k8s.is_patch(type_) is patch


@pytest.mark.parametrize("type_, carries", [
    ("kubernetes:batch/v1:CronJobPatch", True), (k8s.HELM_RELEASE, True),
    ("kubernetes:argoproj.io/v1alpha1:Rollout", True),  # unknown kind: looked at, may fail closed
    ("kubernetes:core/v1:ConfigMap", False), ("kubernetes:core/v1:Pod", True),
    ("kubernetes:helm.sh/v4:Chart", False), ("kubernetes:yaml/v2:ConfigGroup", False), (k8s.PDB, False),
    ("aws:eks/cluster:Cluster", False),
])
def test_which_types_workload_rules_look_at(type_, carries):
    assert k8s.may_carry_pods(type_) is carries


def test_components_and_plain_objects_carry_no_workloads():
    assert k8s.workloads(res("kubernetes:yaml/v2:ConfigGroup", {"spec": {"template": {}}})) == k8s.Workloads()
    assert k8s.workloads(res("aws:s3/bucket:Bucket", {"spec": {"template": {}}})) == k8s.Workloads()
    found = k8s.workloads(res("kubernetes:example.com/v1:Thing", {"spec": {"jobTemplate": {}}}))
    assert found.templates == [] and found.unverifiable is not None and "spec.jobTemplate" in found.unverifiable
    found = k8s.workloads(res("kubernetes:example.com/v1:Thing", {"spec": {"template": UNKNOWN}}))
    assert found.unverifiable is not None and "spec.template" in found.unverifiable
    assert k8s.workloads(res("kubernetes:argoproj.io/v1alpha1:AppProject", {"spec": UNKNOWN})) == k8s.Workloads()


def test_unknown_containers_and_init_containers():
    tpl = k8s.pod_template(res(k8s.POD, {"spec": {"containers": UNKNOWN, "initContainers": [UNKNOWN]}}))
    assert tpl is not None and tpl.containers_unknown and tpl.containers == []
    tpl = k8s.pod_template(res(k8s.POD, {"spec": {"containers": [{"name": "a", "resources": UNKNOWN}],
                                                  "initContainers": UNKNOWN}}))
    assert tpl is not None and not tpl.containers_unknown
    assert k8s.pod_needs(tpl) == ({}, True)


def test_a_sidecar_is_an_init_container_that_restarts_always():
    tpl = k8s.pod_template(res(k8s.POD, {"spec": {"containers": [], "initContainers": [
        {"name": "s", "restartPolicy": "Always"}, {"name": "i"}]}}))
    assert tpl is not None and [c.sidecar for c in tpl.containers] == [True, False]


def test_an_unknown_amount_or_limits_map_is_unknown():
    assert k8s.container_need({"resources": {"limits": {"amd.com/gpu": UNKNOWN}}}, "amd.com/gpu") == (0.0, True)
    assert k8s.accelerator_names({"resources": {"limits": UNKNOWN, "requests": {"nvidia.com/gpu": "1"}}}) == (
        ["nvidia.com/gpu"], True)
    assert k8s.GpuAmount().set is False and k8s.GpuAmount(limit="1").set is True


def test_governance_annotations_of_a_helm_workload_are_its_pod_annotations_only():
    tpl = k8s.template_from("values", {"metadata": {"annotations": UNKNOWN}, "spec": {"containers": []}},
                            values_path="values")
    owner = res(k8s.HELM_RELEASE, {"metadata": {"annotations": {"governance.x/owner": "a"}}})
    assert k8s.governance_annotations(owner, tpl) == ({}, {"*"})


# --- the chart table --------------------------------------------------------------------------------

def only(found: k8s.Workloads) -> k8s.PodTemplate:
    assert len(found.templates) == 1, found
    return found.templates[0]


def test_an_unknown_chart_cannot_be_inspected():
    found = k8s.workloads(release("oci://example.com/charts/vllm-stack", {}))
    assert found.templates == [] and "'vllm-stack' cannot be inspected" in (found.uninspectable or "")


def test_a_values_file_without_its_content_fails_closed():
    found = k8s.workloads(release("metrics-server", {}, valueYamlFiles=["values.yaml"]))
    assert len(found.templates) == 1 and found.templates[0].spec is UNKNOWN
    assert "valueYamlFiles[0]" in (found.uninspectable or "") and "cannot be inspected" in (found.uninspectable or "")


@pytest.mark.parametrize("image, expected", [
    ({}, "registry.k8s.io/metrics-server/metrics-server:chart-appVersion"),
    ({"repository": "mirror.example.com/ms", "tag": "v0.8.0"}, "mirror.example.com/ms:v0.8.0"),
    ({"tag": "sha256:" + "a" * 64}, "registry.k8s.io/metrics-server/metrics-server@sha256:" + "a" * 64),
    ({"tag": UNKNOWN}, UNKNOWN),
])
def test_images_default_to_the_chart_repository_and_appversion(image, expected):
    tpl = only(k8s.workloads(release("metrics-server", {"image": image})))
    assert tpl.containers[0].value["image"] == expected


def test_argo_cd_components_fall_back_to_global_and_switch_off():
    found = k8s.workloads(release("argo-cd", {"global": {"nodeSelector": {"pool": "system"}},
                                              "server": {"nodeSelector": {"pool": "web"}},
                                              "dex": {"enabled": False}, "notifications": {"enabled": UNKNOWN}}))
    by_path = {t.values_path: t for t in found.templates}
    assert "values.dex" not in by_path and "values.notifications" in by_path
    assert by_path["values.server"].spec["nodeSelector"] == {"pool": "web"}
    assert by_path["values.controller"].spec["nodeSelector"] == {"pool": "system"}
    assert by_path["values.controller"].kind == k8s.STATEFUL_SET
    assert by_path["values.server"].field("spec", "tolerations") == "values.server.tolerations"
    assert by_path["values.server"].field("metadata", "annotations") == "values.server.podAnnotations"


def test_the_monitoring_charts_render_their_components_where_the_values_place_them():
    system = {"nodeSelector": {"ai-platform.io/node-pool": "system"}}
    kps = k8s.workloads(release("kube-prometheus-stack", {
        "prometheus": {"prometheusSpec": {**system, "resources": {"limits": {"memory": "2Gi"}}}},
        "alertmanager": {"alertmanagerSpec": {**system, "replicas": 2}},
        "prometheusOperator": system, "grafana": system, "kube-state-metrics": system,
        "nodeExporter": {"enabled": False}}))
    by_path = {t.values_path: t for t in kps.templates}
    assert set(by_path) == {"values.prometheusOperator", "values.prometheus.prometheusSpec",
                            "values.alertmanager.alertmanagerSpec", "values.grafana", "values.kube-state-metrics"}
    assert kps.uninspectable is None
    assert by_path["values.prometheus.prometheusSpec"].kind == k8s.STATEFUL_SET
    assert all(t.spec["nodeSelector"] == system["nodeSelector"] for t in kps.templates)
    opencost = only(k8s.workloads(release("opencost", {"opencost": {**system, "exporter": {"resources": {}}}})))
    assert opencost.spec["nodeSelector"] == system["nodeSelector"]  # the exporter sets none: opencost.* applies
    assert opencost.containers[0].value["image"] == "ghcr.io/opencost/opencost:chart-appVersion"


def test_a_switch_off_by_default_needs_turning_on():
    chart = helm_values.Chart("x", "test", (helm_values.ChartWorkload("extra", k8s.DEPLOYMENT, "img", enabled="extra.on",
                                                                      enabled_default=False),))
    helm_values.CHARTS["x-test"] = chart
    try:
        assert k8s.workloads(release("x-test", {})).templates == []
        assert len(k8s.workloads(release("x-test", {"extra": {"on": True}})).templates) == 1
    finally:
        del helm_values.CHARTS["x-test"]


@pytest.mark.parametrize("gpu, limits, tolerated", [
    ({"enabled": False}, {}, []),
    ({"enabled": True}, {"nvidia.com/gpu": 1}, ["nvidia.com/gpu"]),
    ({"enabled": True, "number": 2, "type": "amd"}, {"amd.com/gpu": 2}, []),
    ({"enabled": True, "nvidiaResource": "nvidia.com/mig-2g.10gb"}, {"nvidia.com/mig-2g.10gb": 1},
     ["nvidia.com/mig-2g.10gb"]),
    ({"enabled": True, "mig": {"enabled": True, "devices": {"1g.5gb": 2}}}, {"nvidia.com/mig-1g.5gb": 2}, []),
])
def test_ollama_gpu_values_become_limits_and_tolerations(gpu, limits, tolerated):
    tpl = only(k8s.workloads(release("ollama", {"ollama": {"gpu": gpu}, "resources": {"limits": {"memory": "8Gi"}}})))
    assert tpl.containers[0].value["resources"]["limits"] == {"memory": "8Gi", **limits}
    assert [t["key"] for t in elements(tpl.spec["tolerations"])] == tolerated


@pytest.mark.parametrize("values", [{"ollama": {"gpu": {"enabled": UNKNOWN}}}, {"ollama": {"gpu": UNKNOWN}}])
def test_unknown_ollama_gpu_values_make_the_resources_unknown(values):
    tpl = only(k8s.workloads(release("ollama", values)))
    assert tpl.containers[0].value["resources"] is UNKNOWN
    assert k8s.pod_needs(tpl) == ({}, True)


@pytest.mark.parametrize("probe, has_probe", [({}, True), ({"enabled": False}, False), ({"enabled": UNKNOWN}, None)])
def test_ollama_readiness_probe_follows_its_switch(probe, has_probe):
    tpl = only(k8s.workloads(release("ollama", {"readinessProbe": probe})))
    value = tpl.containers[0].value["readinessProbe"]
    assert (value is UNKNOWN) if has_probe is None else ((value is not MISSING) is has_probe)


def test_helm_replicas_come_from_the_values():
    from ai_governance.replicas import min_replicas

    tpl = only(k8s.workloads(release("ollama", {"replicaCount": 3})))
    assert tpl.replicas == 3 and min_replicas(None, None, {}, None, tpl) == 3  # type: ignore[arg-type]
    device_plugin = only(k8s.workloads(release("nvidia-device-plugin", {})))
    assert min_replicas(None, None, {}, None, device_plugin) == 1  # type: ignore[arg-type]


def test_the_docs_show_every_accelerator_and_every_chart_of_the_tables():
    from pathlib import Path

    from ai_platform_finops import accelerators

    text = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text(encoding="utf-8")
    table = text[text.index("### The accelerator table"):]
    for row in accelerators.ACCELERATORS:
        assert f"`{row.resource}`" in table, row.resource
        assert all(f"`{label}`" in table for label in row.node_labels), row
        assert all(f"{family}" in table for family in row.instance_families), row
    charts = text[text.index("### Helm charts read from their values"):text.index("### The accelerator table")]
    for name, chart in helm_values.CHARTS.items():
        assert f"| `{name}`" in charts and chart.verified.split(",")[0] in charts, name
