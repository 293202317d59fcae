"""Cluster: the Kubernetes cluster a stack deploys to, and the one Kubernetes provider for it.

Three modes (``cluster.mode``):

- ``create``: an EKS cluster with API-only authentication and an access entry (cluster admin)
  for the admin principal and each deployer principal (``deployerPrincipalArns``, e.g. the CI
  role that runs ``pulumi up``); the control-plane logs of ``controlPlaneLogs``, by default only
  ``audit`` and ``authenticator`` (``api`` logs every request and dominates the CloudWatch bill,
  so it is on only when listed), kept in a log group with a retention; secrets envelope-encrypted
  with a rotating KMS key the control-plane role may use explicitly; the endpoint of
  ``endpointAccess`` (``public``, ``bootstrap``: public only for ``runnerCidrs``, or ``private``: private
  only, reached on 443/tcp through the cluster security group from ``privateAccessCidrs`` and the
  runners' VPC); in prod the audit log group and the key are protected and kept on delete; the EKS add-ons
  ``vpc-cni`` (with network policy enforcement on), ``kube-proxy``, ``eks-pod-identity-agent``
  and ``coredns``, each pinned to the newest version EKS publishes for the cluster's Kubernetes
  version (``aws.eks.get_addon_version``); a node IAM role and the node pools.
- ``existing``: an EKS cluster looked up by name; node pools are added to it.
- ``kubeconfig``: the local stack's kind/minikube cluster, through a kubeconfig context. No AWS.

Ordering is done here so every Kubernetes resource of every block is safe: ``vpc-cni`` and
``kube-proxy`` come before nodes (EKS installs no self-managed copies: the add-ons own them),
``coredns`` after the system nodes it runs on, and the Kubernetes provider waits for the admin's
and the deployers' access policies, ``coredns`` and the system nodes, so no Helm release or object
of any block waits on a cluster that has no node yet. GPU pools are not waited for: they may sit
at zero.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as kubernetes

from components.config.cluster import ClusterConfig, ClusterMode
from components.config.node_pools import NodePoolConfig
from components.iam_policies import assume_role_policy, secrets_key_policy
from components.kubeconfig import kubeconfig_for_eks
from components.network import Network
from components.node_pool import NodePool, NodePoolArgs

TYPE = "ai-platform:cluster:Cluster"

PRE_COMPUTE_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
"""Add-ons nodes need before they can become Ready (or, for pod identity, before pods start)."""
POST_COMPUTE_ADDONS = ("coredns",)
"""coredns is a Deployment: it stays DEGRADED (and the create times out) until nodes exist."""
ADDON_CONFIGURATION: Mapping[str, Mapping[str, Any]] = {
    # The VPC CNI's network policy agent: without it NetworkPolicy objects (each project's
    # default-deny ingress) are accepted by the API server and enforced by nothing.
    "vpc-cni": {"enableNetworkPolicy": "true"},
}
"""``configuration_values`` per EKS add-on (the add-on's JSON configuration schema)."""
ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
API_PORT = 443
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


@dataclass(frozen=True)
class NodePoolPlan:
    """One node pool to create, with the FinOps tags its nodes are billed under."""

    config: NodePoolConfig
    """The pool's config section."""
    tags: Mapping[str, str]
    """The AWS tags of the pool's nodes (its project's FinOps tags, or the stack's)."""


@dataclass(frozen=True)
class ClusterArgs:
    """Cluster's inputs: the cluster section, the network it runs in and the node pools to create."""

    config: ClusterConfig
    """The stack's ``cluster`` section: mode, version, endpoint access, logs, principals."""
    environment: str
    """The stack's environment (dev, staging, prod, local): off-peak schedules depend on it."""
    region: str | None
    """The AWS region (None only in kubeconfig mode)."""
    tags: Mapping[str, str]
    """The stack's FinOps AWS tags, for the cluster, its key, roles and logs."""
    protect: bool
    """protect=True on the EKS cluster and its KMS key (the key is also retained on delete)."""
    is_prod: bool
    """Prod rules: a public endpoint needs CIDRs, and control-plane logs are kept 365 days (30 elsewhere)."""
    network: Network | None = None
    """The VPC the cluster and its nodes use (None: existing cluster or kubeconfig mode)."""
    node_pools: Sequence[NodePoolPlan] = field(default_factory=list)
    """The node pools to create, in config order (empty in kubeconfig mode)."""

    @property
    def public_endpoint_cidrs(self) -> list[str] | None:
        """None: no public endpoint; []: open to all (IAM still authenticates); else only these CIDRs."""
        return self.config.public_endpoint_cidrs(self.is_prod)

    @property
    def private_endpoint_cidrs(self) -> list[str]:
        return self.config.private_endpoint_cidrs(self.is_prod)


def principal_slug(principal_arn: str) -> str:
    """A resource-name suffix for an IAM principal: ``<account>-<role|user>-<path and name>``."""
    account, resource = principal_arn.split(":")[4], principal_arn.split(":", 5)[5]
    return re.sub(r"[^A-Za-z0-9-]+", "-", f"{account}-{resource}").strip("-")


def cidr_slug(cidr: str) -> str:
    """A resource-name suffix for a CIDR: ``10.42.0.0/16`` -> ``10-42-0-0-16``."""
    return re.sub(r"[^0-9A-Za-z]+", "-", cidr).strip("-")


class Cluster(pulumi.ComponentResource):
    mode: ClusterMode
    """The cluster mode this stack uses (create, existing or kubeconfig)."""
    name: pulumi.Output[str]
    """The cluster's name (an Output of the EKS cluster when created here)."""
    config_name: str
    """The same name as a plain string, for tag keys such as ``k8s.io/cluster-autoscaler/<name>``."""
    provider: kubernetes.Provider
    """The one Kubernetes provider: pass it explicitly to every Kubernetes resource."""
    eks_cluster: aws.eks.Cluster | None
    """The EKS cluster ('create' only)."""
    kms_key: aws.kms.Key | None
    """The secrets-encryption KMS key ('create' only)."""
    node_role: aws.iam.Role | None
    """The IAM role every node pool's nodes take (None in kubeconfig mode)."""
    node_pools: dict[str, NodePool]
    """The NodePool components by pool name."""
    kubeconfig: pulumi.Output[str] | None
    """A secret kubeconfig for EKS (``aws eks get-token``); None in kubeconfig mode."""
    private_api_ingress: list[aws.vpc.SecurityGroupIngressRule]
    """443/tcp to the private endpoint from ``privateAccessCidrs`` and, when private, ``runnerCidrs`` ('create' only)."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        config = args.config
        self.mode = config.mode
        self.config_name = config.name
        self.eks_cluster = None
        self.kms_key = None
        self.node_role = None
        self.node_pools = {}
        self.kubeconfig = None
        self.private_api_ingress = []
        self._node_role_policies: list[aws.iam.RolePolicyAttachment] = []

        if config.mode == ClusterMode.KUBECONFIG:
            if args.node_pools and any(p.config.is_gpu for p in args.node_pools):
                raise ValueError("cluster mode 'kubeconfig' creates no node pools and has no GPUs")
            if not config.kubeconfig_context:
                raise ValueError("cluster mode 'kubeconfig' needs kubeconfigContext")
            self.name = pulumi.Output.from_input(config.name)
            self.provider = kubernetes.Provider(
                f"{name}-k8s",
                kubeconfig=config.kubeconfig_path,
                context=config.kubeconfig_context,
                opts=pulumi.ResourceOptions(parent=self),
            )
        elif config.mode == ClusterMode.CREATE:
            self._create(name, args)
        else:
            self._existing(name, args)

        self.register_outputs({
            "name": self.name,
            "kubeconfig": self.kubeconfig,
            "nodePools": {pool: np.node_group.node_group_name for pool, np in self.node_pools.items()},
        })

    # --- create ---------------------------------------------------------------------------
    def _create(self, name: str, args: ClusterArgs) -> None:
        config = args.config
        if args.network is None:
            raise ValueError("cluster mode 'create' needs a Network")
        if not config.admin_principal_arn:
            raise ValueError("cluster mode 'create' needs adminPrincipalArn")
        public_cidrs = args.public_endpoint_cidrs
        public = public_cidrs is not None
        if public and args.is_prod and not public_cidrs:
            raise ValueError("a public API endpoint in prod must be limited by publicAccessCidrs or runnerCidrs")
        if public and not public_cidrs:
            pulumi.log.warn(
                f"cluster {config.name}: the public API endpoint is open to 0.0.0.0/0 (IAM still authenticates); "
                "limit it with cluster.publicAccessCidrs or set cluster.endpointAccess: private", self)
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        tags = {**args.tags, "Name": config.name}

        durable = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self.kms_key = aws.kms.Key(
            f"{name}-secrets",
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {config.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=durable,
        )
        aws.kms.Alias(f"{name}-secrets", name=f"alias/eks/{config.name}", target_key_id=self.kms_key.key_id,
                      opts=child)

        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("eks.amazonaws.com"),
                            description=f"EKS control plane of {config.name}", tags=tags, opts=child)
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-cluster-policy", role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/AmazonEKSClusterPolicy", opts=child,
        )
        # The key policy lets the account's IAM decide; the control plane role gets explicit use of the
        # key, as terraform-aws-eks grants it (its cluster encryption policy).
        key_use = aws.iam.RolePolicy(
            f"{name}-role-secrets-key", role=role.id,
            policy=self.kms_key.arn.apply(secrets_key_policy), opts=child,
        )
        # EKS would create this log group itself, with no retention: create it first to bound the cost.
        # The audit trail outlives the cluster where critical resources are protected (prod).
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/eks/{config.name}/cluster",
            retention_in_days=365 if args.is_prod else 30, tags=tags, opts=durable,
        )

        self.eks_cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=config.name,
            version=config.version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args.network.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": public,
                "public_access_cidrs": public_cidrs or None,
            },
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            bootstrap_self_managed_addons=False,
            enabled_cluster_log_types=[log.value for log in config.control_plane_logs],
            encryption_config={"provider": {"key_arn": self.kms_key.arn}, "resources": ["secrets"]},
            upgrade_policy={"support_type": config.support_type.value},
            deletion_protection=args.protect,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[attachment, key_use, logs]),
        )
        self.name = self.eks_cluster.name

        entry = aws.eks.AccessEntry(
            f"{name}-admin", cluster_name=self.eks_cluster.name, principal_arn=config.admin_principal_arn,
            type="STANDARD", tags=tags, opts=child,
        )
        admin = aws.eks.AccessPolicyAssociation(
            f"{name}-admin",
            cluster_name=self.eks_cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:{partition}:eks::aws:cluster-access-policy/{ADMIN_ACCESS_POLICY}",
            access_scope={"type": "cluster"},
            opts=child,
        )
        deployers = [self._deployer_access(name, arn, partition, tags) for arn in config.deployer_principal_arns]
        self.private_api_ingress = [self._private_api_ingress(name, cidr, tags) for cidr in args.private_endpoint_cidrs]

        pre_compute = [self._addon(name, addon, config.version, tags) for addon in PRE_COMPUTE_ADDONS]
        self.node_role = self._node_role(name, partition, tags)
        self._node_pools(name, args, args.network.private_subnet_ids, config.version, pre_compute)
        post_compute = [self._addon(name, addon, config.version, tags, after=self.system_node_groups) for addon in POST_COMPUTE_ADDONS]
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            self.eks_cluster.name, self.eks_cluster.endpoint, self.eks_cluster.certificate_authority.data,
        ).apply(lambda v: kubeconfig_for_eks(v[0], v[1], v[2], args.region)))
        self._eks_provider(name, [admin, *deployers, *post_compute])

    def _deployer_access(self, name: str, principal_arn: str, partition: str,
                         tags: Mapping[str, str]) -> aws.eks.AccessPolicyAssociation:
        """An access entry with cluster admin for a principal that runs ``pulumi up`` (e.g. a CI role)."""
        assert self.eks_cluster is not None
        suffix = principal_slug(principal_arn)
        child = pulumi.ResourceOptions(parent=self)
        entry = aws.eks.AccessEntry(
            f"{name}-deployer-{suffix}", cluster_name=self.eks_cluster.name, principal_arn=principal_arn,
            type="STANDARD", tags=dict(tags), opts=child,
        )
        return aws.eks.AccessPolicyAssociation(
            f"{name}-deployer-{suffix}",
            cluster_name=self.eks_cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:{partition}:eks::aws:cluster-access-policy/{ADMIN_ACCESS_POLICY}",
            access_scope={"type": "cluster"},
            opts=child,
        )

    def _private_api_ingress(self, name: str, cidr: str, tags: Mapping[str, str]) -> aws.vpc.SecurityGroupIngressRule:
        """443/tcp from ``cidr`` to the private endpoint, on the security group EKS made for the cluster."""
        assert self.eks_cluster is not None
        ipv6 = ipaddress.ip_network(cidr).version == 6
        return aws.vpc.SecurityGroupIngressRule(
            f"{name}-api-from-{cidr_slug(cidr)}",
            security_group_id=self.eks_cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id),
            description=f"Kubernetes API of {self.config_name} from {cidr} (privateAccessCidrs or runnerCidrs)",
            ip_protocol="tcp",
            from_port=API_PORT,
            to_port=API_PORT,
            cidr_ipv4=None if ipv6 else cidr,
            cidr_ipv6=cidr if ipv6 else None,
            tags={**tags, "Name": f"{self.config_name}-api-from-{cidr}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _addon(self, name: str, addon: str, kubernetes_version: str, tags: Mapping[str, str],
               after: Sequence[pulumi.Resource] = ()) -> aws.eks.Addon:
        assert self.eks_cluster is not None
        # Pinned to the newest version EKS publishes for the cluster's minor. Without addon_version EKS
        # installs its default once and never moves it (clusters of one config drift apart, and a
        # control-plane upgrade leaves the add-ons behind); with it, a new add-on release or a new
        # cluster.version shows up as an add-on update in `pulumi preview`.
        version = aws.eks.get_addon_version_output(
            addon_name=addon, kubernetes_version=kubernetes_version, most_recent=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).version
        configuration = ADDON_CONFIGURATION.get(addon)
        return aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.eks_cluster.name,
            addon_name=addon,
            addon_version=version,
            configuration_values=json.dumps(configuration) if configuration is not None else None,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )

    # --- existing -------------------------------------------------------------------------
    def _existing(self, name: str, args: ClusterArgs) -> None:
        config = args.config
        found = aws.eks.get_cluster(name=config.name, opts=pulumi.InvokeOptions(parent=self))
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        self.name = pulumi.Output.from_input(found.name)
        subnets: pulumi.Input[Sequence[str]] = (
            args.network.private_subnet_ids if args.network is not None else list(found.vpc_config.subnet_ids)
        )
        tags = {**args.tags, "Name": config.name}
        if args.node_pools:
            self.node_role = self._node_role(name, partition, tags)
            self._node_pools(name, args, subnets, None, [])
        ca = found.certificate_authorities[0].data if found.certificate_authorities else ""
        self.kubeconfig = pulumi.Output.secret(kubeconfig_for_eks(found.name, found.endpoint, ca, args.region))
        self._eks_provider(name, [])

    # --- shared ---------------------------------------------------------------------------
    def _node_role(self, name: str, partition: str, tags: Mapping[str, str]) -> aws.iam.Role:
        role = aws.iam.Role(f"{name}-node-role", assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                            description=f"EKS nodes of {self.config_name}", tags=dict(tags),
                            opts=pulumi.ResourceOptions(parent=self))
        self._node_role_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-role-{policy}", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in NODE_POLICIES
        ]
        return role

    def _node_pools(self, name: str, args: ClusterArgs, subnets: pulumi.Input[Sequence[str]],
                    version: str | None, after: Sequence[pulumi.Resource]) -> None:
        assert self.node_role is not None
        cluster_name = self.eks_cluster.name if self.eks_cluster is not None else self.name
        for plan in args.node_pools:
            self.node_pools[plan.config.name] = NodePool(
                plan.config.name,
                NodePoolArgs(
                    pool=plan.config,
                    cluster_name=args.config.name,
                    cluster=cluster_name,
                    node_role_arn=self.node_role.arn,
                    subnet_ids=subnets,
                    tags=plan.tags,
                    environment=args.environment,
                    kubernetes_version=version,
                    depends_on=[*after, *self._node_role_policies],
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _eks_provider(self, name: str, after: Sequence[pulumi.Resource]) -> None:
        assert self.kubeconfig is not None
        self.provider = kubernetes.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*after, *self.system_node_groups]),
        )

    @property
    def system_node_groups(self) -> list[aws.eks.NodeGroup]:
        """The CPU pools' node groups: what coredns, the add-ons and every platform pod run on.

        GPU pools may sit at zero (or wait for spot capacity); nothing Kubernetes-side waits for them.
        """
        return [np.node_group for np in self.node_pools.values() if not np.is_gpu]
