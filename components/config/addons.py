"""The cluster add-on charts, each pinned to an exact version."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field


from .base import ConfigModel


class HelmChartConfig(ConfigModel):
    enabled: bool = True
    """Install this add-on."""
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    """The exact chart version (x.y.z)."""


class AutoscalerExpander(StrEnum):
    LEAST_WASTE = "least-waste"
    PRIORITY = "priority"


CLUSTER_AUTOSCALER_IMAGES = {
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
    "1.36": "v1.36.1",
}
"""The Cluster Autoscaler release per Kubernetes minor (kubernetes/autoscaler tags, July 2026).

Its minor must match the control plane's; the chart's default image follows the newest minor.
"""


class ClusterAutoscalerConfig(HelmChartConfig):
    expander: AutoscalerExpander = AutoscalerExpander.LEAST_WASTE
    """How the autoscaler picks a node group to grow: least-waste or priority."""
    image_tag: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+$")] | None = None
    """The cluster-autoscaler image; defaults to the release matching cluster.version."""

    def image_for(self, kubernetes_version: str) -> str | None:
        return self.image_tag or CLUSTER_AUTOSCALER_IMAGES.get(kubernetes_version)


NVIDIA_DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
DCGM_EXPORTER_REPO = "https://nvidia.github.io/dcgm-exporter/helm-charts"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"


class MetricsServerConfig(HelmChartConfig):
    kubelet_insecure_tls: bool | None = None
    """``--kubelet-insecure-tls``: on by default in kubeconfig mode only (kind and minikube kubelets serve
    self-signed certificates); EKS kubelets' certificates are signed by the cluster CA, so it stays off."""

    def insecure_tls(self, kubeconfig_mode: bool) -> bool:
        return self.kubelet_insecure_tls if self.kubelet_insecure_tls is not None else kubeconfig_mode


class AddonsConfig(ConfigModel):
    """Cluster add-on charts, each pinned to an exact version (see docs/design.md 'Cluster and GPU node pools').

    - nvidia-device-plugin 0.19.3 (June 2026): the newest patch of the 0.19 line, which reverted
      0.19.0's default-on gdrcopy/gds/mofed; 0.20.0 is a fresh minor.
    - cluster-autoscaler chart 9.59.0 (July 2026), with the image pinned to the control plane's minor.
    - dcgm-exporter 4.8.2 (May 2026), off by default.
    - metrics-server chart 3.13.1 (app 0.8.1; tagged June 2026, still the newest in August 2026): the
      ``metrics.k8s.io`` API every HPA reads cpu utilisation from. Also on the local (kubeconfig) stack.
    """

    nvidia_device_plugin: HelmChartConfig = HelmChartConfig(version="0.19.3")
    """The NVIDIA device plugin chart (advertises nvidia.com/gpu on GPU nodes)."""
    cluster_autoscaler: ClusterAutoscalerConfig = ClusterAutoscalerConfig(version="9.59.0")
    """The Cluster Autoscaler chart (scales node groups, from zero too)."""
    dcgm_exporter: HelmChartConfig = HelmChartConfig(enabled=False, version="4.8.2")
    """NVIDIA's DCGM exporter chart (GPU utilisation metrics); off by default."""
    metrics_server: MetricsServerConfig = MetricsServerConfig(version="3.13.1")
    """The metrics-server chart (CPU metrics for the HPAs)."""
