"""ClusterAddons: the Helm charts that make GPU node pools work on EKS.

- **NVIDIA device plugin**: without it an AL2023 NVIDIA node never reports ``nvidia.com/gpu`` and
  no GPU pod schedules. It tolerates the GPU taint and runs only on nodes labelled
  ``ai-platform.io/nvidia-device-plugin=chart``: AL2023 NVIDIA pools' nodes. Bottlerocket NVIDIA
  nodes run the device plugin on the host; a second one from the chart would fight over the GPUs.
- **Cluster Autoscaler**: AWS credentials through an EKS Pod Identity association, with
  ``SetDesiredCapacity``/``TerminateInstanceInAutoScalingGroup`` only on ASGs tagged
  ``k8s.io/cluster-autoscaler/<cluster>=owned``; ASG auto-discovery by those tags; similar node
  groups balanced; the expander from config; the image of the control plane's minor; on the
  system pool, tolerating its taints. ``skip-nodes-with-local-storage=false`` lets it remove idle GPU nodes whose
  inference pods keep a model cache in an ``emptyDir`` (by default such a node is never
  scaled down, and an idle GPU keeps billing).
- **DCGM exporter** (optional, off by default): GPU utilisation metrics per GPU node, with the
  pod's FinOps labels so GPU-hours can be attributed to a project.
- **metrics-server**: the ``metrics.k8s.io`` API every HorizontalPodAutoscaler reads cpu from;
  without it no HPA scales. On the system pool, tolerating its taints (two replicas and a PDB when the pool has two
  nodes or more). ``InferenceService``s wait for it (``workload_dependencies``).

In ``kubeconfig`` mode (the local kind/minikube cluster: no GPUs, no AWS) only metrics-server is
installed, with ``--kubelet-insecure-tls`` because kind's and minikube's kubelets serve
self-signed certificates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as kubernetes

from components.cluster import Cluster
from components.iam_policies import assume_role_policy
from components.config.addons import (
    CLUSTER_AUTOSCALER_REPO,
    DCGM_EXPORTER_REPO,
    METRICS_SERVER_REPO,
    NVIDIA_DEVICE_PLUGIN_REPO,
    AddonsConfig,
    AutoscalerExpander,
)
from components.config.cluster import ClusterMode
from components.config.node_pools import (
    GPU_PRESENT_LABEL,
    NVIDIA_DEVICE_PLUGIN_FROM_CHART,
    NVIDIA_DEVICE_PLUGIN_LABEL,
    POOL_LABEL,
    CapacityType,
    NodePoolConfig,
    Taint,
)
from components.node_pool import CA_PREFIX

TYPE = "ai-platform:cluster:ClusterAddons"

NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
AUTOSCALER_DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
"""Read-only calls of the "full features" policy in kubernetes/autoscaler's AWS README."""
AUTOSCALER_SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def tolerations(taints: Sequence[Taint]) -> list[dict[str, str]]:
    """Exact tolerations for ``taints`` (one per distinct taint)."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for t in taints:
        seen[(t.key, t.value, t.effect.value)] = t.toleration()
    return list(seen.values())


def device_plugin_node_affinity() -> dict[str, Any]:
    """Only AL2023 NVIDIA nodes (replaces the chart's NFD-based default, which would match Bottlerocket too)."""
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": NVIDIA_DEVICE_PLUGIN_LABEL, "operator": "In",
                               "values": [NVIDIA_DEVICE_PLUGIN_FROM_CHART]}]},
    ]}}}


METRICS_SERVER = "metrics-server"
KUBELET_INSECURE_TLS = "--kubelet-insecure-tls"


def metrics_server_values(system_pool: NodePoolConfig, kubelet_insecure_tls: bool, ha: bool) -> dict[str, Any]:
    """metrics-server chart values: on the system pool; HA (2 replicas, a PDB) when asked."""
    values: dict[str, Any] = {
        "fullnameOverride": METRICS_SERVER,
        "nodeSelector": {POOL_LABEL: system_pool.name},
    }
    if system_pool.effective_taints:
        values["tolerations"] = tolerations(system_pool.effective_taints)
    if ha:
        values["replicas"] = 2
        values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
    if kubelet_insecure_tls:
        values["args"] = [KUBELET_INSECURE_TLS]
    return values


