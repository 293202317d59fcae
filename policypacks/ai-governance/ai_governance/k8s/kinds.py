"""Kubernetes type tokens and which kinds carry pods (and where their pod template sits)."""

from __future__ import annotations

from ai_platform_finops.resource_types import HELM_RELEASE, INGRESS, NAMESPACE, SERVICE, STORAGE_CLASS

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
REPLICATION_CONTROLLER = "kubernetes:core/v1:ReplicationController"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
HPA_TYPES = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler")
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HELM_CHARTS = (HELM_RELEASE, "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
PATCH = "Patch"
"""Suffix of the server-side-apply variants (``kubernetes:apps/v1:DeploymentPatch``)."""

WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB, CRON_JOB)
"""Objects that own a pod template."""
POD_OWNERS = (*WORKLOADS, POD)
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    **{t: ("spec", "template") for t in (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET, JOB,
                                         REPLICATION_CONTROLLER)},
    CRON_JOB: ("spec", "jobTemplate", "spec", "template"),
    POD: (),
}
"""Where the pod template (metadata + spec) sits in each kind; a bare Pod is its own template."""
WORKLOAD_TYPES = (*POD_OWNERS, REPLICATION_CONTROLLER, *(t + PATCH for t in (*POD_OWNERS, REPLICATION_CONTROLLER)))
"""Every known kind carrying pods, with its server-side-apply ``*Patch`` variant."""
UNKNOWN_KIND_FIELDS = (("spec", "template"), ("spec", "jobTemplate"))
"""A ``kubernetes:*`` object of another kind with one of these may run pods the pack cannot read."""
COMPONENT_TYPES = frozenset({"kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:yaml/v2:ConfigGroup",
                             "kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml:ConfigGroup", "kubernetes:yaml:ConfigFile",
                             "kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory"})
"""Component resources: their children (Deployments, ...) reach the pack as ordinary resources."""


def base_type(type_: str) -> str:
    """``kubernetes:apps/v1:DeploymentPatch`` -> ``kubernetes:apps/v1:Deployment``."""
    return type_[: -len(PATCH)] if type_.endswith(PATCH) and type_[: -len(PATCH)] in TEMPLATE_PATHS else type_


def is_patch(type_: str) -> bool:
    return base_type(type_) != type_


def pod_template_path(type_: str) -> tuple[str, ...] | None:
    """Where the pod template (metadata + spec) sits in an object of ``type_`` (or its Patch)."""
    return TEMPLATE_PATHS.get(base_type(type_))


def may_carry_pods(type_: str) -> bool:
    """Types a workload rule must look at: known workloads and their Patches, Helm v3 releases, and
    any other ``kubernetes:*`` type (it may carry a pod template of a kind the pack does not know)."""
    return type_ in _POD_TYPES or (type_.startswith("kubernetes:") and type_ not in COMPONENT_TYPES
                                   and not type_.startswith("kubernetes:core/v1:") and type_ not in _NO_PODS)


_POD_TYPES = frozenset((*WORKLOAD_TYPES, HELM_RELEASE))
_NO_PODS = frozenset({
    *HPA_TYPES, PDB, INGRESS, "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:networking.k8s.io/v1:IngressClass", "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", STORAGE_CLASS,
    "kubernetes:scheduling.k8s.io/v1:PriorityClass", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "pulumi:providers:kubernetes",
})
"""Kinds known to carry no pods (core/v1 kinds other than Pod carry none either: Service,
ConfigMap, Secret, Namespace, ResourceQuota, LimitRange, PodTemplate objects are not run)."""


__all__ = ["HELM_RELEASE", "INGRESS", "NAMESPACE", "SERVICE", "STORAGE_CLASS"]
