"""ProjectNamespace: one tenant's namespace, its quota, its container defaults and its ingress fence.

Children: a Namespace (FinOps labels, Pod Security Admission level), a ResourceQuota
(``requests.nvidia.com/gpu``, ``requests.cpu``, ``requests.memory``, ``limits.memory``), a LimitRange with container defaults and a default-deny NetworkPolicy for
ingress and egress: ingress only from the configured namespaces (plus Argo CD's), egress only to
cluster DNS and the configured CIDRs, and the namespace's own pods both ways. A project may opt
out with a reason, which is recorded on its Namespace.

Like InferenceService, every input comes from the pure ``render`` function; ``manifests`` serializes
the same values as the engine receives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import LimitRangeSpecArgsDict, ResourceQuotaSpecArgsDict
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict
from pulumi_kubernetes.networking.v1 import NetworkPolicyPeerArgsDict, NetworkPolicySpecArgsDict

from ai_platform_finops.tags import FinOpsTags

from .config import GPU_RESOURCE, ProjectConfig
from .k8s_manifest import engine_form
from .metadata import NAMESPACE_NAME_LABEL, governance_key, namespace_labels, tenancy_labels

TYPE = "ai-platform:tenancy:ProjectNamespace"


@dataclass(frozen=True)
class ProjectNamespaceArgs:
    """ProjectNamespace's inputs: one project and the namespaces its fence admits."""

    project: ProjectConfig
    """The project's config: name, owner, quota, allowed ingress and egress."""
    tags: FinOpsTags
    """The project's FinOps tags (its own cost center and owner when set)."""
    network_policy: bool = True
    """The default-deny NetworkPolicy (False: the project opted out, with a reason)."""
    ingress_namespaces: tuple[str, ...] = ()
    """Namespaces the default-deny policy admits."""
    governance_prefix: str = ""
    """Where the opt-out reason annotation goes (``<prefix>/network-policy-opt-out``)."""


# --- pure rendering --------------------------------------------------------------------------

def quota_spec(project: ProjectConfig) -> ResourceQuotaSpecArgsDict:
    """Whole GPUs, cpu requests, and memory requests and limits.

    GPUs only as ``requests.``: for extended resources the quota evaluator counts ``requests.<name>``
    alone; a ``limits.nvidia.com/gpu`` entry would be accepted and never enforced.
    """
    quota = project.quota
    gpus = str(quota.gpus)
    return {"hard": {
        f"requests.{GPU_RESOURCE}": gpus,
        "requests.cpu": quota.cpu,
        "requests.memory": quota.memory,
        "limits.memory": quota.memory,
    }}


def limit_range_spec(project: ProjectConfig) -> LimitRangeSpecArgsDict:
    """Defaults for containers that state none, so quota-tracked pods are admitted (no cpu limit)."""
    d = project.container_defaults
    return {"limits": [{
        "type": "Container",
        "default": {"memory": d.memory_limit},
        "default_request": {"cpu": d.cpu_request, "memory": d.memory_request},
    }]}


NETWORK_POLICY_NAME = "default-deny"
NETWORK_POLICY_OPT_OUT = "network-policy-opt-out"
"""Annotation (under the governance prefix) carrying why a project runs without the policy."""
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
"""CoreDNS's pods on EKS and kind (the kube-dns Service selects them by this label)."""


