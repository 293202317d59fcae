"""Every Kubernetes label and annotation key ai-platform writes, built in one place.

- FinOps labels (``<finops prefix>/cost-center``, ``/project``, ``/environment``, ``/tier``,
  ``/owner``) come from the shared tag contract, ``ai_platform_finops.tags.FinOpsTags``.
- Governance annotations live under ONE prefix per stack, ``finops.governancePrefix`` or, unset,
  ``governance.<domain of finops.tagPrefix>`` (``finops.apexlogic.com`` ->
  ``governance.apexlogic.com``). The names below (``ethics-policy-id``, ``model-card``...) are the
  contract with the ``ai-governance`` policy pack: import them, never retype them.
- App labels follow the Kubernetes recommended labels (``app.kubernetes.io/*``).

The module needs only the standard library and ``ai_platform_finops`` (the config models are
imported for type checking only), so the policy pack can share the very same names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_platform_finops.tags import FinOpsTags

if TYPE_CHECKING:  # pragma: no cover - typing only, keeps this module import-light
    from components.config.services import InferenceServiceConfig

# --- Kubernetes recommended labels ---------------------------------------------------------
APP_NAME = "app.kubernetes.io/name"
APP_INSTANCE = "app.kubernetes.io/instance"
APP_VERSION = "app.kubernetes.io/version"
APP_COMPONENT = "app.kubernetes.io/component"
APP_PART_OF = "app.kubernetes.io/part-of"
APP_MANAGED_BY = "app.kubernetes.io/managed-by"

PART_OF = "ai-platform"
MANAGED_BY = "pulumi"
INFERENCE_COMPONENT = "inference"
"""``app.kubernetes.io/component`` of every inference workload: how policies recognise one."""
TENANCY_COMPONENT = "tenancy"

# --- Well-known keys set by Kubernetes itself ----------------------------------------------
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every namespace (1.21+); NetworkPolicies select namespaces by it."""
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"
POD_SECURITY_WARN = "pod-security.kubernetes.io/warn"
POD_SECURITY_AUDIT = "pod-security.kubernetes.io/audit"

# --- Pulumi's own annotations -----------------------------------------------------------------
PULUMI_SKIP_AWAIT = "pulumi.com/skipAwait"
"""``"true"``: pulumi-kubernetes does not wait for the object to become ready (e.g. a Deployment
whose GPU pool may have no node for hours)."""

# --- Governance annotation names (each under the stack's governance prefix) -----------------
# One definition shared with the policy pack: ai_platform_finops.governance.
from ai_platform_finops.governance import (  # noqa: E402, F401 (re-exported)
    AUDIT_LOGGING,
    DATA_CLASSIFICATION,
    ENV_ETHICS_POLICY_ID,
    ENV_MODEL_VERSION,
    ETHICS_POLICY_ID,
    EVAL_DATE,
    EVAL_METRIC_PREFIX,
    EVAL_REPORT,
    EXPLAINABILITY,
    INTENDED_USE,
    MODEL_CARD,
    MODEL_NAME,
    MODEL_VERSION,
    OWNER,
    RISK_TIER,
)

REQUIRED_GOVERNANCE_NAMES: tuple[str, ...] = (
    ETHICS_POLICY_ID, MODEL_CARD, MODEL_NAME, MODEL_VERSION, RISK_TIER, DATA_CLASSIFICATION,
    OWNER, INTENDED_USE, EVAL_DATE, EVAL_REPORT, AUDIT_LOGGING,
)
"""Names every inference Deployment and its pod template carry (eval-<metric> and explainability vary)."""

def governance_key(prefix: str, name: str) -> str:
    """``<prefix>/<name>``, e.g. ``governance.apexlogic.com/risk-tier``."""
    return f"{prefix}/{name}"


