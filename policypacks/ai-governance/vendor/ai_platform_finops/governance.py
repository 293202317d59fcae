"""The governance contract: annotation names the program writes and the policy pack reads.

Each name sits under the stack's governance prefix (``governance.<domain>/<name>``, e.g.
``governance.apexlogic.com/risk-tier``) on inference Deployments and their pod templates. One
definition, imported by ``components/metadata.py`` and the ``ai-governance`` pack alike.
"""

from __future__ import annotations

ETHICS_POLICY_ID = "ethics-policy-id"
MODEL_CARD = "model-card"
MODEL_NAME = "model-name"
MODEL_VERSION = "model-version"
RISK_TIER = "risk-tier"
DATA_CLASSIFICATION = "data-classification"
OWNER = "owner"
"""The accountable owner and human-oversight contact."""
INTENDED_USE = "intended-use"
EVAL_DATE = "eval-date"
EVAL_REPORT = "eval-report"
EVAL_METRIC_PREFIX = "eval-"
"""One ``eval-<metric>`` annotation per evaluation metric, e.g. ``eval-accuracy``."""
EXPLAINABILITY = "explainability"
"""Only present when the model has an explainability reference."""
AUDIT_LOGGING = "audit-logging"
"""``"true"`` or ``"false"``."""

DEFAULT_EVALUATION_THRESHOLDS: dict[str, dict[str, dict[str, float]]] = {
    "high": {"accuracy": {"min": 0.9}, "demographic-parity-difference": {"max": 0.05}},
    "limited": {"accuracy": {"min": 0.85}, "demographic-parity-difference": {"max": 0.1}},
    "minimal": {},
}
"""The evaluation-gate's thresholds per risk tier when the pack config sets none: the gate checks the
recorded evaluation against them at preview, and the generated production alerts check the live
``model_evaluation_metric`` against the same numbers."""

ETHICS_POLICY_ID_PATTERN = r"^policy-\d{4}-\d{3}$"
"""An ethics policy id: ``policy-<year>-<3 digits>``, as the ethics registry numbers them."""
ETHICS_POLICY_ID_EXAMPLE = "policy-2026-001"

# Container environment an inference service carries its governance facts in, so the running model
# can report the version and ethics policy it was approved under.
ENV_MODEL_VERSION = "MODEL_VERSION"
ENV_ETHICS_POLICY_ID = "ETHICS_POLICY_ID"

# Container environment whose names look secret must come from a Kubernetes Secret
# (valueFrom.secretKeyRef), never a literal value: literals are readable by anyone who can read
# the Deployment, and sit in Pulumi state and every preview. Shell-style patterns, upper-cased.
SECRET_ENV_PATTERNS = ("*PASSWORD*", "*TOKEN*", "*SECRET*", "*_KEY", "*CREDENTIALS*")


def looks_secret(name: str, patterns: tuple[str, ...] | list[str] = SECRET_ENV_PATTERNS) -> bool:
    """Does an environment variable name look like it holds a secret?"""
    from fnmatch import fnmatchcase

    upper = name.upper()
    return any(fnmatchcase(upper, pattern.upper()) for pattern in patterns)
