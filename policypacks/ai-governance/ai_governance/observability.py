"""observability-coverage: in prod every inference service is watched, and someone hears about it.

Three things per inference Deployment, read from what the stack registers: an Alertmanager route
for its project (namespace) to a receiver that notifies somebody, in the ``kube-prometheus-stack``
release's ``alertmanager.config``; SLO burn-rate alerts labelled with its project and service; and
model-quality alerts (evaluation thresholds or drift) labelled the same, in a PrometheusRule.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.observability import (
    MONITORING_CHART,
    PROJECT_LABEL,
    PROMETHEUS_RULE,
    QUALITY_ALERTS,
    SERVICE_LABEL,
    SLO_ALERTS,
)

from . import k8s
from .framework import Check, environments_setting, stack_rule
from .props import UNKNOWN, elements, entries, get, text
from .resources import Res, Stack

_PROJECT_MATCHER = re.compile(rf'^\s*{PROJECT_LABEL}\s*=\s*"?([^"]*)"?\s*$')

Routes = dict[str, bool]
"""project -> whether its route's receiver notifies anyone."""


def _notifies(receiver: Any) -> bool:
    return any(key.endswith("_configs") and elements(value) for key, value in entries(receiver))


def owner_routes(config: Any) -> Routes | Any:
    """The projects Alertmanager routes somewhere, from an ``alertmanager.yml`` mapping; UNKNOWN when unknown."""
    if config is UNKNOWN or get(config, "route") is UNKNOWN or get(config, "receivers") is UNKNOWN:
        return UNKNOWN
    receivers = {text(get(r, "name")): r for r in elements(get(config, "receivers"))}
    routes: Routes = {}
    for route in elements(get(config, "route", "routes")):
        projects = [m.group(1) for matcher in elements(get(route, "matchers")) if isinstance(matcher, str)
                    for m in [_PROJECT_MATCHER.match(matcher)] if m]
        legacy = text(get(route, "match", PROJECT_LABEL))
        if legacy:
            projects.append(legacy)
        notifies = _notifies(receivers.get(text(get(route, "receiver")), {}))
        for project in projects:
            routes[project] = routes.get(project, False) or notifies
    return routes


def alerts_by_service(stack: Stack) -> tuple[dict[tuple[str, str], set[str]], list[Res]]:
    """(project, service) -> alert names in the stack's PrometheusRules, and the rules not known at preview."""
    found: dict[tuple[str, str], set[str]] = {}
    unknown: list[Res] = []
    for res in stack.of_type(PROMETHEUS_RULE):
        groups = get(res.props, "spec", "groups")
        if groups is UNKNOWN:
            unknown.append(res)
            continue
        for group in elements(groups):
            for rule in elements(get(group, "rules")):
                name, labels = text(get(rule, "alert")), get(rule, "labels")
                project, service = text(get(labels, PROJECT_LABEL)), text(get(labels, SERVICE_LABEL))
                if name and project and service:
                    found.setdefault((project, service), set()).add(name)
    return found, unknown


def _coverage_check(stack: Stack, c: Check) -> None:
    c.applies_in(c.config.strings("environments"))
    releases = [r for r in stack.of_type(k8s.HELM_RELEASE) if k8s.chart_name(r) == MONITORING_CHART]
    routes: Routes | Any = {}
    for release in releases:
        found = owner_routes(get(release.props, "values", "alertmanager", "config"))
        if found is UNKNOWN:
            c.unknown(f"alertmanager.config of {release.label}", release.urn)
            routes = UNKNOWN
        elif routes is not UNKNOWN:
            routes.update(found)
    alerts, unknown_rules = alerts_by_service(stack)
    for res in unknown_rules:
        c.unknown(f"spec.groups of {res.label}", res.urn)
    for workload in stack.of_type(k8s.DEPLOYMENT):
        tpl = k8s.pod_template(workload)
        if tpl is None or not k8s.is_inference(workload, tpl, c.settings):
            continue
        project, service = k8s.namespace_of(workload), k8s.name_of(workload)
        if not isinstance(project, str) or not isinstance(service, str):
            c.unknown(f"the namespace and name of {workload.label}", workload.urn)
            continue
        missing = []
        if not releases:
            missing.append(f"an owner route (no {MONITORING_CHART} release routes alerts; set observability.enabled)")
        elif routes is not UNKNOWN and not routes.get(project):
            missing.append(f"an owner route for project '{project}' to a receiver that notifies someone "
                           f"(observability.receivers.{project})")
        names = alerts.get((project, service), set())
        if not unknown_rules:
            if not names & SLO_ALERTS:
                missing.append("SLO burn-rate alerts (services[].slo)")
            if not names & QUALITY_ALERTS:
                missing.append("model quality alerts (evaluation-gate thresholds for its risk tier, or "
                               "observability.driftLimits)")
        if missing:
            c.violation(f"{workload.label}: in {c.settings.environment} an inference service needs "
                        f"{'; '.join(missing)}", workload.urn)


OBSERVABILITY_COVERAGE = stack_rule(
    name="observability-coverage",
    description="In prod, every inference service has an owner route in Alertmanager, SLO burn-rate alerts and "
                "model quality alerts.",
    severity=Severity.HIGH,
    remediation="Set observability.enabled, an observability.receivers entry for the service's project, and "
                "services[].slo; quality alerts come from the evaluation-gate thresholds of its risk tier "
                "(docs/observability.md).",
    check=_coverage_check,
    settings_=(environments_setting(["prod"], "production services must be watched"),),
    tags=["observability", "reliability"],
)

POLICIES = [OBSERVABILITY_COVERAGE]
