"""Chart values of kube-prometheus-stack and OpenCost, sized per environment: pure, no Pulumi.

Every key is checked by tests against the chart's own values.yaml at the pinned version (the
recorded key snapshots in ``chart_keys/``, each with its source and date).
"""

from __future__ import annotations

from typing import Any, Sequence

from components.cluster_addons import tolerations
from components.config.node_pools import POOL_LABEL, NodePoolConfig
from components.config.observability import ObservabilityConfig, Size

from .alertmanager import SMTP_SECRET
from .metrics import GPU_POD, GPU_POD_NAMESPACE, GPU_UTIL, GPU_UTILIZATION_METRIC, custom_metric_name

NAMESPACE = "monitoring"
KPS_RELEASE = "kube-prometheus-stack"
KPS_FULLNAME = "kps"
"""``fullnameOverride``: objects are named ``kps-<component>``; Prometheus' Service is ``kps-prometheus``."""
PROMETHEUS_SERVICE = f"{KPS_FULLNAME}-prometheus"
PROMETHEUS_PORT = 9090
OPENCOST_RELEASE = "opencost"
STORAGE_CLASS = "gp3-encrypted"
DASHBOARD_LABEL = "grafana_dashboard"
"""The label the Grafana sidecar watches for dashboard ConfigMaps (the chart's default ``sidecar.dashboards.label``)."""

Resources = dict[str, dict[str, str]]


def _res(cpu: str, memory: str, cpu_limit: str | None, memory_limit: str) -> Resources:
    limits = {"memory": memory_limit}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}


SIZES: dict[Size, dict[str, Any]] = {
    Size.SMALL: {"prometheus": _res("200m", "1Gi", None, "2Gi"), "alertmanager": _res("20m", "64Mi", None, "128Mi"),
                 "operator": _res("50m", "128Mi", None, "256Mi"), "alertmanager_replicas": 1,
                 "opencost": _res("50m", "128Mi", None, "512Mi")},
    Size.PROD: {"prometheus": _res("1", "4Gi", None, "8Gi"), "alertmanager": _res("50m", "128Mi", None, "256Mi"),
                "operator": _res("100m", "256Mi", None, "512Mi"), "alertmanager_replicas": 2,
                "opencost": _res("100m", "512Mi", None, "1Gi")},
}
"""Requests and memory limits (no cpu limits: throttling Prometheus delays every rule)."""


def _on_system_pool(system_pool: NodePoolConfig) -> dict[str, Any]:
    placement: dict[str, Any] = {"nodeSelector": {POOL_LABEL: system_pool.name}}
    if system_pool.effective_taints:
        placement["tolerations"] = tolerations(system_pool.effective_taints)
    return placement


def _claim(gib: int) -> dict[str, Any]:
    return {"volumeClaimTemplate": {"spec": {"storageClassName": STORAGE_CLASS, "accessModes": ["ReadWriteOnce"],
                                             "resources": {"requests": {"storage": f"{gib}Gi"}}}}}