def network_policy_spec(args: ProjectNamespaceArgs) -> NetworkPolicySpecArgsDict:
    """Deny all ingress and egress of the namespace's pods, except: ingress from the admitted
    namespaces, egress to cluster DNS and the allowed CIDRs, and (allowSameNamespace) the
    namespace's own pods both ways."""
    peers: list[NetworkPolicyPeerArgsDict] = []
    if args.ingress_namespaces:
        peers.append({"namespace_selector": {"match_expressions": [
            {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": sorted(args.ingress_namespaces)}]}})
    if args.project.allow_same_namespace:
        peers.append({"pod_selector": {}})
    spec: NetworkPolicySpecArgsDict = {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}
    spec["ingress"] = [{"from_": peers}] if peers else []
    spec["egress"] = [{
        "to": [{"namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}},
                "pod_selector": {"match_labels": dict(DNS_POD_LABELS)}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }]
    if args.project.allow_same_namespace:
        spec["egress"].append({"to": [{"pod_selector": {}}]})
    if args.project.allowed_egress_cidrs:
        spec["egress"].append({"to": [{"ip_block": {"cidr": str(cidr)}} for cidr in args.project.allowed_egress_cidrs]})
    return spec


def metadata(args: ProjectNamespaceArgs, name: str, namespace: pulumi.Input[str] | None) -> ObjectMetaArgsDict:
    meta: ObjectMetaArgsDict = {"name": name, "labels": tenancy_labels(args.tags)}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def namespace_metadata(args: ProjectNamespaceArgs) -> ObjectMetaArgsDict:
    meta: ObjectMetaArgsDict = {"name": args.project.name,
                                "labels": namespace_labels(args.tags, args.project.pod_security.value)}
    reason = args.project.network_policy_opt_out_reason
    if not args.network_policy and reason:
        meta["annotations"] = {governance_key(args.governance_prefix, NETWORK_POLICY_OPT_OUT): reason}
    return meta


def manifests(args: ProjectNamespaceArgs) -> list[dict[str, Any]]:
    """The children as the engine receives them (camelCase), serialized by the SDK."""
    name = args.project.name
    objects = [
        engine_form(k8s.core.v1.NamespaceArgs, "v1", "Namespace", {"metadata": namespace_metadata(args)}),
        engine_form(k8s.core.v1.ResourceQuotaArgs, "v1", "ResourceQuota",
                    {"metadata": metadata(args, "quota", name), "spec": quota_spec(args.project)}),
        engine_form(k8s.core.v1.LimitRangeArgs, "v1", "LimitRange",
                    {"metadata": metadata(args, "container-defaults", name), "spec": limit_range_spec(args.project)}),
    ]
    if args.network_policy:
        objects.append(engine_form(k8s.networking.v1.NetworkPolicyArgs, "networking.k8s.io/v1", "NetworkPolicy",
                                   {"metadata": metadata(args, NETWORK_POLICY_NAME, name),
                                    "spec": network_policy_spec(args)}))
    return objects


# --- the component ---------------------------------------------------------------------------

class ProjectNamespace(pulumi.ComponentResource):
    """A tenant's namespace. Pass the cluster's Kubernetes provider in ``opts``; children inherit it."""

    namespace: pulumi.Output[str]
    """The namespace name, from the Namespace resource (depend on it through this value)."""
    ns: k8s.core.v1.Namespace
    """The Namespace (FinOps labels, Pod Security Admission level)."""
    quota: k8s.core.v1.ResourceQuota
    """The ResourceQuota (GPUs, CPU and memory requests, memory limits)."""
    limit_range: k8s.core.v1.LimitRange
    """The LimitRange with container defaults."""
    network_policy: k8s.networking.v1.NetworkPolicy | None
    """The default-deny NetworkPolicy (None when the project opted out)."""

    def __init__(self, name: str, args: ProjectNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = args.project.name

        self.ns = k8s.core.v1.Namespace(project, metadata=namespace_metadata(args), opts=child)
        self.namespace = self.ns.metadata.apply(lambda m: m.name or project)
        self.quota = k8s.core.v1.ResourceQuota(
            project, metadata=metadata(args, "quota", self.namespace), spec=quota_spec(args.project), opts=child)
        self.limit_range = k8s.core.v1.LimitRange(
            project, metadata=metadata(args, "container-defaults", self.namespace),
            spec=limit_range_spec(args.project), opts=child)
        self.network_policy = None
        if args.network_policy:
            self.network_policy = k8s.networking.v1.NetworkPolicy(
                project, metadata=metadata(args, NETWORK_POLICY_NAME, self.namespace),
                spec=network_policy_spec(args), opts=child)
        self.register_outputs({"namespace": self.namespace})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What a workload in this namespace should wait for: the quota and the container defaults."""
        return [self.quota, self.limit_range]
