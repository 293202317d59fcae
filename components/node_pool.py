"""NodePool: one EKS managed node group with its own launch template, ASG tags and schedules.

The details that make GPU capacity correct, cheap when idle and attributable on the bill:

- **Launch template per pool** with ``tag_specifications`` for ``instance``, ``volume`` and
  ``network-interface``: managed node group tags never reach EC2 or EBS, so without this the
  GPU bill cannot be allocated by tag. It also requires IMDSv2 (hop limit 1 unless configured)
  and an encrypted gp3 root volume.
- **NVIDIA AMIs** (``AL2023_x86_64_NVIDIA`` or ``BOTTLEROCKET_x86_64_NVIDIA``): the driver ships in
  the AMI. Labels and taints come from the typed config (``nvidia.com/gpu=true:NoSchedule``).
- **desiredSize is ignored after create**, so ``pulumi up`` never fights the Cluster Autoscaler.
- **Scale from zero**: the Cluster Autoscaler cannot see labels, taints or GPUs of a node that
  does not exist, so the pool's Auto Scaling group carries ``node-template`` tags for them
  (GPU pools' labels include ``k8s.amazonaws.com/accelerator``, the GPU model), plus the
  auto-discovery tags. EKS sets those two on a managed node group's ASG itself, so their Tag
  resources are ``retain_on_delete``: removing ours must not remove EKS's.
- **Off-peak schedules**: two scheduled actions, one to zero and one back to the configured sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.config.node_pools import AmiType, NodePoolConfig, OffPeakSchedule

TYPE = "ai-platform:cluster:NodePool"

CA_PREFIX = "k8s.io/cluster-autoscaler"
NODE_TEMPLATE = f"{CA_PREFIX}/node-template"
DESIRED_SIZE_PATH = "scalingConfig.desiredSize"
"""The Pulumi property path of a node group's desired size (camelCase, as the engine diffs it)."""

TAGGED_RESOURCE_TYPES = ("instance", "volume", "network-interface")
"""Launch template tag specifications: everything a node bills for."""


def autoscaler_discovery_tags(cluster_name: str) -> dict[str, str]:
    """The tags Cluster Autoscaler's ``--node-group-auto-discovery`` looks for (value 'owned')."""
    return {f"{CA_PREFIX}/enabled": "true", f"{CA_PREFIX}/{cluster_name}": "owned"}


def node_template_tags(pool: NodePoolConfig) -> dict[str, str]:
    """Scale-from-zero hints for the Cluster Autoscaler: labels, taints and GPUs of a future node."""
    tags = {f"{NODE_TEMPLATE}/label/{key}": value for key, value in pool.effective_labels.items()}
    for taint in pool.effective_taints:
        tags[f"{NODE_TEMPLATE}/taint/{taint.key}"] = f"{taint.value}:{taint.effect.value}"
    if pool.is_gpu:
        tags[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] = str(pool.gpus_per_instance)
    return tags


def root_device_name(ami_type: AmiType) -> str:
    """The volume the configured disk size applies to.

    AL2023 boots from /dev/xvda. Bottlerocket has a small OS volume on /dev/xvda and keeps
    images and container data on /dev/xvdb, which is the one that must be large.
    """
    return "/dev/xvdb" if ami_type in (AmiType.BOTTLEROCKET, AmiType.BOTTLEROCKET_NVIDIA) else "/dev/xvda"


