"""Every Prometheus metric and label name the platform's rules, dashboards and autoscaling read: one place.

Three sources:

- **Exporters the platform installs**: NVIDIA's DCGM exporter (GPU utilisation per GPU, with the
  pod that holds it), kube-state-metrics (pods, nodes, DaemonSets), OpenCost (cost rates per
  container and node), the Cluster Autoscaler's own ``/metrics``.
- **The model servers**: presets for vLLM, Triton and TGI (``services[].metrics.preset``), or
  explicit names.
- **The metric contract** (docs/observability.md): what an online evaluator or the model server
  publishes about model quality, scraped through the service's ServiceMonitor, so Prometheus
  adds ``namespace`` (the project) and ``service`` (the service's name) to every series:

  - ``model_evaluation_metric{metric="<name>"}``: a gauge, the latest online value of an
    evaluation metric named as in ``ethics.evaluation.metrics`` and the evaluation-gate thresholds
    (``accuracy``, ``demographic-parity-difference``...);
  - ``model_drift_score``: a gauge, the current drift score (e.g. PSI or a KS statistic, 0 = none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --- the metric contract ---------------------------------------------------------------------------
EVALUATION_METRIC = "model_evaluation_metric"
EVALUATION_METRIC_LABEL = "metric"
DRIFT_SCORE = "model_drift_score"

# --- labels Prometheus attaches to a ServiceMonitor's targets ---------------------------------------
NAMESPACE = "namespace"
SERVICE = "service"

# --- DCGM exporter ---------------------------------------------------------------------------------
GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
"""GPU utilisation, 0-100, one series per GPU."""
GPU_NODE = "Hostname"
"""The node a DCGM series comes from (the exporter sets it from the node name)."""
GPU_POD_NAMESPACE = "exported_namespace"
GPU_POD = "exported_pod"
"""The pod holding the GPU. The exporter writes ``namespace``/``pod``; scraped through its ServiceMonitor
(honorLabels off, the chart's default) Prometheus keeps the target's own and renames these with ``exported_``."""

# --- kube-state-metrics ----------------------------------------------------------------------------
KSM_NODE_LABELS = "kube_node_labels"
POOL_NODE_LABEL = "label_ai_platform_io_node_pool"
"""``ai-platform.io/node-pool`` as kube-state-metrics exposes it (allow-listed in its values)."""
KSM_POD_PHASE = "kube_pod_status_phase"
KSM_DAEMONSET_UNAVAILABLE = "kube_daemonset_status_number_unavailable"

# --- Cluster Autoscaler ----------------------------------------------------------------------------
AUTOSCALER_ERRORS = "cluster_autoscaler_errors_total"
AUTOSCALER_SAFE = "cluster_autoscaler_cluster_safe_to_autoscale"

# --- OpenCost (cost rates in USD per hour) ---------------------------------------------------------
OPENCOST_CPU_ALLOC = "container_cpu_allocation"
OPENCOST_MEM_ALLOC = "container_memory_allocation_bytes"
OPENCOST_GPU_ALLOC = "container_gpu_allocation"
OPENCOST_CPU_HOURLY = "node_cpu_hourly_cost"
OPENCOST_RAM_HOURLY = "node_ram_hourly_cost"
OPENCOST_GPU_HOURLY = "node_gpu_hourly_cost"

# --- recording rules the generated rules define (and dashboards read) ------------------------------
RECORD_PROJECT_COST = "project:opencost_cost_usd_per_hour:sum"
RECORD_GPU_UTIL_POOL = "node_pool:gpu_utilization:avg"
RECORD_ERROR_RATIO = "service:slo_errors:ratio_rate{window}"
# Constants of the stack config as series, so one dashboard panel serves every service, pool or project
# and still draws each one's own line (a panel per subject would grow the dashboard with the stack).
RECORD_SLO_BUDGET = "service:slo_error_budget:ratio"
RECORD_EVALUATION_THRESHOLD = "service:evaluation_threshold:value"
RECORD_DRIFT_LIMIT = "service:drift_limit:value"
RECORD_POOL_GPU_PRICE = "node_pool:gpu_price_usd_per_month:value"
RECORD_PROJECT_BUDGET = "project:budget_usd_per_month:value"


@dataclass(frozen=True)
class ServerMetrics:
    """A model server's metric names: counters of requests and failures, a latency histogram, in-flight requests."""

    requests_total: str
    errors_total: str
    latency_bucket: str | None
    in_flight: str | None


PRESETS: dict[str, ServerMetrics] = {
    # vLLM's OpenAI server: HTTP counters from prometheus-fastapi-instrumentator (status grouped as 2xx/5xx),
    # and its own vllm:* metrics (docs.vllm.ai "Production Metrics").
    "vllm": ServerMetrics('http_requests_total', 'http_requests_total{status="5xx"}',
                          "vllm:e2e_request_latency_seconds_bucket", "vllm:num_requests_running"),
    # Triton: per-model success/failure counters; latency is a cumulative-microseconds counter, no histogram.
    "triton": ServerMetrics("nv_inference_request_success + nv_inference_request_failure",
                            "nv_inference_request_failure", None, "nv_inference_pending_request_count"),
    # Text Generation Inference's router metrics.
    "tgi": ServerMetrics("tgi_request_count", "tgi_request_failure", "tgi_request_duration_bucket", "tgi_queue_size"),
}


def server_metrics(metrics: Any) -> ServerMetrics:
    """The preset's names with any explicit name (``services[].metrics``) taking precedence."""
    base = PRESETS.get(str(getattr(metrics.preset, "value", metrics.preset)), ServerMetrics("", "", None, None))
    return ServerMetrics(
        requests_total=metrics.requests_total or base.requests_total,
        errors_total=metrics.errors_total or base.errors_total,
        latency_bucket=metrics.latency_bucket or base.latency_bucket,
        in_flight=metrics.in_flight or base.in_flight,
    )


def missing_metric(service: Any) -> str | None:
    """What the service's SLO or autoscaling needs that its metrics config does not name, if anything."""
    names = server_metrics(service.metrics)
    slo = service.slo
    needs = []
    if slo is not None and slo.availability_percent is not None and not (names.requests_total and names.errors_total):
        needs.append("requestsTotal and errorsTotal (slo.availabilityPercent)")
    if slo is not None and slo.latency is not None and not names.latency_bucket:
        needs.append("latencyBucket (slo.latency)")
    if str(getattr(service.autoscaling.signal, "value", "")) == "inFlight" and not names.in_flight:
        needs.append("inFlight (autoscaling.signal inFlight)")
    if not needs:
        return None
    return f"preset {service.metrics.preset.value!r} names no {', '.join(needs)}; set them explicitly"


def selector(metric: str, labels: dict[str, str]) -> str:
    """``metric`` restricted to ``labels``; a metric that already has a selector keeps it; a sum of two stays a sum."""
    if " + " in metric:
        return " + ".join(selector(part, labels) for part in metric.split(" + "))
    matchers = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    if metric.endswith("}"):
        return f"{metric[:-1]}, {matchers}}}"
    return f"{metric}{{{matchers}}}"


# --- custom metrics for the HPA (prometheus-adapter) -------------------------------------------------
GPU_UTILIZATION_METRIC = "gpu_utilization"
"""The per-pod custom metric prometheus-adapter serves from the DCGM exporter's utilisation."""


def custom_metric_name(series: str) -> str:
    """A custom-metrics API name for a Prometheus metric: ``vllm:num_requests_running`` -> ``vllm_num_requests_running``."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in series.split("{", 1)[0])


def autoscaling_metric(service: Any) -> str | None:
    """The custom metric a service's HPA scales on; None for cpu (a Resource metric from metrics-server)."""
    signal = str(getattr(service.autoscaling.signal, "value", service.autoscaling.signal))
    if signal == "gpuUtilization":
        return GPU_UTILIZATION_METRIC
    if signal == "inFlight":
        in_flight = server_metrics(service.metrics).in_flight
        return custom_metric_name(in_flight) if in_flight else None
    return None
