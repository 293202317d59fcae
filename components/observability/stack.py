"""Observability: kube-prometheus-stack and OpenCost on the system pool, the generated PrometheusRules (the
cluster's and one per GPU pool, budgeted project and service), one ServiceMonitor per inference service,
and in prod persistent volumes on encrypted gp3.

Order matters and is explicit: the EBS CSI driver add-on (its controller on EKS Pod Identity) and the
StorageClass before the charts whose volumes they provision; kube-prometheus-stack (it installs the
Prometheus Operator's CRDs) before anything of kind PrometheusRule or ServiceMonitor, OpenCost and
the DCGM exporter's ServiceMonitor (``crds_ready``). The builders are pure modules beside this one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as kubernetes

from ai_platform_finops.tags import STANDARD_KEYS
from components.cluster import Cluster
from components.iam_policies import assume_role_policy
from components.config.observability import (KUBE_PROMETHEUS_STACK_REPO, OPENCOST_REPO, PROMETHEUS_ADAPTER_REPO,
                                             ObservabilityConfig, ScaleSignal)
from components.config.node_pools import NodePoolConfig
from components.config.services import InferenceServiceConfig
from components.inference.args import PORT_NAME
from components.metadata import selector_labels

from .alertmanager import alertmanager_config, uses_sns
from .dashboards import DASHBOARD_LABEL_VALUE, configmap_data
from .metrics import server_metrics
from .rules import SCOPE_CLUSTER, RuleSet
from .values import (ADAPTER_RELEASE, DASHBOARD_LABEL, NAMESPACE, KPS_RELEASE, OPENCOST_RELEASE, STORAGE_CLASS, adapter_values, kps_values,
                     opencost_values, storage_class_manifest)

TYPE = "ai-platform:observability:Observability"

EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
"""The AWS managed policy the EBS CSI driver's controller needs (EKS user guide, 'Amazon EBS CSI driver')."""
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
MONITORING_API = "monitoring.coreos.com/v1"
RULE_NAME = "ai-platform-generated"
"""The cluster's PrometheusRule; each pool's, project's and service's is ``ai-platform-<scope>-<name>``."""


def rule_name(rule_set: RuleSet) -> str:
    return RULE_NAME if rule_set.scope == SCOPE_CLUSTER else f"ai-platform-{rule_set.scope}-{rule_set.subject}"


def prometheus_rule_manifest(rule_set: RuleSet, labels: Mapping[str, str]) -> dict[str, Any]:
    """One rule set as a PrometheusRule in ``monitoring``: selected by Prometheus (every rule, see values.py),
    and out of the tenants' namespaces, so a project cannot edit or delete the alerts that watch it."""
    return {"apiVersion": MONITORING_API, "kind": "PrometheusRule",
            "metadata": {"name": rule_name(rule_set), "namespace": NAMESPACE, "labels": dict(labels)},
            "spec": {"groups": [dict(g) for g in rule_set.groups]}}


def service_monitor_manifest(svc: InferenceServiceConfig, labels: Mapping[str, str]) -> dict[str, Any]:
    """Scrape the model server through its Service; Prometheus adds ``namespace`` and ``service`` to every series."""
    return {"apiVersion": MONITORING_API, "kind": "ServiceMonitor",
            "metadata": {"name": svc.name, "namespace": svc.project, "labels": dict(labels)},
            "spec": {"selector": {"matchLabels": selector_labels(svc.name)},
                     "namespaceSelector": {"matchNames": [svc.project]},
                     "endpoints": [{"port": PORT_NAME, "path": svc.metrics.path, "interval": "30s"}]}}


def sns_publish_policy(topic_arn: str, region: str) -> str:
    """Publish to the topic; use its KMS key only through SNS (the key's ARN is unknown until it exists)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "PublishAlerts", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic_arn},
        {"Sid": "EncryptedTopic", "Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}}},
    ]})


@dataclass(frozen=True)
class ObservabilityArgs:
    """Observability's inputs: the observability section, the workloads it watches and the generated rules."""

    config: ObservabilityConfig
    """The stack's ``observability`` section: chart versions, sizes, retention, receivers."""
    cluster: Cluster
    """The cluster: its provider, name and mode (EBS CSI and pod identity on EKS)."""
    stack: str
    """The stack's name: picks its policy pack config, where the evaluation thresholds are."""
    is_prod: bool
    """Prod: persistent volumes by default, kept on delete, and prod-sized values."""
    kubernetes_version: str
    """The control plane's minor version: picks the EBS CSI add-on version."""
    region: str | None
    """The AWS region of the SNS receivers."""
    system_pool: NodePoolConfig
    """Where the monitoring stack runs (its label and taints)."""
    services: Sequence[InferenceServiceConfig]
    """The inference services: one ServiceMonitor each."""
    projects: Sequence[str]
    """The tenant projects' names: Alertmanager routes each project's alerts to its owner."""
    finops_label_prefix: str
    """The FinOps label prefix the metrics carry."""
    tags: Mapping[str, str]
    """FinOps AWS tags for the IAM roles, associations and the add-on."""
    labels: Mapping[str, str]
    """FinOps Kubernetes labels for the namespace and the custom resources."""
    rule_sets: Sequence[RuleSet]
    """The generated rules, one PrometheusRule each (rules.rule_sets): the cluster's, each pool's, project's
    and service's, so no object grows with the number of services."""
    dashboards: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """ConfigMap name -> Grafana dashboard JSON (dashboards.dashboards)."""
    alert_topic_arn: pulumi.Input[str] | None = None
    """The FinOps alert topic (SNS receivers), as an ARN known at preview."""
    namespace_dependencies: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)
    """Project -> what its ServiceMonitors wait for (its namespace being ready). Per project, so each
    monitor depends on its own namespace only and the stack's dependency edges grow linearly."""


