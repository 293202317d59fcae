"""Workloads inside a Helm v3 ``Release``, read from its ``values`` for charts of known shape.

A ``kubernetes:helm.sh/v3:Release`` reaches the pack as one resource: the chart renders its
Deployments and DaemonSets in the cluster, never in the engine. For the charts in ``CHARTS`` the
values keys that become each workload's image, resources, node selector, tolerations and pod
labels/annotations are known, so each workload is rebuilt as a pod template and judged like any
other. Any other chart gets an advisory that its workloads cannot be inspected. (Helm v4 ``Chart``
and ``yaml/v2`` resources are components: their children reach the pack as ordinary resources.)

Values keys were read from each chart's ``values.yaml`` (and, for ollama, ``templates/
deployment.yaml``); the version is in ``Chart.verified``. docs/policies.md has the table.
A subchart's workloads read their values under the subchart's key (its alias), and render only
when the dependency's ``condition`` in the parent's ``Chart.yaml`` holds: Helm takes the first of
its comma-separated paths that is set, and the parent's own ``values.yaml`` default otherwise.
The values are the release's ``valueYamlFiles`` and ``values`` merged as Helm merges them
(``helm_files``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ai_platform_finops.accelerators import GPU_RESOURCE

from ..props import MISSING, UNKNOWN, elements, entries, flag, get, text
from ..resources import Res
from .helm_files import release_values
from .kinds import DAEMON_SET, DEPLOYMENT, STATEFUL_SET
from .metadata import chart_name
from .templates import PodTemplate, Workloads, template_from

CHART_DEFAULT_TAG = "chart-appVersion"
"""Stands for the tag a chart defaults its image to (its appVersion) when the values set none."""


@dataclass(frozen=True)
class ChartWorkload:
    """One workload a chart renders and where its pod's fields come from in the values."""

    key: str
    """Values prefix of the component ('' for a single-workload chart), e.g. ``server``."""
    kind: str
    default_image: str
    """``repository`` the chart defaults to (the tag defaults to the chart's appVersion)."""
    enabled: str | None = None
    """Values path of the component's on/off switch, if any."""
    enabled_default: bool = True
    fallback: str | None = None
    """Values prefix whose image, nodeSelector and tolerations apply when the component sets none."""
    gpus: Callable[[Any], tuple[dict[str, Any], list[dict[str, Any]]] | None] | None = None
    """Chart-specific accelerators: (limits to add, tolerations the chart adds) from the values; None
    when the values that decide them are unknown."""
    readiness: Callable[[Any], Any] | None = None
    """The readiness probe the chart renders from the values (None: the chart renders none)."""
    replicas: str | None = None
    """Values path of the replica count (default 1)."""
    condition: tuple[str, bool] | None = None
    """A subchart's dependency condition (comma-separated values paths, as in ``Chart.yaml``) and
    what the parent's defaults make it when none of the paths is set."""
    image_key: str | None = None
    """Values prefix of ``image`` when not the component's own (a subchart's one image)."""
    resources_key: str | None = None
    """Values prefix of ``resources`` when not the component's own."""


@dataclass(frozen=True)
class Chart:
    name: str
    verified: str
    """Chart version and file the keys were read from."""
    workloads: tuple[ChartWorkload, ...]


def _ollama_gpus(values: Any) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """ollama-helm: ``ollama.gpu.enabled`` adds ``number`` (default 1) of ``amd.com/gpu`` (type amd),
    of each ``nvidia.com/mig-<profile>`` in ``mig.devices`` (mig.enabled), else of
    ``nvidiaResource`` (default nvidia.com/gpu) to the limits, and tolerates that resource's key
    (not for MIG)."""
    gpu = get(values, "ollama", "gpu")
    enabled = get(gpu, "enabled")
    if UNKNOWN in (gpu, enabled):
        return None
    if not flag(enabled):
        return {}, []
    number = get(gpu, "number")
    number = 1 if number is MISSING or number == 0 else number
    kind = get(gpu, "type")
    if kind == "amd":
        return {"amd.com/gpu": number}, []
    if flag(get(gpu, "mig", "enabled")):
        return {f"nvidia.com/mig-{k}": v for k, v in entries(get(gpu, "mig", "devices"))}, []
    resource = text(get(gpu, "nvidiaResource")) or GPU_RESOURCE
    return {resource: number}, [{"key": resource, "operator": "Exists", "effect": "NoSchedule"}]


