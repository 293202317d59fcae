"""Observability: the monitoring stack's charts and sizes, alert thresholds, and who receives alerts.

Per service, the SLO, the metrics preset and the autoscaling signal live on the service
(``services[].slo``, ``services[].metrics``, ``services[].autoscaling``: see services.py).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from .base import ConfigModel, DnsLabel

_DURATION = re.compile(r"^[0-9]+(s|m|h|d|w)$")
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

KUBE_PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
PROMETHEUS_ADAPTER_REPO = KUBE_PROMETHEUS_STACK_REPO
OPENCOST_REPO = "https://opencost.github.io/opencost-helm-chart"


Duration = Annotated[str, Field(pattern=_DURATION.pattern)]


class ChartPin(ConfigModel):
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    """The exact chart version (x.y.z); the values keys used are checked against this version's values.yaml."""


class PersistenceConfig(ConfigModel):
    """Persistent volumes for Prometheus and Alertmanager: encrypted gp3 through the EBS CSI driver add-on."""

    enabled: bool | None = Field(default=None, description="Default: on in prod, off elsewhere (data lives as long as the pod).")
    prometheus_gib: Annotated[int, Field(ge=5, le=16384)] = Field(
        default=50, description="Prometheus' volume, GiB (priced as gp3 by the estimate).")
    alertmanager_gib: Annotated[int, Field(ge=1, le=1024)] = Field(
        default=2, description="Each Alertmanager replica's volume (silences and notification log), GiB.")
    ebs_csi_version: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")] | None = Field(
        default=None, description="The aws-ebs-csi-driver EKS add-on version (vX.Y.Z-eksbuild.N, as `aws eks describe-addon-versions` lists it); default: "
                                  "the version EKS picks for the cluster's Kubernetes version.")


class Size(StrEnum):
    SMALL = "small"
    PROD = "prod"


class ReceiverConfig(ConfigModel):
    """Where one project's alerts go: any of email, the FinOps SNS topic, a webhook."""

    emails: list[Annotated[str, Field(pattern=_EMAIL)]] = Field(
        default=[], max_length=10, description="Email addresses (needs observability.smtp).")
    sns: bool = Field(default=False, description="Publish to the stack's FinOps alert topic (its email and webhook "
                                                 "subscribers), with Alertmanager's own Pod Identity role.")
    webhook_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")] | None = Field(
        default=None, description="An HTTP(S) endpoint receiving Alertmanager's webhook JSON.")

    @property
    def empty(self) -> bool:
        return not self.emails and not self.sns and self.webhook_url is None


class SmtpConfig(ConfigModel):
    """The SMTP relay email receivers use; its password is a Kubernetes Secret, never config."""

    smarthost: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")] = Field(
        description="host:port of the relay, e.g. email-smtp.us-east-1.amazonaws.com:587.")
    sender: Annotated[str, Field(pattern=_EMAIL)] = Field(description="The From address.")
    username: str | None = Field(default=None, description="SMTP user; its password is read from the Secret "
                                                           "'alertmanager-smtp' (key 'password') in the monitoring namespace.")


class IdleGpuConfig(ConfigModel):
    utilization_percent: Annotated[float, Field(ge=0, le=100)] = Field(
        default=5, description="A GPU is idle while its utilisation stays below this percentage...")
    window: Duration = Field(default="2h", description="...for this long (a Prometheus duration).")


DEFAULT_DRIFT_LIMITS = {"high": 0.1, "limited": 0.2, "minimal": 0.3}


