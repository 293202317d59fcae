"""The ai-governance CrossGuard policy pack: 35 rules for GPU inference platforms on EKS.

Only the pack's ``__main__.py`` builds the ``PolicyPack`` (which starts a gRPC server and never
returns); ``POLICIES`` below lists every rule, family by family.

- Rule families, one module each: ``finops_tags``, ``gpu_capacity``, ``budgets`` (FinOps);
  ``gpu_workloads``, ``reliability`` (Kubernetes workloads); ``responsible_ai``, ``ai_safeguards``
  (responsible AI); ``exposure`` (with ``exposure_local``, its Service half judged at Analyze),
  ``security``; ``observability``; ``artifact_hardening``, ``artifact_access``,
  ``artifact_provenance`` (model artifact stores).
- The framework every rule goes through: ``framework`` (rules, checks, rule settings), ``props``
  (safe property access), ``pack_settings`` (pack-wide settings), ``resources`` (``Res`` and the
  indexed ``Stack``), ``sdk_hooks`` (the one pinned hook into pulumi-policy).
- Readers the families share: ``k8s`` (Kubernetes objects, Helm releases), ``aws``, ``compute``,
  ``network``, ``sg_merge``, ``exposure_params``, ``exposure_checks``, ``exposure_groups``,
  ``gpu_pools``, ``replicas``, ``ai_models``, ``artifact_stores`` (ECR repositories, S3 buckets and their configuration),
  ``workload_identity`` (a workload's AWS role and its documents), ``iam_policy`` (IAM documents).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import (
    ai_safeguards,
    artifact_access,
    artifact_hardening,
    artifact_provenance,
    budgets,
    exposure,
    finops_tags,
    gpu_capacity,
    gpu_workloads,
    observability,
    reliability,
    responsible_ai,
    security,
)
from .pack_settings import PACK_NAME, install_sdk_hooks

POLICIES: list[Policy] = [
    *finops_tags.POLICIES,
    *gpu_capacity.POLICIES,
    *budgets.POLICIES,
    *gpu_workloads.POLICIES,
    *reliability.POLICIES,
    *exposure.POLICIES,
    *responsible_ai.POLICIES,
    *ai_safeguards.POLICIES,
    *security.POLICIES,
    *observability.POLICIES,
    *artifact_hardening.POLICIES,
    *artifact_access.POLICIES,
    *artifact_provenance.POLICIES,
]

DESCRIPTION = ("Governance for GPU model inference on AWS EKS: FinOps tags, GPU capacity and budgets; Kubernetes "
               "GPU hygiene; responsible-AI gates (ethics policy, provenance, model cards, evaluations, risk tiers, "
               "data residency); platform security; observability coverage; and hardened, least-privilege, "
               "per-project model artifact stores.")

__all__ = ["DESCRIPTION", "PACK_NAME", "POLICIES", "install_sdk_hooks"]
