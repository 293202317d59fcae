"""Every child's typed inputs at once (``render``) and as the engine receives them (``manifests``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgsDict
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscalerSpecArgsDict
from pulumi_kubernetes.core.v1 import ServiceSpecArgsDict
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgsDict

from components.inference.args import InferenceServiceArgs
from components.inference.workload import (
    deployment_metadata,
    deployment_spec,
    hpa_spec,
    metadata,
    pdb_spec,
    service_spec,
)
from components.k8s_manifest import engine_form


@dataclass(frozen=True)
class Rendered:
    """The typed inputs of every child, as the component passes them."""

    metadata: ObjectMetaArgsDict
    """Name, namespace and labels of the ServiceAccount, Service, HPA and PDB."""
    deployment_metadata: ObjectMetaArgsDict
    """The Deployment's metadata: the same plus its governance annotations."""
    automount_service_account_token: bool
    """Whether pods get an API token (off unless the service asks)."""
    deployment: DeploymentSpecArgsDict
    """The Deployment spec."""
    service: ServiceSpecArgsDict
    """The ClusterIP Service spec."""
    hpa: HorizontalPodAutoscalerSpecArgsDict
    """The ``autoscaling/v2`` HorizontalPodAutoscaler spec."""
    pdb: PodDisruptionBudgetSpecArgsDict | None
    """The PodDisruptionBudget spec (None below two replicas)."""


def render(args: InferenceServiceArgs) -> Rendered:
    return Rendered(
        metadata=metadata(args),
        deployment_metadata=deployment_metadata(args),
        automount_service_account_token=args.service.automount_service_account_token,
        deployment=deployment_spec(args),
        service=service_spec(args),
        hpa=hpa_spec(args),
        pdb=pdb_spec(args),
    )


def manifests(args: InferenceServiceArgs) -> list[dict[str, Any]]:
    """The children as the engine receives them (camelCase), serialized by the SDK from ``render``."""
    r = render(args)
    objects = [
        engine_form(k8s.core.v1.ServiceAccountArgs, "v1", "ServiceAccount",
                    {"metadata": r.metadata, "automount_service_account_token": r.automount_service_account_token}),
        engine_form(k8s.apps.v1.DeploymentArgs, "apps/v1", "Deployment",
                    {"metadata": r.deployment_metadata, "spec": r.deployment}),
        engine_form(k8s.core.v1.ServiceArgs, "v1", "Service", {"metadata": r.metadata, "spec": r.service}),
        engine_form(k8s.autoscaling.v2.HorizontalPodAutoscalerArgs, "autoscaling/v2", "HorizontalPodAutoscaler",
                    {"metadata": r.metadata, "spec": r.hpa}),
    ]
    if r.pdb is not None:
        objects.append(engine_form(k8s.policy.v1.PodDisruptionBudgetArgs, "policy/v1", "PodDisruptionBudget",
                                   {"metadata": r.metadata, "spec": r.pdb}))
    return objects
