"""Kubernetes objects as rules read them: ``from . import k8s`` gives a rule every reader below.

- ``kinds``: type tokens, which kinds carry pods and where their pod template sits.
- ``templates``: a workload's pod template and containers; ``Workloads``, what one resource runs.
- ``pods``: ``workloads(res)``, the one accessor every workload rule goes through (Helm releases
  read by ``helm_values`` from their ``values``, merged by ``helm_files``).
- ``gpus``: the accelerators a pod asks for; ``metadata``: labels, annotations, selectors, and
  whether a workload serves a model; ``taints``: toleration matching.
"""

from __future__ import annotations

from .gpus import (
    ACCELERATOR_PATTERNS,
    GpuAmount,
    accelerator_names,
    container_need,
    effective_need,
    gpu_amount,
    gpus_of,
    is_gpu_workload,
    pod_gpus,
    pod_needs,
)
from .kinds import (
    COMPONENT_TYPES,
    CRON_JOB,
    DAEMON_SET,
    DEPLOYMENT,
    HELM_CHARTS,
    HELM_RELEASE,
    HPA_TYPES,
    INGRESS,
    JOB,
    NAMESPACE,
    PATCH,
    PDB,
    POD,
    POD_OWNERS,
    REPLICA_SET,
    REPLICATION_CONTROLLER,
    SERVICE,
    STATEFUL_SET,
    STORAGE_CLASS,
    TEMPLATE_PATHS,
    UNKNOWN_KIND_FIELDS,
    WORKLOAD_TYPES,
    WORKLOADS,
    base_type,
    is_patch,
    may_carry_pods,
    pod_template_path,
)
from .metadata import (
    APP_COMPONENT,
    INFERENCE_COMPONENT,
    annotations_of,
    chart_name,
    env_value,
    governance_annotations,
    inference_unknown,
    is_inference,
    labels_of,
    name_of,
    namespace_of,
    selector_matches,
)
from .pods import rule_templates, stack_templates, workloads
from .taints import K8S_EFFECTS, Taint, tolerates
from .templates import Container, PodTemplate, Workloads, pod_template, template_from

__all__ = [
    "ACCELERATOR_PATTERNS", "APP_COMPONENT", "COMPONENT_TYPES", "CRON_JOB", "DAEMON_SET", "DEPLOYMENT", "HELM_CHARTS",
    "HELM_RELEASE", "HPA_TYPES", "INFERENCE_COMPONENT", "INGRESS", "JOB", "K8S_EFFECTS", "NAMESPACE", "PATCH", "PDB",
    "POD", "POD_OWNERS", "REPLICATION_CONTROLLER", "REPLICA_SET", "SERVICE", "STATEFUL_SET", "STORAGE_CLASS",
    "TEMPLATE_PATHS", "UNKNOWN_KIND_FIELDS", "WORKLOADS", "WORKLOAD_TYPES", "Container", "GpuAmount", "PodTemplate",
    "Taint", "Workloads", "accelerator_names", "annotations_of", "base_type", "chart_name", "container_need",
    "effective_need", "env_value", "governance_annotations", "gpu_amount", "gpus_of", "inference_unknown",
    "is_gpu_workload", "is_inference", "is_patch", "labels_of", "may_carry_pods", "name_of", "namespace_of",
    "pod_gpus", "pod_needs", "pod_template", "pod_template_path", "rule_templates", "selector_matches",
    "stack_templates", "template_from", "tolerates", "workloads",
]