def kps_values(obs: ObservabilityConfig, *, is_prod: bool, system_pool: NodePoolConfig,
               alertmanager_config: Any, alertmanager_service_account: str,
               finops_label_keys: Sequence[str] = ()) -> dict[str, Any]:
    size = SIZES[obs.effective_size(is_prod)]
    place = _on_system_pool(system_pool)
    prometheus_spec: dict[str, Any] = {
        **place,
        "retention": obs.retention,
        "resources": size["prometheus"],
        # Select every ServiceMonitor and PrometheusRule, not only the release's own: the DCGM exporter's,
        # the services' and the generated rules live outside this release.
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    alertmanager_spec: dict[str, Any] = {**place, "replicas": size["alertmanager_replicas"],
                                         "resources": size["alertmanager"]}
    if obs.smtp is not None and obs.smtp.username:
        alertmanager_spec["secrets"] = [SMTP_SECRET]
    if obs.persistent(is_prod):
        prometheus_spec["storageSpec"] = _claim(obs.persistence.prometheus_gib)
        alertmanager_spec["storage"] = _claim(obs.persistence.alertmanager_gib)
    return {
        "fullnameOverride": KPS_FULLNAME,
        "prometheus": {"prometheusSpec": prometheus_spec},
        "alertmanager": {
            "config": alertmanager_config,
            "serviceAccount": {"create": True, "name": alertmanager_service_account},
            "alertmanagerSpec": alertmanager_spec,
        },
        "prometheusOperator": {**place, "resources": size["operator"]},
        "grafana": {
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "searchNamespace": "ALL"}},
            **place,
        },
        "kube-state-metrics": {
            # The node-pool label becomes label_ai_platform_io_node_pool on kube_node_labels (per-pool GPU rules);
            # the FinOps labels of pods and namespaces become kube_pod_labels/kube_namespace_labels, which OpenCost
            # allocates cost by (aggregate=label:<prefix>/project).
            "metricLabelsAllowlist": [f"nodes=[{POOL_LABEL}]",
                                      *([f"pods=[{','.join(finops_label_keys)}]",
                                         f"namespaces=[{','.join(finops_label_keys)}]"] if finops_label_keys else [])],
            **place,
        },
    }


def opencost_values(obs: ObservabilityConfig, *, is_prod: bool, system_pool: NodePoolConfig,
                    cluster_name: str) -> dict[str, Any]:
    size = SIZES[obs.effective_size(is_prod)]
    place = _on_system_pool(system_pool)
    return {
        "opencost": {
            "exporter": {"defaultClusterId": cluster_name, "resources": size["opencost"]},
            "prometheus": {"internal": {"enabled": True, "serviceName": PROMETHEUS_SERVICE,
                                        "namespaceName": NAMESPACE, "port": PROMETHEUS_PORT}},
            # OpenCost's metrics feed the spend rules and dashboards through Prometheus.
            "metrics": {"serviceMonitor": {"enabled": True}},
            "ui": {"enabled": False},
            **place,
        },
    }


def storage_class_manifest(reclaim_retain: bool) -> dict[str, Any]:
    """Encrypted gp3 through the EBS CSI driver; a volume is created in the AZ of the pod that first uses it."""
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS},
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        "reclaimPolicy": "Retain" if reclaim_retain else "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


ADAPTER_RELEASE = "prometheus-adapter"


def adapter_rules(in_flight_metrics: list[str]) -> dict[str, Any]:
    """prometheus-adapter's custom rules: GPU utilisation per pod (DCGM, mapped from the GPU's pod), and each
    in-flight gauge the services scale on (the series carry the scraped pod as ``pod``)."""
    rules: list[dict[str, Any]] = [{
        "seriesQuery": f'{GPU_UTIL}{{{GPU_POD_NAMESPACE}!="",{GPU_POD}!=""}}',
        "resources": {"overrides": {GPU_POD_NAMESPACE: {"resource": "namespace"}, GPU_POD: {"resource": "pod"}}},
        "name": {"matches": f"^{GPU_UTIL}$", "as": GPU_UTILIZATION_METRIC},
        "metricsQuery": "avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
    }]
    for series in sorted(set(in_flight_metrics)):
        name = series.split("{", 1)[0]
        rules.append({
            "seriesQuery": f'{{__name__="{name}",namespace!="",pod!=""}}',
            "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
            "name": {"matches": f"^{name}$", "as": custom_metric_name(name)},
            "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        })
    return {"default": False, "custom": rules}


def adapter_values(obs: ObservabilityConfig, *, is_prod: bool, system_pool: NodePoolConfig,
                   in_flight_metrics: list[str]) -> dict[str, Any]:
    place = _on_system_pool(system_pool)
    return {
        "prometheus": {"url": f"http://{PROMETHEUS_SERVICE}.{NAMESPACE}.svc", "port": PROMETHEUS_PORT},
        "replicas": 2 if obs.effective_size(is_prod) == Size.PROD else 1,
        "rules": adapter_rules(in_flight_metrics),
        **place,
    }