class ObservabilityConfig(ConfigModel):
    """Prometheus, Alertmanager, Grafana (kube-prometheus-stack), OpenCost and prometheus-adapter on the system pool.

    Pins (checked against each chart's values.yaml at that tag, see components/observability/chart_keys/):
    kube-prometheus-stack 88.5.3 (2026-08-21), opencost 2.5.17 (2026-04-28), prometheus-adapter 5.3.0 (2026-02-19).
    """

    enabled: bool = Field(default=False, description="Install the monitoring stack and the generated alert rules.")
    kube_prometheus_stack: ChartPin = Field(default=ChartPin(version="88.5.3"),
                                            description="The kube-prometheus-stack chart.")
    opencost: ChartPin = Field(default=ChartPin(version="2.5.17"), description="The OpenCost chart.")
    prometheus_adapter: ChartPin = Field(default=ChartPin(version="5.3.0"),
                                         description="The prometheus-adapter chart (only installed when a service "
                                                     "autoscales on a Prometheus metric).")
    size: Size | None = Field(default=None, description="'small' (one replica, modest requests) or 'prod' (two "
                                                        "Alertmanagers, larger requests); default by environment.")
    retention: Duration = Field(default="15d", description="How long Prometheus keeps samples.")
    persistence: PersistenceConfig = Field(default=PersistenceConfig(), description=PersistenceConfig.__doc__)
    idle_gpu: IdleGpuConfig = Field(default=IdleGpuConfig(), description="When a GPU counts as idle.")
    drift_limits: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default=dict(DEFAULT_DRIFT_LIMITS),
        description="Per risk tier, the model_drift_score above which ModelDriftHigh fires.")
    spend_horizon: Duration = Field(default="7d", description="SpendProjectedOverBudget fires when the project's "
                                                              "cost rate, trended this far ahead, bills more than its budget in a month.")
    receivers: dict[DnsLabel, ReceiverConfig] = Field(
        default={}, description="Per project, who receives its alerts (the owner route).")
    platform_receiver: ReceiverConfig = Field(
        default=ReceiverConfig(), description="Cluster- and pool-level alerts, and projects without a receiver.")
    low_noise_receiver: ReceiverConfig = Field(
        default=ReceiverConfig(), description="Warnings outside prod go here (empty: shown in Alertmanager only).")
    smtp: SmtpConfig | None = Field(default=None, description=SmtpConfig.__doc__)
    repeat_interval: Duration = Field(default="4h", description="Re-notify an unresolved critical alert group this often.")
    warning_repeat_interval: Duration = Field(default="24h", description="Re-notify an unresolved warning group this often.")

    @model_validator(mode="after")
    def _emails_need_smtp(self) -> "ObservabilityConfig":
        every = [self.platform_receiver, self.low_noise_receiver, *self.receivers.values()]
        if self.smtp is None and any(r.emails for r in every):
            raise ValueError("email receivers need observability.smtp (smarthost and sender)")
        return self

    def persistent(self, is_prod: bool) -> bool:
        return self.persistence.enabled if self.persistence.enabled is not None else is_prod

    def effective_size(self, is_prod: bool) -> Size:
        return self.size if self.size is not None else (Size.PROD if is_prod else Size.SMALL)

    def receiver_for(self, project: str) -> ReceiverConfig | None:
        return self.receivers.get(project)


# --- per service ---------------------------------------------------------------------------------

class MetricsPreset(StrEnum):
    VLLM = "vllm"
    TRITON = "triton"
    TGI = "tgi"
    CUSTOM = "custom"


class ServiceMetricsConfig(ConfigModel):
    """The model server's metric names: a preset for vLLM, Triton or TGI, or explicit names (preset 'custom')."""

    preset: MetricsPreset = Field(default=MetricsPreset.VLLM, description="vllm, triton, tgi or custom.")
    requests_total: str | None = Field(default=None, description="Counter of all requests (overrides the preset).")
    errors_total: str | None = Field(default=None, description="Counter of failed requests, as a PromQL selector "
                                                               "(overrides the preset), e.g. http_requests_total{status=\"5xx\"}.")
    latency_bucket: str | None = Field(default=None, description="Histogram _bucket series of request latency in seconds.")
    in_flight: str | None = Field(default=None, description="Gauge of requests in flight (autoscaling: inFlight).")
    path: Annotated[str, Field(pattern=r"^/\S*$")] = Field(default="/metrics", description="The scrape path.")


class LatencySlo(ConfigModel):
    threshold_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        description="Requests must complete within this; it must be one of the histogram's bucket bounds (le).")
    percent: Annotated[float, Field(gt=50, lt=100)] = Field(
        description="The percentile that must: 95 means 95% of requests within thresholdSeconds.")


class SloConfig(ConfigModel):
    """Service level objectives, alerted on by multi-window multi-burn-rate rules (Google SRE workbook, ch. 5)."""

    availability_percent: Annotated[float, Field(gt=50, lt=100)] | None = Field(
        default=None, description="Share of requests that must not fail, e.g. 99.5.")
    latency: LatencySlo | None = Field(default=None, description="A latency objective.")
    window: Duration = Field(default="30d", description="The SLO period the error budget is spent over.")

    @model_validator(mode="after")
    def _something(self) -> "SloConfig":
        if self.availability_percent is None and self.latency is None:
            raise ValueError("an slo needs availabilityPercent and/or latency")
        return self


class ScaleSignal(StrEnum):
    CPU = "cpu"
    GPU_UTILIZATION = "gpuUtilization"
    IN_FLIGHT = "inFlight"


class AutoscalingConfig(ConfigModel):
    """What the HPA scales on: cpu (the default, a proxy for GPU servers), GPU utilisation or requests in flight."""

    signal: ScaleSignal = Field(default=ScaleSignal.CPU, description="cpu, gpuUtilization or inFlight (the last two "
                                                                     "need observability.enabled: prometheus-adapter).")
    target: Annotated[float, Field(gt=0, le=10000)] | None = Field(
        default=None, description="Target per pod: GPU utilisation percent (default 70) or requests in flight (default 8).")

    @property
    def effective_target(self) -> float:
        if self.target is not None:
            return self.target
        return 70.0 if self.signal == ScaleSignal.GPU_UTILIZATION else 8.0


__all__ = ["ObservabilityConfig", "SloConfig", "ServiceMetricsConfig", "AutoscalingConfig", "ScaleSignal",
           "MetricsPreset", "ReceiverConfig"]