def _ollama_readiness(values: Any) -> Any:
    """ollama-helm renders an httpGet readiness probe unless ``readinessProbe.enabled`` is false."""
    enabled = get(values, "readinessProbe", "enabled")
    if enabled is UNKNOWN:
        return UNKNOWN
    return MISSING if flag(enabled) is False else {"httpGet": {"path": get(values, "readinessProbe", "path"), "port": "http"}}


def _values_probe(values: Any) -> Any:
    """metrics-server renders ``readinessProbe`` from the values as is."""
    return get(values, "readinessProbe")


_ARGO = "quay.io/argoproj/argocd"
_NFD = "registry.k8s.io/nfd/node-feature-discovery"
_NFD_CONDITION = ("nfd.enabled,gfd.enabled", False)
_REDIS_HA = ("redis-ha.enabled", False)

CHARTS: dict[str, Chart] = {c.name: c for c in (
    Chart("nvidia-device-plugin", "0.19.3, NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin/values.yaml "
          "and Chart.yaml (subchart node-feature-discovery as nfd, condition nfd.enabled,gfd.enabled, gfd.enabled "
          "false by default; its keys from kubernetes-sigs/node-feature-discovery deployment/helm/"
          "node-feature-discovery/values.yaml)",
          (ChartWorkload("", DAEMON_SET, "nvcr.io/nvidia/k8s-device-plugin"),
           *(ChartWorkload(f"nfd.{part}", kind, _NFD, enabled=f"nfd.{part}.enable", condition=_NFD_CONDITION,
                           image_key="nfd") for part, kind in (("master", DEPLOYMENT), ("worker", DAEMON_SET),
                                                               ("gc", DEPLOYMENT))))),
    Chart("dcgm-exporter", "4.8.2, NVIDIA/dcgm-exporter deployment/values.yaml",
          (ChartWorkload("", DAEMON_SET, "nvcr.io/nvidia/k8s/dcgm-exporter"),)),
    Chart("metrics-server", "3.13.1, kubernetes-sigs/metrics-server charts/metrics-server/values.yaml",
          (ChartWorkload("", DEPLOYMENT, "registry.k8s.io/metrics-server/metrics-server", readiness=_values_probe,
                         replicas="replicas"),)),
    Chart("cluster-autoscaler", "9.59.0, kubernetes/autoscaler charts/cluster-autoscaler/values.yaml",
          (ChartWorkload("", DEPLOYMENT, "registry.k8s.io/autoscaling/cluster-autoscaler"),)),
    Chart("argo-cd", "9.7.1, argoproj/argo-helm charts/argo-cd/values.yaml (components fall back to global.*) and "
          "Chart.yaml (subchart redis-ha, condition redis-ha.enabled, off by default; its keys from "
          "DandyDeveloper/charts charts/redis-ha values.yaml and templates: the server's resources under redis.*, "
          "haproxy's placement falling back to the top level)",
          (ChartWorkload("controller", STATEFUL_SET, _ARGO, fallback="global"),
           ChartWorkload("server", DEPLOYMENT, _ARGO, fallback="global"),
           ChartWorkload("repoServer", DEPLOYMENT, _ARGO, fallback="global"),
           ChartWorkload("applicationSet", DEPLOYMENT, _ARGO, fallback="global"),
           ChartWorkload("notifications", DEPLOYMENT, _ARGO, enabled="notifications.enabled", fallback="global"),
           ChartWorkload("dex", DEPLOYMENT, "ghcr.io/dexidp/dex", enabled="dex.enabled", fallback="global"),
           ChartWorkload("redis", DEPLOYMENT, "ecr-public.aws.com/docker/library/redis", enabled="redis.enabled",
                         fallback="global"),
           ChartWorkload("redis-ha", STATEFUL_SET, "ecr-public.aws.com/docker/library/redis", condition=_REDIS_HA,
                         resources_key="redis-ha.redis", replicas="redis-ha.replicas"),
           ChartWorkload("redis-ha.haproxy", DEPLOYMENT, "ecr-public.aws.com/docker/library/haproxy",
                         enabled="redis-ha.haproxy.enabled", condition=_REDIS_HA, fallback="redis-ha",
                         replicas="redis-ha.haproxy.replicas"))),
    Chart("kube-prometheus-stack", "88.5.3, prometheus-community/helm-charts charts/kube-prometheus-stack/values.yaml "
          "(Prometheus and Alertmanager are the operator's StatefulSets, from *.prometheusSpec / *.alertmanagerSpec; "
          "grafana, kube-state-metrics and prometheus-node-exporter are subcharts under their own keys)",
          (ChartWorkload("prometheusOperator", DEPLOYMENT, "quay.io/prometheus-operator/prometheus-operator",
                         enabled="prometheusOperator.enabled"),
           ChartWorkload("prometheus.prometheusSpec", STATEFUL_SET, "quay.io/prometheus/prometheus",
                         enabled="prometheus.enabled"),
           ChartWorkload("alertmanager.alertmanagerSpec", STATEFUL_SET, "quay.io/prometheus/alertmanager",
                         enabled="alertmanager.enabled", replicas="alertmanager.alertmanagerSpec.replicas"),
           ChartWorkload("grafana", DEPLOYMENT, "docker.io/grafana/grafana", enabled="grafana.enabled"),
           ChartWorkload("kube-state-metrics", DEPLOYMENT, "registry.k8s.io/kube-state-metrics/kube-state-metrics",
                         enabled="kubeStateMetrics.enabled"),
           ChartWorkload("prometheus-node-exporter", DAEMON_SET, "quay.io/prometheus/node-exporter",
                         enabled="nodeExporter.enabled"))),
    Chart("opencost", "2.5.17, opencost/opencost-helm-chart charts/opencost/values.yaml (placement under opencost.*)",
          (ChartWorkload("opencost.exporter", DEPLOYMENT, "ghcr.io/opencost/opencost", fallback="opencost"),)),
    Chart("prometheus-adapter", "5.3.0, prometheus-community/helm-charts charts/prometheus-adapter/values.yaml",
          (ChartWorkload("", DEPLOYMENT, "registry.k8s.io/prometheus-adapter/prometheus-adapter",
                         replicas="replicas"),)),
    Chart("ollama", "1.x, otwld/ollama-helm values.yaml and templates/deployment.yaml (ollama.gpu.*)",
          (ChartWorkload("", DEPLOYMENT, "ollama/ollama", gpus=_ollama_gpus, readiness=_ollama_readiness,
                         replicas="replicaCount"),)),
)}
"""Charts whose workloads the pack reads from a release's values: this project's charts and known
GPU-serving charts."""


