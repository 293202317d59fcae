"""The metrics the advisor reads and the PromQL it sends: the one place their names live.

Sources (checked against their docs, Dec 2026):
- NVIDIA dcgm-exporter: ``DCGM_FI_DEV_GPU_UTIL`` (percent, 0-100), ``DCGM_FI_DEV_FB_USED`` and
  ``DCGM_FI_DEV_FB_FREE`` (MiB), one series per GPU with ``gpu``, ``UUID``, ``modelName`` and
  ``Hostname`` (the node), plus the pod holding the GPU when its Kubernetes pod mapping is on (the
  chart's default). Scraped through its ServiceMonitor with honorLabels off (the chart's default, and
  the platform's own Prometheus), that pod arrives as ``exported_namespace``/``exported_pod``.
- kube-state-metrics: ``kube_node_labels`` (one series per node, node labels as ``label_<name>``,
  only those on its ``--metric-labels-allowlist``, which the platform sets to
  ``nodes=[ai-platform.io/node-pool]``) and ``kube_pod_container_resource_requests{resource="nvidia_com_gpu"}``
  (its ServiceMonitor honours labels, so ``namespace``/``pod`` are the pod's).

The names the platform's own rules also use come from ``components.observability.metrics``, so the
advisor reads what the platform's Prometheus actually stores.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.observability.metrics import GPU_NODE as DCGM_NODE_LABEL
from components.observability.metrics import GPU_POD, GPU_POD_NAMESPACE, GPU_UTIL, POOL_NODE_LABEL
from components.observability.metrics import KSM_NODE_LABELS as NODE_LABELS

FB_USED = "DCGM_FI_DEV_FB_USED"
FB_FREE = "DCGM_FI_DEV_FB_FREE"
REQUESTS = "kube_pod_container_resource_requests"
GPU_REQUEST_RESOURCE = "nvidia_com_gpu"
KSM_NODE_LABEL = "node"
STEP_SECONDS = 300
"""Sample spacing of every query_range: 5 minutes, 4,032 points for 14 days (the API caps 11,000)."""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pool_nodes(pool: str) -> str:
    return (f'label_replace({NODE_LABELS}{{{POOL_NODE_LABEL}={_quote(pool)}}}, '
            f'"{DCGM_NODE_LABEL}", "$1", "{KSM_NODE_LABEL}", "(.+)")')


def _on_pool(expr: str, pool: str) -> str:
    """``expr`` (per GPU) kept for the GPUs on nodes of ``pool``."""
    return f"({expr}) * on ({DCGM_NODE_LABEL}) group_left () {_pool_nodes(pool)}"


def _service_pods(service: str) -> str:
    # Deployment pods are <deployment>-<pod-template-hash>-<5 chars>.
    return _quote(f"{service}-[a-z0-9]+-[a-z0-9]+")


@dataclass(frozen=True)
class Query:
    key: str
    """What it measures, e.g. ``pool_util``."""
    target: str
    """``pool:<name>`` or ``service:<project>/<name>``."""
    promql: str
    unit: str
    meaning: str


def pool_queries(pool: str) -> list[Query]:
    target = f"pool:{pool}"
    return [
        Query("pool_util", target, f"avg({_on_pool(GPU_UTIL, pool)})", "%",
              "mean GPU utilisation over the pool's GPUs (no series: no node running)"),
        Query("pool_fb_used", target, f"max({_on_pool(FB_USED, pool)})", "MiB",
              "frame-buffer memory in use on the pool's fullest GPU"),
        Query("pool_fb_total", target, f"max({_on_pool(f'{FB_USED} + {FB_FREE}', pool)})", "MiB",
              "frame-buffer memory of one of the pool's GPUs (used + free)"),
        Query("pool_nodes", target, f"count({NODE_LABELS}{{{POOL_NODE_LABEL}={_quote(pool)}}})", "nodes",
              "nodes of the pool running"),
    ]


def service_queries(project: str, service: str) -> list[Query]:
    target = f"service:{project}/{service}"
    pods = f"namespace={_quote(project)}, pod=~{_service_pods(service)}"
    gpu_pods = f"{GPU_POD_NAMESPACE}={_quote(project)}, {GPU_POD}=~{_service_pods(service)}"
    return [
        Query("service_util_sum", target, f"sum({GPU_UTIL}{{{gpu_pods}}})", "% x GPUs",
              "GPU utilisation summed over the service's GPUs (100 = one GPU fully busy)"),
        Query("service_gpus", target,
              f'sum({REQUESTS}{{{pods}, resource="{GPU_REQUEST_RESOURCE}"}})', "GPUs",
              "GPUs the service's pods request"),
    ]