def autoscaler_policy(cluster_name: str, partition: str, region: str, account_id: str) -> str:
    """Least privilege: scale only this cluster's ASGs; describe node groups of this cluster only."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Describe", "Effect": "Allow", "Action": list(AUTOSCALER_DESCRIBE_ACTIONS), "Resource": "*"},
        {"Sid": "ScaleOwnAsgs", "Effect": "Allow", "Action": list(AUTOSCALER_SCALE_ACTIONS), "Resource": "*",
         "Condition": {"StringEquals": {f"aws:ResourceTag/{CA_PREFIX}/{cluster_name}": "owned"}}},
        {"Sid": "DescribeOwnNodegroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup"],
         "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*"},
    ]})


@dataclass(frozen=True)
class ClusterAddonsArgs:
    """ClusterAddons' inputs: the add-ons section and the pools the charts serve."""

    config: AddonsConfig
    """The stack's ``addons`` section: each chart's version and switches."""
    cluster: Cluster
    """The cluster: its provider, name and mode."""
    region: str | None
    """The AWS region (None only in kubeconfig mode)."""
    kubernetes_version: str
    """The control plane's minor version: picks the Cluster Autoscaler image."""
    system_pool: NodePoolConfig
    """Where the autoscaler and metrics-server run (its label and taints)."""
    gpu_pools: Sequence[NodePoolConfig]
    """The GPU pools: the device plugin and DCGM exporter tolerate their taints."""
    tags: Mapping[str, str]
    """FinOps AWS tags for the add-ons' IAM role and pod identity association."""
    finops_label_prefix: str
    """The FinOps label prefix the DCGM exporter copies from pods onto GPU metrics."""
    monitoring_crds: Sequence[pulumi.Resource] = ()
    """The release installing the Prometheus Operator's CRDs, when there is one: the DCGM exporter's
    ServiceMonitor is turned on and waits for it."""


