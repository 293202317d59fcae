"""Synthetic GPU history with known answers, as OpenMetrics for ``promtool tsdb create-blocks-from
openmetrics`` and as the saved-metrics file the advisor reads offline.

Window: the 14 days before Monday 2026-11-30 00:00 UTC, one point every 5 minutes. Per pool of
``data/Pulumi.advise.yaml``:

- gpu-day: one node; its GPU is 70% busy 09:00-17:00 UTC Monday to Friday, 0 otherwise.
- gpu-big: one p4de.24xlarge node, 8 GPUs at 80%, 30 GiB of frame buffer used each (of 80).
- gpu-busy: one g6e.xlarge node, 90% busy around the clock, 40 GiB of 48 in use.
- gpu-chat: three nodes, one chat-svc replica each; the three GPUs carry 0.5 GPU of load in total.
- gpu-spare: one node, no pod, 0% all window.
- gpu-dark, gpu-pinned: no series.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

END = int(datetime(2026, 11, 30, tzinfo=timezone.utc).timestamp())
DAYS = 14
START = END - DAYS * 86400
STEP = 300
NAMESPACE = "project-nova"
GIB = 1024  # the DCGM frame-buffer fields are MiB


def business(ts: int) -> bool:
    t = datetime.fromtimestamp(ts, tz=timezone.utc)
    return t.weekday() < 5 and 9 <= t.hour < 17


# (pool, node, gpu index, pod or None, util(ts), fb used MiB, fb total MiB)
GPUS: list[tuple[str, str, int, str | None, object, float, float]] = []
GPUS.append(("gpu-day", "ip-10-40-1-10", 0, "day-svc-7c9d8f6b5-abcde", lambda ts: 70.0 if business(ts) else 0.0,
             12 * GIB, 24 * GIB))
for i in range(8):
    GPUS.append(("gpu-big", "ip-10-40-1-20", i, "big-svc-5f6d7c8b9-bcdef", lambda ts: 80.0, 30 * GIB, 80 * GIB))
GPUS.append(("gpu-busy", "ip-10-40-1-30", 0, "busy-svc-6b7c8d9f5-cdefg", lambda ts: 90.0, 40 * GIB, 48 * GIB))
for i, pod in enumerate(["chat-svc-9f8e7d6c5-aaaaa", "chat-svc-9f8e7d6c5-bbbbb", "chat-svc-9f8e7d6c5-ccccc"]):
    # 20 + 15 + 15 = 50: half a GPU busy in total, so the p95 of the sum is 50.
    GPUS.append(("gpu-chat", f"ip-10-40-1-4{i}", 0, pod, (lambda ts, u=20.0 if i == 0 else 15.0: u), 10 * GIB, 24 * GIB))
GPUS.append(("gpu-spare", "ip-10-40-1-50", 0, None, lambda ts: 0.0, 0.5 * GIB, 24 * GIB))


def times() -> range:
    return range(START, END + 1, STEP)


def _labels(**labels: object) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _gpu_labels(node: str, gpu: int, pod: str | None) -> dict[str, object]:
    labels: dict[str, object] = {"gpu": gpu, "UUID": f"GPU-{node}-{gpu}", "device": f"nvidia{gpu}",
                                 "modelName": "NVIDIA", "Hostname": node}
    if pod:
        # As the platform's Prometheus stores them: the scrape target's labels win, the exporter's are renamed.
        labels.update(exported_namespace=NAMESPACE, exported_pod=pod, exported_container="model-server")
    return labels


def openmetrics() -> Iterator[str]:
    """The history as OpenMetrics text, one family at a time, each series in time order."""
    yield "# TYPE kube_node_labels gauge\n"
    nodes = sorted({(pool, node) for pool, node, *_ in GPUS})
    for pool, node in nodes:
        labels = _labels(node=node, label_ai_platform_io_node_pool=pool)
        for ts in times():
            yield f"kube_node_labels{labels} 1 {ts}\n"
    for family, value in (("DCGM_FI_DEV_GPU_UTIL", lambda g, ts: g[4](ts)),
                          ("DCGM_FI_DEV_FB_USED", lambda g, ts: g[5]),
                          ("DCGM_FI_DEV_FB_FREE", lambda g, ts: g[6] - g[5])):
        yield f"# TYPE {family} gauge\n"
        for gpu in GPUS:
            labels = _labels(**_gpu_labels(gpu[1], gpu[2], gpu[3]))
            for ts in times():
                yield f"{family}{labels} {value(gpu, ts):g} {ts}\n"
    yield "# TYPE kube_pod_container_resource_requests gauge\n"
    pods: dict[tuple[str, str], int] = {}
    for _, node, _, pod, *_ in GPUS:
        if pod:
            pods[(pod, node)] = pods.get((pod, node), 0) + 1
    for (pod, node), count in sorted(pods.items()):
        labels = _labels(namespace=NAMESPACE, pod=pod, container="model-server", node=node,
                         resource="nvidia_com_gpu", unit="integer")
        for ts in times():
            yield f"kube_pod_container_resource_requests{labels} {count} {ts}\n"
    yield "# EOF\n"


# --- spend ------------------------------------------------------------------------------------------

TAG_KEY = "finops.apexlogic.com/project"
EC2 = "Amazon Elastic Compute Cloud - Compute"
EKS = "Amazon Elastic Container Service for Kubernetes"
SPIKE_DAY = 20
"""Index (from the first day) of the planted spike: EC2 of project-nova at 4x its usual level."""


def daily_spend(days: int = 28, first: str = "2026-11-02") -> list[dict]:
    """GetCostAndUsage pages (boto3's shape, 10 days a page) for two projects with a weekly pattern
    (weekends at 40%), a slow rise, and one planted spike."""
    from datetime import date, timedelta

    start = date.fromisoformat(first)
    results = []
    for i in range(days):
        day = start + timedelta(days=i)
        weekday = day.weekday() < 5
        nova_ec2 = (300.0 + 2.0 * i) * (1.0 if weekday else 0.4)
        if i == SPIKE_DAY:
            nova_ec2 *= 4
        atlas_ec2 = 120.0 * (1.0 if weekday else 0.5)
        groups = [
            {"Keys": [f"{TAG_KEY}$project-nova", EC2], "Metrics": {"UnblendedCost": {"Amount": f"{nova_ec2:.4f}", "Unit": "USD"}}},
            {"Keys": [f"{TAG_KEY}$project-nova", EKS], "Metrics": {"UnblendedCost": {"Amount": "2.4000", "Unit": "USD"}}},
            {"Keys": [f"{TAG_KEY}$project-atlas", EC2], "Metrics": {"UnblendedCost": {"Amount": f"{atlas_ec2:.4f}", "Unit": "USD"}}},
            {"Keys": [f"{TAG_KEY}$", EKS], "Metrics": {"UnblendedCost": {"Amount": "0.1000", "Unit": "USD"}}},
        ]
        results.append({"TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                        "Total": {}, "Groups": groups, "Estimated": i >= days - 2})
    pages = []
    for p in range(0, days, 10):
        page: dict = {"GroupDefinitions": [{"Type": "TAG", "Key": TAG_KEY}, {"Type": "DIMENSION", "Key": "SERVICE"}],
                      "ResultsByTime": results[p:p + 10], "DimensionValueAttributes": []}
        if p + 10 < days:
            page["NextPageToken"] = f"page-{p // 10 + 1}"
        pages.append(page)
    return pages
