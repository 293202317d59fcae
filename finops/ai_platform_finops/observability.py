"""The observability contract the program generates and the ``observability-coverage`` policy checks.

One definition of the alert names, the labels that tie an alert to its service and the chart that
carries Alertmanager's routing, imported by ``components/observability`` and the ai-governance pack.
"""

from __future__ import annotations

MONITORING_CHART = "kube-prometheus-stack"
"""The Helm chart whose ``alertmanager.config`` holds the routing."""
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"

PROJECT_LABEL = "project"
SERVICE_LABEL = "service"

SLO_FAST = "SloErrorBudgetBurnFast"
SLO_SLOW = "SloErrorBudgetBurnSlow"
SLO_ALERTS = frozenset({SLO_FAST, SLO_SLOW})
QUALITY_MIN = "ModelQualityBelowMinimum"
QUALITY_MAX = "ModelQualityAboveMaximum"
DRIFT = "ModelDriftHigh"
QUALITY_ALERTS = frozenset({QUALITY_MIN, QUALITY_MAX, DRIFT})