@dataclass(frozen=True)
class NodePoolArgs:
    """NodePool's inputs: one pool's config and the cluster it joins."""

    pool: NodePoolConfig
    """The pool's config section: instance types, sizes, AMI, taints, labels, schedule."""
    cluster_name: str
    """The EKS cluster's name, as known from config (auto-discovery tag keys are built from it)."""
    cluster: pulumi.Input[str]
    """The cluster name as an Output of the cluster, so the node group waits for it."""
    node_role_arn: pulumi.Input[str]
    """The IAM role the nodes take (the cluster's node role)."""
    subnet_ids: pulumi.Input[Sequence[str]]
    """The private subnets the nodes launch in."""
    tags: Mapping[str, str]
    """The pool's FinOps AWS tags (its project's, or the stack's)."""
    environment: str
    """The stack's environment: decides the default off-peak schedule."""
    kubernetes_version: str | None = None
    """Pin the node group to the control plane's minor version; None follows the cluster."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """Resources nodes need before they can join, e.g. the vpc-cni and kube-proxy add-ons."""

    @property
    def schedule(self) -> OffPeakSchedule | None:
        return self.pool.schedule(self.environment)


class NodePool(pulumi.ComponentResource):
    """One EKS managed node group with its launch template (see the module docstring). Outputs:"""

    is_gpu: bool
    """Whether the pool has GPUs (role 'gpu')."""
    launch_template: aws.ec2.LaunchTemplate
    """The launch template: IMDSv2, encrypted volumes, the pool's tags."""
    node_group: aws.eks.NodeGroup
    """The EKS managed node group."""
    asg_name: pulumi.Output[str]
    """The node group's Auto Scaling group."""
    asg_tags: list[aws.autoscaling.Tag]
    """The ASG tags that describe a node of the pool at zero to the Cluster Autoscaler."""
    schedules: list[aws.autoscaling.Schedule]
    """The off-peak scale-down and scale-up schedules (empty when the pool has none)."""

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        pool = args.pool
        self.is_gpu = pool.is_gpu
        if pool.is_gpu and pool.gpus_per_instance < 1:
            raise ValueError(f"node pool {pool.name!r}: GPU pool instance types {pool.instance_types} have no whole GPU")
        if pool.is_gpu and pool.effective_ami_type not in (AmiType.AL2023_NVIDIA, AmiType.BOTTLEROCKET_NVIDIA):
            raise ValueError(f"node pool {pool.name!r}: a GPU pool needs an NVIDIA AMI, not {pool.effective_ami_type}")
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "Name": f"{args.cluster_name}-{pool.name}"}

        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            name_prefix=f"{args.cluster_name}-{pool.name}-",
            description=f"EKS managed node group {pool.name} of {args.cluster_name}",
            update_default_version=True,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": pool.metadata_hop_limit,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[{
                "device_name": root_device_name(pool.effective_ami_type),
                "ebs": {
                    "volume_size": pool.disk_size_gib,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "delete_on_termination": "true",
                },
            }],
            tag_specifications=[{"resource_type": kind, "tags": tags} for kind in TAGGED_RESOURCE_TYPES],
            tags=tags,
            opts=child,
        )

        self.node_group = aws.eks.NodeGroup(
            f"{name}-ng",
            cluster_name=args.cluster,
            node_group_name_prefix=f"{pool.name}-",
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            version=args.kubernetes_version,
            ami_type=pool.effective_ami_type.value,
            capacity_type=pool.capacity_type.value,
            instance_types=list(pool.instance_types),
            scaling_config={
                "min_size": pool.min_size,
                "max_size": pool.max_size,
                "desired_size": pool.effective_desired_size,
            },
            update_config={"max_unavailable": pool.max_unavailable},
            labels=pool.effective_labels,
            taints=[{"key": t.key, "value": t.value, "effect": t.eks_effect} for t in pool.effective_taints],
            launch_template={"id": self.launch_template.id, "version": self.launch_template.latest_version.apply(str)},
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                ignore_changes=[DESIRED_SIZE_PATH],
            ),
        )
        self.asg_name = self.node_group.resources.apply(_first_asg_name)

        discovery = autoscaler_discovery_tags(args.cluster_name)
        asg_tags = {**node_template_tags(pool), **discovery}
        self.asg_tags = [
            aws.autoscaling.Tag(
                f"{name}-asg-{_short(key, args.cluster_name)}",
                autoscaling_group_name=self.asg_name,
                tag={"key": key, "value": value, "propagate_at_launch": False},
                # EKS sets the discovery tags on a managed node group's ASG itself: deleting our Tag
                # resource would delete EKS's tag too, and the autoscaler would lose the group.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=key in discovery),
            )
            for key, value in asg_tags.items()
        ]

        self.schedules = []
        schedule = args.schedule
        if schedule is not None:
            # (suffix, action, recurrence, min, max, desired): off-peak to zero, then back to config.
            actions = [
                ("down", "off-peak-scale-to-zero", schedule.scale_down, 0, 0, 0),
                ("up", "off-peak-restore", schedule.scale_up, pool.min_size, pool.max_size, pool.effective_desired_size),
            ]
            self.schedules = [
                aws.autoscaling.Schedule(
                    f"{name}-off-peak-{suffix}",
                    autoscaling_group_name=self.asg_name,
                    scheduled_action_name=f"{pool.name}-{action}",
                    recurrence=recurrence,
                    time_zone=schedule.time_zone,
                    min_size=min_size,
                    max_size=max_size,
                    desired_capacity=desired,
                    opts=child,
                )
                for suffix, action, recurrence, min_size, max_size, desired in actions
            ]

        self.register_outputs({
            "nodeGroupName": self.node_group.node_group_name,
            "autoscalingGroupName": self.asg_name,
            "launchTemplateId": self.launch_template.id,
        })


def _first_asg_name(resources: Sequence[aws.eks.outputs.NodeGroupResource] | None) -> str:
    """``resources[0].autoscalingGroups[0].name``: the ASG EKS created for the node group."""
    groups = (resources or [None])[0]
    asgs = groups.autoscaling_groups if groups is not None else None
    if not asgs or asgs[0].name is None:
        raise ValueError("the node group reported no Auto Scaling group")
    return asgs[0].name


def _short(key: str, cluster_name: str) -> str:
    """A readable resource-name suffix for an ASG tag key."""
    short = key.removeprefix(f"{CA_PREFIX}/")
    return "cluster-name" if short == cluster_name else short
