"""Responsible AI, across the stack: a high-risk model runs with its safeguards, and every model's
data stays in a region its classification allows."""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.governance import AUDIT_LOGGING, DATA_CLASSIFICATION, EXPLAINABILITY, OWNER, RISK_TIER

from . import aws, k8s
from .ai_models import CLASSIFICATIONS, CONTACT, HTTPS_URL, stack_models
from .framework import Check, Setting, ENVIRONMENTS_SETTING_SCHEMA, eu_ai_act, stack_rule
from .props import MISSING, UNKNOWN, get, matches_any, short
from .replicas import hpa_index, min_replicas
from .resources import Res, Stack

# --- high-risk-safeguards -------------------------------------------------------------------------

def _high_risk_check(stack: Stack, c: Check) -> None:
    hpas = hpa_index(stack)
    required = int(c.config.num("minReplicas"))
    replica_envs = c.config.strings("replicaEnvironments")
    for model in stack_models(stack, c):
        res = model.res
        tier = model.fact(RISK_TIER)
        if tier != "high":
            continue
        problems = []
        owner = model.fact(OWNER)
        if owner is MISSING or (isinstance(owner, str) and not CONTACT.match(owner.strip())):
            problems.append(f"a human-oversight contact ({model.key(OWNER)})")
        explain = model.fact(EXPLAINABILITY)
        if explain is MISSING or (isinstance(explain, str) and not HTTPS_URL.match(explain)):
            problems.append(f"an explainability reference ({model.key(EXPLAINABILITY)}, https URL)")
        audit = model.fact(AUDIT_LOGGING)
        if audit is not UNKNOWN and (not isinstance(audit, str) or audit.strip().lower() != "true"):
            problems.append(f"request/response audit logging on ({model.key(AUDIT_LOGGING)}: \"true\")")
        if c.settings.environment in replica_envs and model.tpl.kind != k8s.POD and not model.tpl.partial:
            replicas = min_replicas(stack, res, hpas, c, model.tpl)
            if replicas is UNKNOWN:
                c.unknown(f"the replicas of {res.label}", res.urn)
            else:
                count = aws.size(replicas)
                if count is None or count < required:
                    problems.append(f"at least {required} replicas in {c.settings.environment} (has {short(replicas)})")
        if problems:
            c.violation(f"{model.label}: risk tier 'high' requires {'; '.join(problems)}", res.urn)


HIGH_RISK_SAFEGUARDS = stack_rule(
    name="high-risk-safeguards",
    description="A high-risk model has a human-oversight contact, an explainability reference and request/response "
                "audit logging on; in prod it also runs at least 2 replicas.",
    severity=Severity.CRITICAL,
    remediation="For riskTier: high set services[].model.owner (oversight contact), explainabilityUrl and "
                "auditLogging: true, and in prod replicas.min >= 2. The rule is a stack rule because the replica "
                "count lives on the service's HorizontalPodAutoscaler.",
    check=_high_risk_check,
    settings_=(Setting("minReplicas", {"type": "integer", "minimum": 1}, 2, "Replicas a high-risk model needs."),
               Setting("replicaEnvironments", ENVIRONMENTS_SETTING_SCHEMA, ["prod"],
                       "Environments in which a high-risk model needs minReplicas.")),
    framework=eu_ai_act("Article 14 - Human oversight (and Article 12 - Record-keeping)"),
    tags=["responsible-ai"],
)


# --- data-residency -------------------------------------------------------------------------------

def _region_of(res: Res) -> Any:
    if res.provider_props is not None:
        region = get(res.provider_props, "region")
        if region is not MISSING:
            return region
    arn = get(res.props, "arn")
    if isinstance(arn, str) and arn.count(":") >= 4:
        return arn.split(":")[3] or MISSING
    return MISSING


def _stack_region() -> str | None:
    import json
    import os

    try:
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        return None
    region = config.get("aws:region") if isinstance(config, dict) else None
    return region if isinstance(region, str) and region else None


def _residency_check(stack: Stack, c: Check) -> None:
    order = {name: i for i, name in enumerate(CLASSIFICATIONS)}
    highest: str | None = None
    served_by: list[str] = []
    for model in stack_models(stack, c):
        res = model.res
        value = model.fact(DATA_CLASSIFICATION)
        if value is UNKNOWN:
            continue
        classification = value if isinstance(value, str) and value in order else "pii"  # unclassified: strictest
        if highest is None or order[classification] > order[highest]:
            highest, served_by = classification, [res.name]
        elif classification == highest:
            served_by.append(res.name)
    if highest is None:
        c.not_applicable("no inference workload in the stack")
    clusters = stack.of_type(aws.CLUSTER)
    allowed_map = c.config["allowedRegions"] if isinstance(c.config["allowedRegions"], dict) else {}
    allowed = [r for r in allowed_map.get(highest) or [] if isinstance(r, str)]
    targets: list[tuple[Any, str | None, str]] = [(_region_of(r), r.urn, r.label) for r in clusters]
    if not targets:
        region = _stack_region()
        if region is None:
            c.not_applicable("no EKS cluster and no aws:region: the cluster's region is not an AWS region")
        targets = [(region, None, "the stack (aws:region)")]
    for region, urn, label in targets:
        if region is MISSING:
            region = _stack_region() or MISSING
        if region is UNKNOWN or region is MISSING:
            c.unknown(f"the region of {label}", urn)
            continue
        if not matches_any(str(region), allowed):
            c.violation(f"{label} runs in {region}, which is not allowed for '{highest}' data (served by "
                        f"{', '.join(served_by[:3])}); allowed: {', '.join(allowed) or 'none'}", urn)


DATA_RESIDENCY = stack_rule(
    name="data-residency",
    description="The cluster's region is allowed for the highest data classification its inference workloads serve.",
    severity=Severity.CRITICAL,
    remediation="Deploy the stack to an allowed region (aws:region), move the workload to a stack in one, or lower "
                "the data classification if it was overstated; allowed regions per classification are set by the "
                "data-protection officer in this rule's allowedRegions.",
    check=_residency_check,
    settings_=(Setting("allowedRegions", {"type": "object"},
                       {"public": ["*"], "internal": ["*"], "confidential": ["us-*", "eu-*"], "pii": ["us-east-1", "us-east-2"]},
                       "Per data classification, the allowed regions (shell patterns)."),),
    tags=["responsible-ai", "data-protection"],
)


POLICIES = [HIGH_RISK_SAFEGUARDS, DATA_RESIDENCY]

__all__ = ["POLICIES"]
