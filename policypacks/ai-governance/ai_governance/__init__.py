"""The ai-governance CrossGuard policy pack: 31 rules for GPU inference platforms on EKS.

Rules are grouped by concern: ``finops`` (tags, GPU capacity, budgets), ``gpu_hygiene``
(Kubernetes GPU workloads, availability), ``exposure`` (load balancers, security groups, the EKS
endpoint), ``responsible_ai`` (ethics, provenance, model
cards, evaluations, risk tiers, residency) and ``security``. ``common`` holds the safe property
access, unknown-value handling and settings every rule goes through. Only the pack's
``__main__.py`` builds the ``PolicyPack`` (which starts a gRPC server and never returns).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import exposure, finops, gpu_hygiene, observability, responsible_ai, security
from .common import PACK_NAME, install_sdk_hooks

POLICIES: list[Policy] = [*finops.POLICIES, *gpu_hygiene.POLICIES,
                          *exposure.POLICIES, *responsible_ai.POLICIES, *security.POLICIES, *observability.POLICIES]

DESCRIPTION = ("Governance for GPU model inference on AWS EKS: FinOps tags, GPU capacity and budgets; Kubernetes "
               "GPU hygiene; responsible-AI gates (ethics policy, provenance, model cards, evaluations, risk tiers, "
               "data residency); platform security; and observability coverage.")

__all__ = ["DESCRIPTION", "PACK_NAME", "POLICIES", "install_sdk_hooks"]