def _at(values: Any, prefix: str, *path: str) -> Any:
    return get(values, *prefix.split("."), *path) if prefix else get(values, *path)


def _own_or_fallback(values: Any, workload: ChartWorkload, *path: str) -> Any:
    """The component's value, else its fallback's when it sets none (argo-cd's ``global``)."""
    own = _at(values, workload.key, *path)
    if workload.fallback is not None and (own is MISSING or own == {} or own == [] or own == ""):
        return _at(values, workload.fallback, *path)
    return own


def _image(values: Any, workload: ChartWorkload) -> Any:
    if workload.image_key is not None:
        repository, tag = (_at(values, workload.image_key, "image", k) for k in ("repository", "tag"))
    else:
        repository = _own_or_fallback(values, workload, "image", "repository")
        tag = _own_or_fallback(values, workload, "image", "tag")
    if UNKNOWN in (repository, tag):
        return UNKNOWN
    repo = text(repository) or workload.default_image
    tag_text = str(tag) if isinstance(tag, (str, int, float)) and not isinstance(tag, bool) and tag != "" else ""
    if tag_text.startswith("sha256:"):
        return f"{repo}@{tag_text}"
    return f"{repo}:{tag_text or CHART_DEFAULT_TAG}"


def _condition_holds(values: Any, condition: tuple[str, bool] | None) -> bool:
    """Helm's dependency condition: the first of its paths that is set decides; an unknown one
    counts as on (the workload is then judged, failing closed on what is unknown)."""
    if condition is None:
        return True
    paths, default = condition
    for path in paths.split(","):
        value = get(values, *path.strip().split("."))
        if value is UNKNOWN:
            return True
        if value is not MISSING and value is not None:
            return flag(value) is not False
    return default


