"""The model store's policy documents and lifecycle rules: pure builders, plain JSON from plain names."""

from __future__ import annotations

import json
from typing import Any

from pulumi_aws.ecr import RegistryScanningConfigurationRuleArgsDict
from pulumi_aws.s3 import BucketLifecycleConfigurationRuleArgsDict

from components.config.model_store import REPORTS_PREFIX, ModelStoreConfig
from components.iam_policies import policy_document

ECR_ENCRYPTION = "KMS"
"""ECR's encryption type for a KMS key (the AWS managed aws/ecr key unless one is given)."""
S3_ENCRYPTION = "aws:kms"
"""SSE-KMS (the AWS managed aws/s3 key unless one is given)."""
ENHANCED_SCAN_FREQUENCY = "CONTINUOUS_SCAN"
"""Inspector rescans the repositories' images as new CVEs are published, not only on push."""


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def ecr_lifecycle_policy(keep_images: int, untagged_days: int) -> str:
    """Untagged images expire after ``untagged_days``; of the rest, the newest ``keep_images`` stay.

    ECR evaluates rules by priority and requires a ``tagStatus: any`` rule to come last.
    """
    return json.dumps({"rules": [
        {"rulePriority": 1, "description": f"Expire untagged images after {untagged_days} day(s)",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the newest {keep_images} images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
         "action": {"type": "expire"}},
    ]})


def tls_only_policy(bucket: str, partition: str) -> str:
    """Deny every request to the bucket or its objects that does not use TLS."""
    arn = bucket_arn(partition, bucket)
    return policy_document([{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }])


def lifecycle_rules(config: ModelStoreConfig) -> list[BucketLifecycleConfigurationRuleArgsDict]:
    """``BucketLifecycleConfiguration`` rules (snake_case SDK inputs): old versions and old reports move to
    cheaper classes, old versions expire, unfinished multipart uploads are aborted."""
    versions: BucketLifecycleConfigurationRuleArgsDict = {
        "id": "noncurrent-versions",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_transitions": [{"noncurrent_days": config.noncurrent_version_days,
                                            "storage_class": config.noncurrent_version_storage_class.value}],
        "abort_incomplete_multipart_upload": {"days_after_initiation": config.incomplete_upload_days},
    }
    if config.noncurrent_version_expiration_days is not None:
        versions["noncurrent_version_expiration"] = {"noncurrent_days": config.noncurrent_version_expiration_days}
    reports: BucketLifecycleConfigurationRuleArgsDict = {
        "id": "old-reports",
        "status": "Enabled",
        "filter": {"prefix": REPORTS_PREFIX},
        "transitions": [{"days": config.report_days, "storage_class": config.report_storage_class.value}],
    }
    return [versions, reports]


def reader_policy(bucket: str, prefix: str, partition: str, kms_key_arn: str | None = None) -> str:
    """Read ``prefix`` of ``bucket`` and nothing else: GetObject under it, ListBucket limited to it, and
    kms:Decrypt on the store's customer managed key (an AWS managed key needs no grant)."""
    arn = bucket_arn(partition, bucket)
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/{prefix}*"},
        {"Sid": "ListModelArtifacts", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn,
         "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}},
    ]
    if kms_key_arn is not None:
        statements.append({"Sid": "DecryptModelArtifacts", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": kms_key_arn})
    return policy_document(statements)


def enhanced_scanning_rules(repository_prefix: str) -> list[RegistryScanningConfigurationRuleArgsDict]:
    """``RegistryScanningConfiguration`` rules: continuous Inspector scanning of this stack's repositories."""
    return [{"scan_frequency": ENHANCED_SCAN_FREQUENCY,
             "repository_filters": [{"filter": f"{repository_prefix}*", "filter_type": "WILDCARD"}]}]
