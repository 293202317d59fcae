"""ClusterAddons: NVIDIA device plugin, Cluster Autoscaler (Pod Identity), metrics-server and the optional DCGM exporter."""

from __future__ import annotations

import json
import re

import pytest

from components.cluster_addons import expander_priorities
from components.config import GPU_PRESENT_LABEL, NVIDIA_DEVICE_PLUGIN_LABEL, POOL_LABEL
from tests.support.fixtures import (
    AWS_STACKS,
    STACKS,
    P,
    config,
    pool,
    preview,
    recorded,
)
from tests.support.recordings import by_name, of_type, one, provider_urn

RELEASE = "kubernetes:helm.sh/v3:Release"
DEVICE_PLUGIN = "cluster-addons-nvidia-device-plugin"
AUTOSCALER = "cluster-addons-cluster-autoscaler"
DCGM = "cluster-addons-dcgm-exporter"
METRICS = "cluster-addons-metrics-server"
NG = "aws:eks/nodeGroup:NodeGroup"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def releases(recording):
    return {name: r for name, r in by_name(recording, RELEASE).items() if name.startswith("cluster-addons-")}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_device_plugin_tolerates_the_gpu_taint_and_runs_only_on_gpu_nodes(stack):
    release = releases(recorded(stack))[DEVICE_PLUGIN].inputs
    assert release["chart"] == "nvidia-device-plugin"
    assert release["version"] == config(stack).addons.nvidia_device_plugin.version == "0.19.3"
    assert release["repositoryOpts"] == {"repo": "https://nvidia.github.io/k8s-device-plugin"}
    assert release["namespace"] == "kube-system"
    values = release["values"]
    assert values["tolerations"] == [GPU_TOLERATION]
    # Only AL2023 NVIDIA nodes: they alone carry the chart's node label (Bottlerocket has its own plugin).
    assert values["nodeSelector"] == {NVIDIA_DEVICE_PLUGIN_LABEL: "chart"}
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": NVIDIA_DEVICE_PLUGIN_LABEL, "operator": "In", "values": ["chart"]}]}]
    for node_pool in config(stack).gpu_pools:  # every fixture GPU pool is AL2023 NVIDIA
        labels = one(recorded(stack), NG, f"{node_pool.name}-ng").inputs["labels"]
        assert labels[NVIDIA_DEVICE_PLUGIN_LABEL] == "chart" and labels[GPU_PRESENT_LABEL] == "true"


