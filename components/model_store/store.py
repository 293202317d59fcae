"""ModelStore: one project's ECR repository for model server images and S3 bucket for weights and reports.

Children (every name a plain string from ``components.config.model_store``, known at preview):

- ``aws.ecr.Repository``: immutable tags, scan on push, KMS encryption, the project's FinOps tags;
- ``aws.ecr.LifecyclePolicy``: untagged images expire, the newest ``keep_images`` stay;
- ``aws.s3.Bucket`` with the project's FinOps tags, and beside it ``BucketPublicAccessBlock`` (all four on),
  ``BucketServerSideEncryptionConfiguration`` (SSE-KMS, bucket key on), ``BucketVersioning`` (Enabled),
  ``BucketPolicy`` (deny requests without TLS) and ``BucketLifecycleConfiguration`` (old versions and
  old reports to cheaper classes).

The bucket's satellites take the bucket *name* (a plain string, so the pack links them to the bucket by
name at preview) and depend on the bucket explicitly. With ``protect``, the repository and the bucket
are protected and retained on delete: a stack's removal never takes a model's images or weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.model_store import ModelStoreConfig
from components.model_store.documents import (
    ECR_ENCRYPTION,
    S3_ENCRYPTION,
    ecr_lifecycle_policy,
    lifecycle_rules,
    tls_only_policy,
)

TYPE = "ai-platform:artifacts:ModelStore"


@dataclass(frozen=True)
class ModelStoreArgs:
    """One project's store, resolved from the stack config."""

    config: ModelStoreConfig
    """The stack's modelStore section: retention, lifecycle days, scanning and KMS key."""
    project: str
    """The project the store belongs to (its FinOps project tag)."""
    repository: str
    """The ECR repository name (``components.config.model_store.repository_name``)."""
    bucket: str
    """The S3 bucket name (``components.config.model_store.bucket_name``)."""
    partition: str
    """The AWS partition (``aws``, ``aws-cn``...) of the bucket's ARN in the TLS-only policy."""
    tags: Mapping[str, str]
    """The project's FinOps tags, on the repository and the bucket."""
    protect: bool = False
    """protect and retain_on_delete on the repository and the bucket (prod)."""


class ModelStore(pulumi.ComponentResource):
    """A project's model store: images in ECR, weights and evaluation reports in S3."""

    repository: aws.ecr.Repository
    """The ECR repository (immutable tags, scanned, KMS-encrypted)."""
    bucket: aws.s3.Bucket
    """The S3 bucket (private, SSE-KMS, versioned, TLS only)."""
    repository_url: pulumi.Output[str]
    """``<account>.dkr.ecr.<region>.amazonaws.com/<repository>``: where to push the project's images."""
    bucket_name: str
    """The bucket's name: weights under ``weights/``, evaluation reports under ``reports/``."""

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        config = args.config
        tags = dict(args.tags)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        encryption: aws.ecr.RepositoryEncryptionConfigurationArgsDict = {"encryption_type": ECR_ENCRYPTION}
        if config.kms_key_arn is not None:
            encryption["kms_key"] = config.kms_key_arn

        self.repository = aws.ecr.Repository(
            f"{name}-images",
            name=args.repository,
            image_tag_mutability="IMMUTABLE",
            # With enhanced scanning the registry's configuration (RegistryScanning) decides; scan on push stays on.
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[encryption],
            tags=tags,
            opts=kept,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-images",
            repository=args.repository,
            policy=ecr_lifecycle_policy(config.keep_images, config.untagged_image_days),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.repository]),
        )

        self.bucket = aws.s3.Bucket(f"{name}-artifacts", bucket=args.bucket, tags=tags, opts=kept)
        after_bucket = pulumi.ResourceOptions(parent=self, depends_on=[self.bucket])
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-artifacts", bucket=args.bucket, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=after_bucket)
        default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = {
            "sse_algorithm": S3_ENCRYPTION}
        if config.kms_key_arn is not None:
            default["kms_master_key_id"] = config.kms_key_arn
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-artifacts", bucket=args.bucket,
            rules=[{"apply_server_side_encryption_by_default": default, "bucket_key_enabled": True}],
            opts=after_bucket)
        versioning = aws.s3.BucketVersioning(
            f"{name}-artifacts", bucket=args.bucket, versioning_configuration={"status": "Enabled"}, opts=after_bucket)
        # After the access block: a policy put races it otherwise (both edit the bucket's policy state).
        aws.s3.BucketPolicy(
            f"{name}-artifacts", bucket=args.bucket, policy=tls_only_policy(args.bucket, args.partition),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket, access_block]))
        # Noncurrent-version rules need versioning in place first.
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts", bucket=args.bucket, rules=lifecycle_rules(config),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket, versioning]))

        self.repository_url = self.repository.repository_url
        self.bucket_name = args.bucket
        self.register_outputs({"repositoryUrl": self.repository_url, "bucket": args.bucket,
                               "scanning": config.scanning.value})

