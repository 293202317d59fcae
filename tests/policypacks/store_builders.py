"""Model store and workload identity resources, in the shape the ModelStore and ModelAccess components
register them (camelCase inputs; bucket configuration resources name the bucket by a plain string;
the role policy and the Pod Identity association take the role's computed id/ARN, so the engine
records a property dependency on the role)."""

from __future__ import annotations

import json
from typing import Any

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ECR = "aws:ecr/repository:Repository"
BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"


def bucket_name(project: str) -> str:
    return f"apexlogic-ai-platform-prod-{project}-models"


def tls_policy(bucket: str) -> str:
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def repository(project: str = "project-nova", name: str | None = None, env: str = "prod", **over: Any
               ) -> RecordedResource:
    inputs: dict[str, Any] = {
        "name": name or f"ai-platform-prod/{project}", "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True}, "encryptionConfigurations": [{"encryptionType": "KMS"}],
        "tags": b.tags(env, project)}
    inputs.update(over)
    return b.res(ECR, f"{project}-images", inputs)


def bucket_store(project: str = "project-nova", *, drop: tuple[str, ...] = (), bucket_over: dict[str, Any] | None = None,
                 name: str | None = None, env: str = "prod", **over: dict[str, Any]) -> list[RecordedResource]:
    """A bucket and its five configuration resources; ``drop`` leaves kinds out, ``over`` edits one's inputs."""
    name = name or bucket_name(project)
    parts: dict[str, tuple[str, dict[str, Any]]] = {
        "pab": ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                {"bucket": name, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
                 "restrictPublicBuckets": True}),
        "sse": ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                {"bucket": name, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                                            "bucketKeyEnabled": True}]}),
        "versioning": ("aws:s3/bucketVersioning:BucketVersioning",
                       {"bucket": name, "versioningConfiguration": {"status": "Enabled"}}),
        "policy": ("aws:s3/bucketPolicy:BucketPolicy", {"bucket": name, "policy": tls_policy(name)}),
        "lifecycle": ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                      {"bucket": name, "rules": [{"id": "noncurrent-versions", "status": "Enabled"}]}),
    }
    bucket = b.res(BUCKET, f"{project}-artifacts", {"bucket": name, "tags": b.tags(env, project),
                                                     **(bucket_over or {})})
    found = [bucket]
    for kind, (type_, inputs) in parts.items():
        if kind in drop:
            continue
        found.append(b.res(type_, f"{project}-artifacts-{kind}", {**inputs, **over.get(kind, {})}, deps=[bucket.urn]))
    return found


def store(project: str = "project-nova") -> list[RecordedResource]:
    return [repository(project), *bucket_store(project)]


def reader_policy(bucket: str, prefix: str = "weights/multimodal-model/v1.2.0/") -> str:
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/{prefix}*"},
        {"Sid": "ListModelArtifacts", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn,
         "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}}]})


def access(policy: str | Any, *, namespace: str = "project-nova", service_account: str = "default",
           name: str = "multimodal", role_inputs: dict[str, Any] | None = None, env: str = "prod"
           ) -> list[RecordedResource]:
    """ModelAccess: a role, its inline RolePolicy (linked by dependency) and the Pod Identity association."""
    role = b.res(ROLE, f"{name}-model-reader", {
        "assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}]}),
        "tags": b.tags(env), **(role_inputs or {})})
    role_policy = b.res("aws:iam/rolePolicy:RolePolicy", f"{name}-model-reader-read", {"role": UNKNOWN, "policy": policy},
                        prop_deps={"role": [role.urn]}, deps=[role.urn])
    association = b.res("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"{name}-model-reader-pods", {
        "clusterName": "ai-platform-prod", "namespace": namespace, "serviceAccount": service_account,
        "roleArn": UNKNOWN, "tags": b.tags(env)}, prop_deps={"roleArn": [role.urn]}, deps=[role.urn])
    return [role, role_policy, association]


GOOD_REPORT_BUCKET = "apexlogic-model-evals"
"""The bucket of the good stack's evaluation report annotation."""


def good_store(env: str = "prod") -> list[RecordedResource]:
    """project-nova's store as the good stack has it: the bucket its evaluation report is in, its
    workload's read-only role and, in prod (where its image is an ECR one; elsewhere a Docker Hub one),
    the repository its image names."""
    repositories = [repository(name="multimodal-model", env=env)] if env == "prod" else []
    return [*repositories, *bucket_store(name=GOOD_REPORT_BUCKET, env=env),
            *access(reader_policy(GOOD_REPORT_BUCKET), env=env)]


def bare(stack: list[RecordedResource]) -> list[RecordedResource]:
    """The good stack without its store (samples that build their own)."""
    names = {r.urn for r in good_store("prod")}
    return [r for r in stack if r.urn not in names]