def test_device_plugin_chart_skips_bottlerocket_nvidia_nodes():
    # One Bottlerocket NVIDIA pool next to the AL2023 one: only the AL2023 nodes get the chart's label.
    def edit(c):
        bottlerocket = dict(pool(c, "gpu-a10g"), name="gpu-br", amiType="BOTTLEROCKET_x86_64_NVIDIA")
        c[P + "nodePools"].append(bottlerocket)
        c[P + "projects"][0]["quota"]["gpus"] = 4

    recording = preview("sandbox", edit)
    al2023 = one(recording, NG, "gpu-a10g-ng").inputs
    bottlerocket = one(recording, NG, "gpu-br-ng").inputs
    assert al2023["amiType"] == "AL2023_x86_64_NVIDIA" and al2023["labels"][NVIDIA_DEVICE_PLUGIN_LABEL] == "chart"
    assert bottlerocket["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    assert NVIDIA_DEVICE_PLUGIN_LABEL not in bottlerocket["labels"]
    assert bottlerocket["labels"][GPU_PRESENT_LABEL] == "true"
    values = releases(recording)[DEVICE_PLUGIN].inputs["values"]
    assert values["nodeSelector"] == {NVIDIA_DEVICE_PLUGIN_LABEL: "chart"}


def test_no_device_plugin_chart_when_every_gpu_pool_is_bottlerocket():
    recording = preview("sandbox", lambda c: pool(c, "gpu-a10g").update(amiType="BOTTLEROCKET_x86_64_NVIDIA"))
    assert DEVICE_PLUGIN not in releases(recording)
    assert NVIDIA_DEVICE_PLUGIN_LABEL not in one(recording, NG, "gpu-a10g-ng").inputs["labels"]
    # ...and turning the chart off is then no config error: nothing needs it.
    addons = {"nvidiaDevicePlugin": {"enabled": False, "version": "0.19.3"}}
    recording = preview("sandbox", lambda c: (pool(c, "gpu-a10g").update(amiType="BOTTLEROCKET_x86_64_NVIDIA"),
                                          c.update({P + "addons": addons})))
    assert DEVICE_PLUGIN not in releases(recording)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_cluster_autoscaler_discovers_balances_and_runs_on_the_system_pool(stack):
    cfg = config(stack)
    release = releases(recorded(stack))[AUTOSCALER].inputs
    assert release["chart"] == "cluster-autoscaler"
    assert release["version"] == "9.59.0"
    assert release["repositoryOpts"] == {"repo": "https://kubernetes.github.io/autoscaler"}
    values = release["values"]
    assert values["autoDiscovery"] == {"clusterName": cfg.cluster.name}
    assert values["cloudProvider"] == "aws" and values["awsRegion"] == "us-east-1"
    assert values["extraArgs"] == {
        "balance-similar-node-groups": True,
        "expander": "least-waste",
        "skip-nodes-with-local-storage": False,
    }
    assert values["nodeSelector"] == {POOL_LABEL: "system"}
    assert "tolerations" not in values
    # The autoscaler's minor must match the control plane's (1.35).
    assert values["image"] == {"tag": "v1.35.2"}
    assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_cluster_autoscaler_gets_aws_access_through_pod_identity_scoped_to_its_asgs(stack):
    recording, cluster = recorded(stack), config(stack).cluster.name
    association = one(recording, "aws:eks/podIdentityAssociation:PodIdentityAssociation", AUTOSCALER)
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["serviceAccount"] == "cluster-autoscaler"
    role = one(recording, "aws:iam/role:Role", "cluster-addons-cluster-autoscaler")
    assert association.property_dependencies["roleArn"] == [role.urn]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}

    policy = json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", AUTOSCALER).inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    scale = statements["ScaleOwnAsgs"]
    assert set(scale["Action"]) == {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    assert scale["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}}
    assert statements["DescribeOwnNodegroups"]["Resource"] == (
        f"arn:aws:eks:us-east-1:123456789012:nodegroup/{cluster}/*")
    # No write action without the tag condition.
    for statement in policy["Statement"]:
        writes = [a for a in statement["Action"] if not a.split(":")[1].startswith(("Describe", "Get"))]
        assert not writes or "Condition" in statement

    release = releases(recording)[AUTOSCALER]
    assert association.urn in release.options["dependsOn"]


def test_dcgm_exporter_is_off_by_default():
    assert config("sandbox").addons.dcgm_exporter.enabled is False
    assert set(releases(recorded("sandbox"))) == {DEVICE_PLUGIN, AUTOSCALER, METRICS}


def test_dcgm_exporter_in_prod_sits_on_gpu_nodes_and_its_service_monitor_waits_for_the_operator():
    release = releases(recorded("live"))[DCGM].inputs
    assert release["chart"] == "dcgm-exporter" and release["version"] == "4.8.2"
    assert release["repositoryOpts"] == {"repo": "https://nvidia.github.io/dcgm-exporter/helm-charts"}
    values = release["values"]
    assert values["tolerations"] == [GPU_TOLERATION]
    assert values["nodeSelector"] == {GPU_PRESENT_LABEL: "true"}
    # prod runs the monitoring stack: the ServiceMonitor is on, after the release that installs its CRD.
    assert values["serviceMonitor"] == {"enabled": True}
    kps = one(recorded("live"), RELEASE, "observability-kube-prometheus-stack")
    assert kps.urn in releases(recorded("live"))[DCGM].options["dependsOn"]
    # GPU metrics carry the pods' FinOps labels, so GPU time can be billed to a project.
    assert values["kubernetes"] == {"enablePodLabels": True,
                                    "podLabelAllowlistRegex": ["^finops[.]apexlogic[.]com/.*"]}


def test_without_the_monitoring_stack_the_dcgm_exporter_creates_no_service_monitor():
    def off(c):
        c[P + "observability"].update(enabled=False)
        for service in c[P + "services"]:
            service.pop("autoscaling", None)  # scaling on in-flight requests needs the stack
    recording = preview("live", off)
    assert releases(recording)[DCGM].inputs["values"]["serviceMonitor"] == {"enabled": False}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_addon_release_uses_the_cluster_provider(stack):
    recording = recorded(stack)
    provider = one(recording, "pulumi:providers:kubernetes")
    for release in releases(recording).values():
        assert provider_urn(release.options["provider"]) == provider.urn


def test_only_metrics_server_in_kubeconfig_mode_with_insecure_kubelet_tls():
    recording = recorded("kind")
    assert set(releases(recording)) == {METRICS}
    assert len(of_type(recording, "ai-platform:cluster:ClusterAddons")) == 1
    release = releases(recording)[METRICS].inputs
    assert release["chart"] == "metrics-server" and release["version"] == "3.13.1"
    # kind's kubelets serve self-signed certificates; metrics-server must not verify them there.
    assert release["values"] == {
        "fullnameOverride": "metrics-server",
        "nodeSelector": {POOL_LABEL: "system"},
        "args": ["--kubelet-insecure-tls"],
    }
    provider = one(recording, "pulumi:providers:kubernetes")
    assert provider_urn(releases(recording)[METRICS].options["provider"]) == provider.urn


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_metrics_server_is_pinned_on_the_system_pool_of_every_aws_stack(stack):
    cfg = config(stack)
    release = releases(recorded(stack))[METRICS].inputs
    assert release["chart"] == "metrics-server"
    assert release["version"] == cfg.addons.metrics_server.version == "3.13.1"
    assert release["repositoryOpts"] == {"repo": "https://kubernetes-sigs.github.io/metrics-server/"}
    assert release["namespace"] == "kube-system"
    values = release["values"]
    assert values["nodeSelector"] == {POOL_LABEL: cfg.system_pool.name}
    assert "args" not in values  # EKS kubelet certificates are signed by the cluster CA: verified
    assert cfg.system_pool.min_size >= 2
    assert values["replicas"] == 2 and values["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}


@pytest.mark.parametrize("stack", STACKS)
def test_inference_deployments_wait_for_metrics_server(stack):
    recording = recorded(stack)
    metrics = releases(recording)[METRICS]
    deployments = [d for d in of_type(recording, DEPLOYMENT) if "InferenceService" in d.parent]
    assert deployments
    for deployment in deployments:
        assert metrics.urn in deployment.options["dependsOn"], deployment.name


def test_metrics_server_can_be_turned_off_and_then_nothing_waits_for_it():
    recording = preview("sandbox", lambda c: c.update({P + "addons": {"metricsServer": {"enabled": False, "version": "3.13.1"}}}))
    assert METRICS not in releases(recording)
    deployment = one(recording, DEPLOYMENT, "multimodal-inference-service")
    assert not any(urn.endswith("::" + METRICS) for urn in deployment.options["dependsOn"])


def test_versions_and_expander_come_from_config():
    def edit(c):
        c[P + "addons"] = {
            "nvidiaDevicePlugin": {"version": "0.17.1"},
            "clusterAutoscaler": {"version": "9.46.6", "expander": "priority", "imageTag": "v1.35.1"},
        }

    found = releases(preview("sandbox", edit))
    assert found[DEVICE_PLUGIN].inputs["version"] == "0.17.1"
    values = found[AUTOSCALER].inputs["values"]
    assert found[AUTOSCALER].inputs["version"] == "9.46.6"
    assert values["image"] == {"tag": "v1.35.1"}
    assert values["extraArgs"]["expander"] == "priority"
    assert values["expanderPriorities"] == {"10": [".*"], "50": ["^eks-gpu-a10g-[0-9a-f]+-"]}


def test_disabled_autoscaler_installs_no_release_and_no_role():
    recording = preview("sandbox", lambda c: c.update({P + "addons": {"clusterAutoscaler": {"enabled": False, "version": "9.59.0"}}}))
    assert set(releases(recording)) == {DEVICE_PLUGIN, METRICS}
    assert "aws:eks/podIdentityAssociation:PodIdentityAssociation" not in {
        r.type for r in recording.resources if r.name.startswith("cluster-addons-")}


def test_priority_regexes_match_only_their_own_pool():
    cfg = config("live")
    spot = [p.model_copy(update={"capacity_type": "SPOT"}) if p.name == "gpu-a10g" else p for p in cfg.node_pools]
    (regex,) = expander_priorities(spot)["50"]
    assert regex == "^eks-gpu-a10g-[0-9a-f]+-"
    # Managed node group ASG: eks-<node group name>-<uuid>; node group name: <pool>-<26-character suffix>,
    # a timestamp and a hex counter (so the suffix can hold a-f once the counter passes 9).
    assert re.match(regex, "eks-gpu-a10g-20261127135404123400000001-8ec9a3f1-1c2b-4d0e-9f7a-0123456789ab")
    assert re.match(regex, "eks-gpu-a10g-2026112713540412340000000a-8ec9a3f1-1c2b-4d0e-9f7a-0123456789ab")
    assert not re.match(regex, "eks-gpu-a10g-x4-20261127135404123400000002-0ec9a3f1-1c2b-4d0e-9f7a-0123456789ab")
    assert not re.match(regex, "eks-gpu-a10g-x4-2026112713540412340000000b-0ec9a3f1-1c2b-4d0e-9f7a-0123456789ab")
