"""ModelAccess: a service's read-only identity for its weights, through EKS Pod Identity.

Children: an ``aws.iam.Role`` (named, so its RolePolicy names it with a plain string) that only ``pods.eks.amazonaws.com`` may assume (``sts:AssumeRole`` and
``sts:TagSession``), an ``aws.iam.RolePolicy`` that reads one prefix of one bucket (``documents.reader_policy``)
and an ``aws.eks.PodIdentityAssociation`` binding the role to the service's ServiceAccount. The cluster's
``eks-pod-identity-agent`` add-on hands the pods the role's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam_policies import assume_role_policy
from components.model_store.documents import reader_policy

TYPE = "ai-platform:artifacts:ModelAccess"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


@dataclass(frozen=True)
class ModelAccessArgs:
    """One service's access to its weights, resolved from the stack config."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the association is made in (Cluster.name)."""
    role_name: str
    """The role's name (``components.config.model_store.reader_role_name``)."""
    namespace: str
    """The service's namespace (its project)."""
    service_account: str
    """The service's ServiceAccount (the InferenceService names it after the service)."""
    bucket: str
    """The project's model store bucket."""
    prefix: str
    """The weights prefix inside the bucket, ending with '/' (from model.artifactUri)."""
    partition: str
    """The AWS partition of the bucket's ARN."""
    tags: Mapping[str, str]
    """The project's FinOps tags, on the role and the association."""
    kms_key_arn: str | None = None
    """The store's customer managed key, if any: the role may decrypt with it."""


class ModelAccess(pulumi.ComponentResource):
    """Read access to one weights prefix for one service's pods."""

    role: aws.iam.Role
    """The role the pods assume through EKS Pod Identity."""
    policy: str
    """The role's only policy document (JSON): GetObject and ListBucket on the prefix, kms:Decrypt on a CMK."""
    association: aws.eks.PodIdentityAssociation
    """The Pod Identity association of the ServiceAccount and the role."""

    def __init__(self, name: str, args: ModelAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        tags = dict(args.tags)
        self.policy = reader_policy(args.bucket, args.prefix, args.partition, args.kms_key_arn)
        self.role = aws.iam.Role(
            f"{name}-model-reader",
            name=args.role_name,
            assume_role_policy=assume_role_policy(POD_IDENTITY_PRINCIPAL),
            description=f"{args.namespace}/{args.service_account}: read s3://{args.bucket}/{args.prefix}",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-model-reader", name="model-artifacts-read", role=args.role_name, policy=self.policy,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role]))
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}-model-reader",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=self.role.arn,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.register_outputs({"roleArn": self.role.arn})