def _template(res: Res, values: Any, workload: ChartWorkload) -> PodTemplate | None:
    if not _condition_holds(values, workload.condition):
        return None
    if workload.enabled is not None:
        enabled = get(values, *workload.enabled.split("."))
        if enabled is not UNKNOWN and flag(enabled) is False:
            return None
        if enabled is MISSING and not workload.enabled_default:
            return None
    resources = _at(values, workload.resources_key or workload.key, "resources")
    tolerations = _own_or_fallback(values, workload, "tolerations")
    gpus = workload.gpus(values) if workload.gpus is not None else ({}, [])
    if gpus is None:
        resources = UNKNOWN  # the accelerators the chart adds depend on unknown values
    else:
        limits, added = gpus
        if limits:
            plain = {k: v for k, v in entries(resources)} if resources is not UNKNOWN else UNKNOWN
            if plain is not UNKNOWN:
                plain["limits"] = {**{k: v for k, v in entries(get(resources, "limits"))}, **limits}
                resources = plain
        if added and tolerations is not UNKNOWN:
            tolerations = [*elements(tolerations), *added]
    container: dict[str, Any] = {"name": workload.key or chart_name(res), "image": _image(values, workload),
                                 "resources": resources, "env": _at(values, workload.key, "extraEnv")}
    if workload.readiness is not None:
        container["readinessProbe"] = workload.readiness(values)
    spec = {"containers": [container], "nodeSelector": _own_or_fallback(values, workload, "nodeSelector"),
            "tolerations": tolerations, "affinity": _own_or_fallback(values, workload, "affinity")}
    metadata = {"labels": _own_or_fallback(values, workload, "podLabels"),
                "annotations": _own_or_fallback(values, workload, "podAnnotations")}
    where = f"values.{workload.key}" if workload.key else "values"
    replicas = get(values, *workload.replicas.split(".")) if workload.replicas else MISSING
    return template_from(where, {"metadata": metadata, "spec": spec}, kind=workload.kind, values_path=where,
                         replicas=replicas)


def release_workloads(res: Res) -> Workloads:
    """The workloads a Helm v3 release renders, for a chart in ``CHARTS``; otherwise why not."""
    name = chart_name(res)
    chart = CHARTS.get(name)
    if chart is None:
        return Workloads(uninspectable=(
            f"{res.label}: the workloads of chart '{name or '?'}' cannot be inspected (its values shape is not in the "
            f"pack's chart table: {', '.join(sorted(CHARTS))}); GPU, placement, provenance and governance rules do "
            "not see them. Render it with helm.v4.Chart (its children are checked) or add the chart to the table"))
    values, why = release_values(res)
    if values is UNKNOWN:
        note = None if why is None else (
            f"{res.label}: the workloads of chart '{name}' cannot be inspected: {why}; the GPU, placement, "
            "provenance and governance rules cannot verify them. Give the values inline (values, or a StringAsset "
            "in valueYamlFiles)")
        return Workloads([template_from("values", UNKNOWN, kind=chart.workloads[0].kind, values_path="values")],
                         uninspectable=note)
    return Workloads([tpl for w in chart.workloads if (tpl := _template(res, values, w)) is not None])