def eval_metric_key(prefix: str, metric: str) -> str:
    """``<prefix>/eval-<metric>``, e.g. ``governance.apexlogic.com/eval-accuracy``."""
    return governance_key(prefix, f"{EVAL_METRIC_PREFIX}{metric}")


@dataclass(frozen=True)
class GovernanceFacts:
    """The responsible-AI facts of one deployed model, as the policy pack reads them."""

    model_name: str
    model_version: str
    ethics_policy_id: str
    model_card: str
    risk_tier: str
    data_classification: str
    owner: str
    intended_use: str
    eval_report: str
    eval_date: dt.date
    eval_metrics: Mapping[str, float] = field(default_factory=dict)
    explainability: str | None = None
    audit_logging: bool = False

    @classmethod
    def of(cls, service: "InferenceServiceConfig") -> "GovernanceFacts":
        model, evaluation = service.model, service.ethics.evaluation
        return cls(
            model_name=model.name,
            model_version=model.version,
            ethics_policy_id=service.ethics.policy_id,
            model_card=model.model_card_url,
            risk_tier=model.risk_tier.value,
            data_classification=model.data_classification.value,
            owner=model.owner,
            intended_use=model.intended_use,
            eval_report=evaluation.report_uri,
            eval_date=evaluation.date,
            eval_metrics=dict(evaluation.metrics),
            explainability=model.explainability_url,
            audit_logging=model.audit_logging,
        )

    def annotations(self, prefix: str) -> dict[str, str]:
        """Every fact as an annotation under ``prefix``; values are strings, metrics as Python floats print."""
        values: dict[str, str] = {
            ETHICS_POLICY_ID: self.ethics_policy_id,
            MODEL_CARD: self.model_card,
            MODEL_NAME: self.model_name,
            MODEL_VERSION: self.model_version,
            RISK_TIER: self.risk_tier,
            DATA_CLASSIFICATION: self.data_classification,
            OWNER: self.owner,
            INTENDED_USE: self.intended_use,
            EVAL_DATE: self.eval_date.isoformat(),
            EVAL_REPORT: self.eval_report,
            AUDIT_LOGGING: "true" if self.audit_logging else "false",
        }
        if self.explainability:
            values[EXPLAINABILITY] = self.explainability
        annotations = {governance_key(prefix, name): value for name, value in values.items()}
        for metric, score in sorted(self.eval_metrics.items()):
            annotations[eval_metric_key(prefix, metric)] = repr(float(score))
        return annotations


def selector_labels(app: str) -> dict[str, str]:
    """The immutable part: what a Deployment, Service and PDB select pods by."""
    return {APP_NAME: app, APP_COMPONENT: INFERENCE_COMPONENT}


def workload_labels(tags: FinOpsTags, app: str, version: str) -> dict[str, str]:
    """Inference objects and pods: FinOps labels, selector labels, version, part-of and managed-by."""
    return tags.k8s_labels({
        **selector_labels(app),
        APP_INSTANCE: app,
        APP_VERSION: version,
        APP_PART_OF: PART_OF,
        APP_MANAGED_BY: MANAGED_BY,
    })


_TENANCY = {APP_PART_OF: PART_OF, APP_MANAGED_BY: MANAGED_BY, APP_COMPONENT: TENANCY_COMPONENT}


def tenancy_labels(tags: FinOpsTags) -> dict[str, str]:
    """A project's quota, limit range and network policy: FinOps labels plus part-of/managed-by."""
    return tags.k8s_labels(_TENANCY)


def namespace_labels(tags: FinOpsTags, pod_security: str) -> dict[str, str]:
    """A project's Namespace: tenancy labels plus the Pod Security Admission level it enforces.

    ``warn`` and ``audit`` stay at ``restricted`` so a looser namespace still reports what it lets in.
    """
    return tags.k8s_labels({
        **_TENANCY,
        POD_SECURITY_ENFORCE: pod_security,
        POD_SECURITY_WARN: "restricted",
        POD_SECURITY_AUDIT: "restricted",
    })