class Observability(pulumi.ComponentResource):
    """The monitoring stack (see the module docstring). Outputs:"""

    kube_prometheus_stack: kubernetes.helm.v3.Release
    """The kube-prometheus-stack release (Prometheus, Alertmanager, Grafana, the Operator's CRDs)."""
    opencost: kubernetes.helm.v3.Release
    """The OpenCost release."""
    prometheus_adapter: kubernetes.helm.v3.Release | None
    """The prometheus-adapter release (None when every service scales on CPU)."""
    rules: kubernetes.apiextensions.CustomResource
    """The cluster's generated PrometheusRule (recording rules, cluster health)."""
    subject_rules: dict[str, kubernetes.apiextensions.CustomResource]
    """Object name -> the PrometheusRule of one pool, project or service."""
    storage_class: kubernetes.storage.v1.StorageClass | None
    """The encrypted gp3 StorageClass of the persistent volumes (None when not persistent)."""
    ebs_csi: aws.eks.Addon | None
    """The EBS CSI driver add-on (None when not persistent)."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._args = args
        obs = args.config
        k8s = pulumi.ResourceOptions(parent=self, provider=args.cluster.provider)
        namespace = kubernetes.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": NAMESPACE, "labels": dict(args.labels)}, opts=k8s)

        storage: list[pulumi.Resource] = []
        self.storage_class = None
        self.ebs_csi = None
        if obs.persistent(args.is_prod):
            self.ebs_csi = self._ebs_csi(name)
            self.storage_class = kubernetes.storage.v1.StorageClass(
                f"{name}-{STORAGE_CLASS}", **_spec_kwargs(storage_class_manifest(reclaim_retain=args.is_prod)),
                opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[self.ebs_csi])))
            storage = [self.ebs_csi, self.storage_class]

        topic = args.alert_topic_arn if uses_sns(obs) else None
        association = self._alertmanager_identity(name) if topic is not None else []
        am_config: Any = pulumi.Output.from_input(topic).apply(
            lambda arn: alertmanager_config(obs, is_prod=args.is_prod, projects=list(args.projects),
                                            sns_topic_arn=arn, region=args.region)
        ) if topic is not None else alertmanager_config(obs, is_prod=args.is_prod, projects=list(args.projects))

        self.kube_prometheus_stack = self._release(
            f"{name}-{KPS_RELEASE}", KPS_RELEASE, "kube-prometheus-stack", KUBE_PROMETHEUS_STACK_REPO,
            obs.kube_prometheus_stack.version,
            kps_values(obs, is_prod=args.is_prod, system_pool=args.system_pool, alertmanager_config=am_config,
                       alertmanager_service_account=ALERTMANAGER_SERVICE_ACCOUNT,
                       finops_label_keys=[f"{args.finops_label_prefix}/{key}" for key in STANDARD_KEYS]),
            depends_on=[namespace, *storage, *association])
        crds = pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[self.kube_prometheus_stack]))
        self.opencost = self._release(
            f"{name}-{OPENCOST_RELEASE}", OPENCOST_RELEASE, "opencost", OPENCOST_REPO, obs.opencost.version,
            opencost_values(obs, is_prod=args.is_prod, system_pool=args.system_pool,
                            cluster_name=args.cluster.config_name),
            depends_on=[self.kube_prometheus_stack])
        # prometheus-adapter only when a service scales on something other than cpu.
        scaling = [svc for svc in args.services if svc.autoscaling.signal != ScaleSignal.CPU]
        self.prometheus_adapter = None
        if scaling:
            in_flight = [server_metrics(svc.metrics).in_flight or "" for svc in scaling
                         if svc.autoscaling.signal == ScaleSignal.IN_FLIGHT]
            self.prometheus_adapter = self._release(
                f"{name}-{ADAPTER_RELEASE}", ADAPTER_RELEASE, "prometheus-adapter", PROMETHEUS_ADAPTER_REPO,
                obs.prometheus_adapter.version,
                adapter_values(obs, is_prod=args.is_prod, system_pool=args.system_pool,
                               in_flight_metrics=[m for m in in_flight if m]),
                depends_on=[self.kube_prometheus_stack])
        # Each only waits for the CRDs (which wait for the namespace): the edges grow linearly with the stack.
        manifests = {rule_name(rs): prometheus_rule_manifest(rs, args.labels) for rs in args.rule_sets}
        cluster_rules = manifests.pop(RULE_NAME)
        self.rules = _custom(f"{name}-rules", cluster_rules, crds)
        self.subject_rules = {rule: _custom(f"{name}-rules-{rule.removeprefix('ai-platform-')}", manifest, crds)
                              for rule, manifest in manifests.items()}
        self.service_monitors = {
            svc.name: _custom(f"{name}-{svc.name}", service_monitor_manifest(svc, args.labels),
                              pulumi.ResourceOptions.merge(crds, pulumi.ResourceOptions(depends_on=[
                                  self.kube_prometheus_stack, *args.namespace_dependencies.get(svc.project, ())])))
            for svc in args.services}
        # Dashboards as code: the chart's Grafana sidecar loads every ConfigMap with this label.
        self.dashboards = {
            cm: kubernetes.core.v1.ConfigMap(
                f"{name}-{cm}", metadata={"name": cm, "namespace": NAMESPACE,
                                          "labels": {**args.labels, DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE}},
                data=configmap_data(dict(board)), opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(
                    depends_on=[namespace])))
            for cm, board in args.dashboards.items()}
        self.register_outputs({"namespace": NAMESPACE, "rules": RULE_NAME})

    @property
    def crds_ready(self) -> list[pulumi.Resource]:
        """What a ServiceMonitor or PrometheusRule elsewhere must wait for: the release with the operator's CRDs."""
        return [self.kube_prometheus_stack]

    def _release(self, resource_name: str, release: str, chart: str, repo: str, version: str, values: Any,
                 depends_on: Sequence[pulumi.Resource]) -> kubernetes.helm.v3.Release:
        return kubernetes.helm.v3.Release(
            resource_name, name=release, chart=chart, version=version, repository_opts={"repo": repo},
            namespace=NAMESPACE, values=values, max_history=5, cleanup_on_fail=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.cluster.provider, depends_on=list(depends_on)))

    def _role(self, name: str, description: str) -> aws.iam.Role:
        return aws.iam.Role(name, assume_role_policy=assume_role_policy("pods.eks.amazonaws.com"),
                            description=description, tags=dict(self._args.tags), opts=pulumi.ResourceOptions(parent=self))

    def _ebs_csi(self, name: str) -> aws.eks.Addon:
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        role = self._role(f"{name}-ebs-csi", f"EBS CSI driver controller of {args.cluster.config_name} (EKS Pod Identity)")
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{EBS_CSI_POLICY}", opts=child)
        association = aws.eks.PodIdentityAssociation(
            f"{name}-ebs-csi", cluster_name=args.cluster.name, namespace="kube-system",
            service_account=EBS_CSI_SERVICE_ACCOUNT, role_arn=role.arn, tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]))
        # Like the cluster's own add-ons: pinned to the newest EKS publishes for the control plane's minor unless set.
        version = args.config.persistence.ebs_csi_version or aws.eks.get_addon_version_output(
            addon_name=EBS_CSI_ADDON, kubernetes_version=args.kubernetes_version, most_recent=True,
            opts=pulumi.InvokeOutputOptions(parent=self)).version
        return aws.eks.Addon(
            f"{name}-{EBS_CSI_ADDON}", cluster_name=args.cluster.name, addon_name=EBS_CSI_ADDON,
            addon_version=version, resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self, depends_on=[association]))

    def _alertmanager_identity(self, name: str) -> list[pulumi.Resource]:
        args = self._args
        role = self._role(f"{name}-alertmanager", f"Alertmanager of {args.cluster.config_name}: publish to the alert topic")
        policy = aws.iam.RolePolicy(
            f"{name}-alertmanager", role=role.id,
            policy=pulumi.Output.from_input(args.alert_topic_arn).apply(
                lambda arn: sns_publish_policy(str(arn), args.region or "")),
            opts=pulumi.ResourceOptions(parent=self))
        return [aws.eks.PodIdentityAssociation(
            f"{name}-alertmanager", cluster_name=args.cluster.name, namespace=NAMESPACE,
            service_account=ALERTMANAGER_SERVICE_ACCOUNT, role_arn=role.arn, tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))]


def _spec_kwargs(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest as keyword arguments of a typed Kubernetes resource (snake_case top-level fields)."""
    names = {"apiVersion": "api_version", "reclaimPolicy": "reclaim_policy", "volumeBindingMode": "volume_binding_mode",
             "allowVolumeExpansion": "allow_volume_expansion"}
    return {names.get(k, k): v for k, v in manifest.items()}


def _custom(resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> kubernetes.apiextensions.CustomResource:
    return kubernetes.apiextensions.CustomResource(
        resource_name, api_version=manifest["apiVersion"], kind=manifest["kind"], metadata=manifest["metadata"],
        spec=manifest["spec"], opts=opts)
