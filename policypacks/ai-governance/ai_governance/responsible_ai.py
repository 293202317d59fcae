"""Responsible AI, per model: every deployed model has an approved ethics policy, a traceable image,
a model card, and a passing and recent evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.governance import (
    DATA_CLASSIFICATION,
    DEFAULT_EVALUATION_THRESHOLDS,
    ENV_ETHICS_POLICY_ID,
    ENV_MODEL_VERSION,
    ETHICS_POLICY_ID,
    ETHICS_POLICY_ID_EXAMPLE,
    EVAL_DATE,
    EVAL_METRIC_PREFIX,
    INTENDED_USE,
    MODEL_CARD,
    MODEL_VERSION,
    OWNER,
    RISK_TIER,
)
from ai_platform_finops.values import number

from . import k8s
from .ai_models import (
    CLASSIFICATIONS,
    CONTACT,
    HTTPS_URL,
    INFERENCE_TYPES,
    RISK_TIERS,
    Model,
    inference_models,
    parse_image,
)
from .framework import Check, Setting, eu_ai_act, resource_rule
from .pack_settings import pack_config_file
from .props import MISSING, UNKNOWN, get, matches_any, short
from .resources import Res

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

# --- ethics-policy-approved -----------------------------------------------------------------------

def _ethics_check(res: Res, c: Check) -> None:
    for model in inference_models(res, c):
        _ethics_model(model, c)


def _ethics_model(model: Model, c: Check) -> None:
    res = model
    key = model.key(ETHICS_POLICY_ID)
    policy_id = model.fact(ETHICS_POLICY_ID)
    if policy_id is UNKNOWN:
        return
    if policy_id is MISSING or not str(policy_id).strip():
        c.violation(f"{res.label}: no ethics policy id (annotation {key}); every inference workload names an "
                    f"approved ethics policy: set services[].ethics.policyId to an id of the form "
                    f"policy-<year>-<3 digits> (e.g. {ETHICS_POLICY_ID_EXAMPLE}) from this rule's registry")
        return
    registry = c.config["registry"] if isinstance(c.config["registry"], dict) else {}
    if policy_id not in registry:
        known = ", ".join(sorted(str(k) for k in registry)) or "none"
        c.violation(f"{res.label}: ethics policy '{policy_id}' is not in the approved registry (known: {known})")
    else:
        valid_until = registry[policy_id]
        try:
            until = dt.date.fromisoformat(str(valid_until))
        except ValueError:
            c.violation(f"{res.label}: the registry's valid-until date for '{policy_id}' ({short(valid_until)}) is "
                        "not a date (YYYY-MM-DD)")
            return
        if until < c.settings.as_of:
            c.violation(f"{res.label}: ethics policy '{policy_id}' expired on {until.isoformat()} "
                        f"(as of {c.settings.as_of.isoformat()})")
    for container in model.tpl.containers:
        if container.init:
            continue
        env = k8s.env_value(container.value, ENV_ETHICS_POLICY_ID)
        if env is UNKNOWN:
            c.unknown(f"{container.path}.env {ENV_ETHICS_POLICY_ID}")
        elif isinstance(env, str) and env != policy_id:
            c.violation(f"{res.label}: {container.path} ({container.name}) sets {ENV_ETHICS_POLICY_ID}={env} but the "
                        f"workload names '{policy_id}'")


ETHICS_POLICY_APPROVED = resource_rule(
    name="ethics-policy-approved",
    description="Every inference workload names an ethics policy id from the approved registry, and that policy has "
                "not expired.",
    severity=Severity.CRITICAL,
    remediation="Set services[].ethics.policyId to an approved policy; new or renewed policies are added to the "
                "'registry' (id -> valid-until date) of this rule in the stack's policy config by the AI ethics "
                "board.",
    types=INFERENCE_TYPES,
    check=_ethics_check,
    settings_=(Setting("registry", {"type": "object", "additionalProperties": {"type": "string"}}, {},
                       "Approved ethics policies: id -> valid-until date (YYYY-MM-DD)."),),
    framework=eu_ai_act("Article 9 - Risk management system"),
    tags=["responsible-ai"],
)


# --- model-provenance -----------------------------------------------------------------------------

def _provenance_check(res: Res, c: Check) -> None:
    for model in inference_models(res, c):
        _provenance_model(model, c)


def _provenance_model(model: Model, c: Check) -> None:
    res = model
    allowed = c.config.strings("allowedRegistries")
    version = model.fact(MODEL_VERSION)
    for container in model.tpl.containers:
        image = get(container.value, "image")
        where = f"{container.path} ({container.name})"
        if image is UNKNOWN:
            c.unknown(f"{container.path}.image")
            continue
        if image is MISSING and model.tpl.partial:
            continue  # the live object's image stays
        if not isinstance(image, str) or not image.strip():
            c.violation(f"{res.label}: {where} has no image")
            continue
        parsed = parse_image(image)
        if parsed is None:
            c.violation(f"{res.label}: {where}: {short(image)} is not an image reference")
            continue
        repo, tag, digest = parsed
        if not any(repo == a.rstrip("/") or repo.startswith(a if a.endswith("/") else a + "/") or matches_any(repo, [a])
                   for a in allowed):
            c.violation(f"{res.label}: {where}: image {short(image)} ({repo}) is not from an allowed registry "
                        f"({', '.join(allowed) or 'none'})")
        if tag == "latest":
            c.violation(f"{res.label}: {where}: image {short(image)} uses the 'latest' tag; pin a version")
        elif tag is None and digest is None:
            c.violation(f"{res.label}: {where}: image {short(image)} has no tag (Docker would pull 'latest')")
        if c.config["requireDigest"] and digest is None:
            c.violation(f"{res.label}: {where}: image {short(image)} is not pinned by @sha256 digest, required in "
                        f"{c.settings.environment}")
        if container.init:
            continue
        env_version = k8s.env_value(container.value, ENV_MODEL_VERSION)
        if env_version is UNKNOWN:
            c.unknown(f"{container.path}.env {ENV_MODEL_VERSION}")  # and never "does not set" below
        if version is MISSING:
            c.violation(f"{res.label}: no model version annotation ({model.key(MODEL_VERSION)})")
        elif version is not UNKNOWN:
            if isinstance(env_version, str) and env_version != version:
                c.violation(f"{res.label}: {where}: {ENV_MODEL_VERSION}={env_version} disagrees with the model version "
                            f"annotation '{version}'")
            if tag is not None and tag != "latest" and tag != version:
                c.violation(f"{res.label}: {where}: image tag '{tag}' disagrees with the model version '{version}'")
        if env_version is MISSING and c.config["requireModelVersionEnv"] and not model.tpl.partial:
            c.violation(f"{res.label}: {where} does not set {ENV_MODEL_VERSION}")


MODEL_PROVENANCE = resource_rule(
    name="model-provenance",
    description="Model images come from allowed registries, carry a version tag (never 'latest'), are pinned by "
                "@sha256 digest where required (prod), and the model version annotation and MODEL_VERSION agree "
                "with the image.",
    severity=Severity.HIGH,
    remediation="Publish the model image to an allowed registry, reference it as registry/repo:<version>@sha256:"
                "<digest> (crane digest / docker buildx imagetools inspect give the digest), and keep "
                "services[].model.version equal to the tag.",
    types=INFERENCE_TYPES,
    check=_provenance_check,
    settings_=(Setting("allowedRegistries", _STRINGS, [], "Allowed image repositories (prefixes such as "
                       "'123456789012.dkr.ecr.us-east-1.amazonaws.com/' or 'docker.io/apexlogic/'; shell patterns "
                       "allowed). Docker Hub short names are expanded to docker.io/."),
               Setting("requireDigest", {"type": "boolean"}, True, "Require an @sha256 digest."),
               Setting("requireModelVersionEnv", {"type": "boolean"}, True,
                       "Require the MODEL_VERSION environment variable on model containers.")),
    framework=eu_ai_act("Article 12 - Record-keeping (traceability of the deployed model)"),
    tags=["responsible-ai", "supply-chain"],
)


# --- model-card-metadata --------------------------------------------------------------------------

def _card_check(res: Res, c: Check) -> None:
    for model in inference_models(res, c):
        _card_model(model, c)


def _card_model(model: Model, c: Check) -> None:
    res = model
    min_use = int(c.config.num("minIntendedUseLength"))
    checks = (
        (MODEL_CARD, lambda v: bool(HTTPS_URL.match(v)), "an https:// URL of the model card"),
        (OWNER, lambda v: bool(CONTACT.match(v.strip())), "an email address or on-call alias of the owner / "
                                                            "human-oversight contact"),
        (INTENDED_USE, lambda v: len(v.strip()) >= min_use, f"a statement of intended use ({min_use}+ characters)"),
        (RISK_TIER, lambda v: v in RISK_TIERS, f"one of {', '.join(RISK_TIERS)}"),
        (DATA_CLASSIFICATION, lambda v: v in CLASSIFICATIONS, f"one of {', '.join(CLASSIFICATIONS)}"),
    )
    problems = []
    for name, valid, expected in checks:
        value = model.fact(name)
        if value is UNKNOWN:
            continue
        if value is MISSING:
            problems.append(f"{model.key(name)} is missing ({expected})")
        elif not valid(value):
            problems.append(f"{model.key(name)}={short(value)} is not {expected}")
    if problems:
        c.violation(f"{res.label}: model card metadata: {'; '.join(problems)}")


MODEL_CARD_METADATA = resource_rule(
    name="model-card-metadata",
    description="Every inference workload carries its model card URL, owner / human-oversight contact, intended "
                "use, risk tier and data classification, well formed.",
    severity=Severity.MEDIUM,
    remediation="Fill services[].model.modelCardUrl, owner, intendedUse, riskTier and dataClassification; the "
                "InferenceService component writes them as governance annotations.",
    types=INFERENCE_TYPES,
    check=_card_check,
    settings_=(Setting("minIntendedUseLength", {"type": "integer", "minimum": 1}, 10,
                       "Shortest acceptable intended-use statement."),),
    framework=eu_ai_act("Article 13 - Transparency and provision of information to deployers"),
    tags=["responsible-ai"],
)


# --- evaluation-gate ------------------------------------------------------------------------------

def _eval_check(res: Res, c: Check) -> None:
    for model in inference_models(res, c):
        _eval_model(model, c)


def _eval_model(model: Model, c: Check) -> None:
    res = model
    tier = model.fact(RISK_TIER)
    if tier is UNKNOWN:
        return
    thresholds_all = c.config["thresholds"] if isinstance(c.config["thresholds"], dict) else {}
    tier_name = tier if isinstance(tier, str) and tier in thresholds_all else "high"  # unknown tier: strictest
    chosen = thresholds_all.get(tier_name)
    thresholds: dict[str, Any] = chosen if isinstance(chosen, dict) else {}
    problems = []
    metrics = model.metrics()
    for metric, bounds in sorted(thresholds.items()):
        if not isinstance(bounds, dict):
            continue
        key = model.key(f"{EVAL_METRIC_PREFIX}{metric}")
        if key in model.unknown_keys:
            c.unknown(f"annotation {key}")
            continue
        raw = metrics.get(metric)
        value = number(raw) if raw is not None else None
        if value is None:
            problems.append(f"metric '{metric}' is {'missing' if raw is None else f'not a number ({short(raw)})'}")
            continue
        low, high = number(bounds.get("min")), number(bounds.get("max"))
        if low is not None and value < low:
            problems.append(f"{metric} {value:g} < {low:g}")
        if high is not None and value > high:
            problems.append(f"{metric} {value:g} > {high:g}")
    date = model.fact(EVAL_DATE)
    if date is MISSING:
        problems.append(f"no evaluation date ({model.key(EVAL_DATE)})")
    elif date is not UNKNOWN:
        try:
            evaluated = dt.date.fromisoformat(str(date).strip()[:10])
        except ValueError:
            problems.append(f"evaluation date {short(date)} is not a date (YYYY-MM-DD)")
        else:
            age = (c.settings.as_of - evaluated).days
            max_age = int(c.config.num("maxAgeDays"))
            if age < 0:
                problems.append(f"evaluation date {evaluated.isoformat()} is in the future")
            elif age > max_age:
                problems.append(f"evaluation of {evaluated.isoformat()} is {age} days old (max {max_age})")
    if problems:
        c.violation(f"{res.label}: evaluation gate for risk tier '{tier_name}' in {c.settings.environment}: "
                    f"{'; '.join(problems)} (thresholds: {_threshold_text(thresholds, c)}; set by evaluation-gate "
                    f"thresholds.{tier_name} and maxAgeDays in the policy pack config, {pack_config_file()})")


def _threshold_text(thresholds: Mapping[str, Any], c: Check) -> str:
    """The tier's bounds as a reader would write them: accuracy >= 0.9, max age 365 days."""
    parts = []
    for metric, bounds in sorted(thresholds.items()):
        if isinstance(bounds, dict):
            low, high = number(bounds.get("min")), number(bounds.get("max"))
            parts += [f"{metric} >= {low:g}"] if low is not None else []
            parts += [f"{metric} <= {high:g}"] if high is not None else []
    return ", ".join([*parts, f"max age {int(c.config.num('maxAgeDays'))} days"])


EVALUATION_GATE = resource_rule(
    name="evaluation-gate",
    description="Evaluation metrics meet the thresholds set per risk tier for this environment (e.g. accuracy >= X, "
                "demographic-parity difference <= Y) and the evaluation is recent.",
    severity=Severity.CRITICAL,
    remediation="Re-evaluate the model version and record the results in services[].ethics.evaluation (date, "
                "metrics); if it does not meet the thresholds, it does not ship to this environment.",
    types=INFERENCE_TYPES,
    check=_eval_check,
    settings_=(Setting("thresholds", {"type": "object"},
                       DEFAULT_EVALUATION_THRESHOLDS,
                       "Per risk tier, per metric: {\"min\": x} and/or {\"max\": y}. An unknown tier uses 'high'."),
               Setting("maxAgeDays", {"type": "integer", "minimum": 0}, 180, "Oldest acceptable evaluation, in days.")),
    framework=eu_ai_act("Article 9 - Risk management system (testing, 9(6)-(8))"),
    tags=["responsible-ai"],
)


POLICIES = [ETHICS_POLICY_APPROVED, MODEL_PROVENANCE, MODEL_CARD_METADATA, EVALUATION_GATE]

__all__ = ["POLICIES"]