class ClusterAddons(pulumi.ComponentResource):
    """The add-on Helm releases (see the module docstring). Outputs:"""

    device_plugin: kubernetes.helm.v3.Release | None
    """The nvidia-device-plugin release (None when disabled, in kubeconfig mode, or without a pool that runs the chart)."""
    cluster_autoscaler: kubernetes.helm.v3.Release | None
    """The cluster-autoscaler release (None in kubeconfig mode or when disabled)."""
    dcgm_exporter: kubernetes.helm.v3.Release | None
    """The dcgm-exporter release (None unless enabled on a stack with GPU pools, outside kubeconfig mode)."""
    metrics_server: kubernetes.helm.v3.Release | None
    """The metrics-server release (None when disabled)."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        local = args.cluster.mode == ClusterMode.KUBECONFIG
        if args.system_pool.is_gpu:
            raise ValueError("the add-ons' system pool must be a CPU pool")
        self._args = args
        self._k8s = pulumi.ResourceOptions(parent=self, provider=args.cluster.provider)
        config = args.config
        gpu_taints = [t for pool in args.gpu_pools for t in pool.effective_taints]
        chart_pools = [pool for pool in args.gpu_pools if pool.runs_nvidia_device_plugin_chart]

        self.metrics_server = None
        if config.metrics_server.enabled:
            self.metrics_server = self._release(
                f"{name}-{METRICS_SERVER}", METRICS_SERVER, METRICS_SERVER_REPO, config.metrics_server.version,
                metrics_server_values(args.system_pool, config.metrics_server.insecure_tls(local),
                                      ha=not local and args.system_pool.min_size >= 2),
            )

        self.device_plugin = None
        if config.nvidia_device_plugin.enabled and chart_pools and not local:
            self.device_plugin = self._release(
                f"{name}-nvidia-device-plugin", "nvidia-device-plugin", NVIDIA_DEVICE_PLUGIN_REPO,
                config.nvidia_device_plugin.version,
                {
                    "nodeSelector": {NVIDIA_DEVICE_PLUGIN_LABEL: NVIDIA_DEVICE_PLUGIN_FROM_CHART},
                    "affinity": device_plugin_node_affinity(),
                    "tolerations": tolerations([t for pool in chart_pools for t in pool.effective_taints]),
                    "priorityClassName": "system-node-critical",
                    "gfd": {"enabled": False},
                    "nfd": {"enabled": False},
                },
            )

        self.cluster_autoscaler = None
        if config.cluster_autoscaler.enabled and not local:
            self.cluster_autoscaler = self._autoscaler(name)

        self.dcgm_exporter = None
        if config.dcgm_exporter.enabled and args.gpu_pools and not local:
            self.dcgm_exporter = self._release(
                f"{name}-dcgm-exporter", "dcgm-exporter", DCGM_EXPORTER_REPO, config.dcgm_exporter.version,
                {
                    "nodeSelector": {GPU_PRESENT_LABEL: "true"},
                    "tolerations": tolerations(gpu_taints),
                    # A ServiceMonitor needs the Prometheus Operator's CRDs: on only with the monitoring stack,
                    # and the release then waits for it.
                    "serviceMonitor": {"enabled": bool(args.monitoring_crds)},
                    "kubernetes": {
                        "enablePodLabels": True,
                        "podLabelAllowlistRegex": [f"^{args.finops_label_prefix.replace('.', '[.]')}/.*"],
                    },
                },
                depends_on=args.monitoring_crds,
            )

        self.register_outputs({
            "releases": [r.name for r in (self.device_plugin, self.cluster_autoscaler, self.dcgm_exporter,
                                          self.metrics_server) if r],
        })

    @property
    def workload_dependencies(self) -> list[pulumi.Resource]:
        """What workloads should wait for: the metrics API their HPAs read (when installed here)."""
        return [self.metrics_server] if self.metrics_server is not None else []

    def _release(self, resource_name: str, chart: str, repo: str, version: str, values: dict[str, Any],
                 depends_on: Sequence[pulumi.Resource] = ()) -> kubernetes.helm.v3.Release:
        return kubernetes.helm.v3.Release(
            resource_name,
            name=chart,
            chart=chart,
            version=version,
            repository_opts={"repo": repo},
            namespace=NAMESPACE,
            values=values,
            max_history=5,
            cleanup_on_fail=True,
            opts=pulumi.ResourceOptions.merge(self._k8s, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )

    def _autoscaler(self, name: str) -> kubernetes.helm.v3.Release:
        args = self._args
        config = args.config.cluster_autoscaler
        cluster_name = args.cluster.config_name
        image = config.image_for(args.kubernetes_version)
        if args.region is None:
            raise ValueError("the Cluster Autoscaler needs aws:region")
        if image is None:
            raise ValueError(f"no cluster-autoscaler image for Kubernetes {args.kubernetes_version}; set imageTag")
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        account = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
        tags = dict(args.tags)

        role = aws.iam.Role(
            f"{name}-cluster-autoscaler",
            assume_role_policy=assume_role_policy("pods.eks.amazonaws.com"),
            description=f"Cluster Autoscaler of {cluster_name} (EKS Pod Identity)",
            tags=tags, opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-cluster-autoscaler",
            role=role.id,
            policy=autoscaler_policy(cluster_name, partition, args.region, account),
            opts=child,
        )
        association = aws.eks.PodIdentityAssociation(
            f"{name}-cluster-autoscaler",
            cluster_name=args.cluster.name,
            namespace=NAMESPACE,
            service_account=AUTOSCALER_SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        values: dict[str, Any] = {
            "cloudProvider": "aws",
            "awsRegion": args.region,
            "autoDiscovery": {"clusterName": cluster_name},
            "image": {"tag": image},
            "fullnameOverride": AUTOSCALER_SERVICE_ACCOUNT,
            "rbac": {"serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT}},
            "nodeSelector": {POOL_LABEL: args.system_pool.name},
            "extraArgs": {
                "balance-similar-node-groups": True,
                "expander": config.expander.value,
                "skip-nodes-with-local-storage": False,
            },
        }
        if args.system_pool.effective_taints:
            values["tolerations"] = tolerations(args.system_pool.effective_taints)
        if config.expander == AutoscalerExpander.PRIORITY:
            values["expanderPriorities"] = expander_priorities([*args.gpu_pools, args.system_pool])
        return self._release(
            f"{name}-cluster-autoscaler", "cluster-autoscaler", CLUSTER_AUTOSCALER_REPO, config.version, values,
            depends_on=[association],
        )


def expander_priorities(pools: Sequence[NodePoolConfig]) -> dict[str, list[str]]:
    """Priority expander: spot pools first (cheaper), then everything else.

    Managed node group ASGs are named ``eks-<node group name>-<uuid>``, and a node group's name is
    the pool name, '-' and the 26-character hex suffix of a name prefix (a timestamp and a hex
    counter, e.g. ``2026112713540412340000000a``), so ``gpu-a10g`` never matches ``gpu-a10g-x4``
    ('x' is not hex). Pool names are DNS labels: nothing in them needs escaping.
    """
    spot = [f"^eks-{p.name}-[0-9a-f]+-" for p in pools if p.capacity_type == CapacityType.SPOT]
    priorities = {"10": [".*"]}
    if spot:
        priorities["50"] = spot
    return priorities
