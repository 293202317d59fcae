"""The ai-governance CrossGuard policy pack: 34 rules for GPU inference platforms on EKS.

Rules are grouped by concern: ``finops`` (tags, GPU capacity, budgets), ``gpu_hygiene``
(Kubernetes GPU workloads, availability), ``exposure`` (load balancers, security groups, the EKS
endpoint), ``responsible_ai`` (ethics, provenance, model
cards, evaluations, risk tiers, residency), ``security`` and the model artifact stores
(``artifact_hardening``, ``artifact_access``, ``artifact_provenance``). ``common`` holds the safe property
access, unknown-value handling and settings every rule goes through. Only the pack's
``__main__.py`` builds the ``PolicyPack`` (which starts a gRPC server and never returns).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The shared FinOps package: an installed copy wins (the project's own virtualenv); a published pack
# uses the copy vendored beside it (vendor/, identical to finops/ai_platform_finops by test).
_VENDOR = str(Path(__file__).resolve().parent.parent / "vendor")
if _VENDOR not in sys.path:
    sys.path.append(_VENDOR)

from pulumi_policy import Policy  # noqa: E402

from . import (  # noqa: E402
    artifact_access,
    artifact_hardening,
    artifact_provenance,
    exposure,
    finops,
    gpu_hygiene,
    observability,
    responsible_ai,
    security,
)
from .common import PACK_NAME, install_sdk_hooks  # noqa: E402

POLICIES: list[Policy] = [*finops.POLICIES, *gpu_hygiene.POLICIES,
                          *exposure.POLICIES, *responsible_ai.POLICIES, *security.POLICIES, *observability.POLICIES,
                          *artifact_hardening.POLICIES, *artifact_access.POLICIES, *artifact_provenance.POLICIES]

DESCRIPTION = ("Governance for GPU model inference on AWS EKS: FinOps tags, GPU capacity and budgets; Kubernetes "
               "GPU hygiene; responsible-AI gates (ethics policy, provenance, model cards, evaluations, risk tiers, "
               "data residency); platform security; observability coverage; and hardened, least-privilege, per-project "
               "model artifact stores.")

__all__ = ["DESCRIPTION", "PACK_NAME", "POLICIES", "install_sdk_hooks"]
