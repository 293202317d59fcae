"""Model stores: per project, an ECR repository for model server images and an S3 bucket for weights
and evaluation reports. Every store name is computed here and nowhere else.

Names are plain strings known at preview (never autonamed), so policy documents built from them are
plain strings too, and the policy pack can read them:

- repository: ``<cluster>/<project>`` (ECR names are per account and region; the cluster keeps stacks
  that share an account apart);
- bucket: ``<namePrefix>-<cluster>-<project>-models`` (S3 names are global; the prefix makes them yours);
- a service's weights reader role: ``<cluster>-<service>-model-reader`` (IAM names are per account; a
  name over 64 characters is cut and ends in a hash of the whole).

Layout of a bucket (the contract the lifecycle rules and the config checks rely on):
``weights/<model>/<version>/`` for weights (``services[].model.artifactUri``) and
``reports/<model>/<version>/...`` for evaluation reports (``services[].ethics.evaluation.reportUri``).
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, DnsLabel

REPORTS_PREFIX = "reports/"
"""Where evaluation reports live in a project's bucket; the old-reports lifecycle rule filters on it."""
WEIGHTS_PREFIX = "weights/"
"""Where weights conventionally live in a project's bucket (``weights/<model>/<version>/``)."""
BUCKET_SUFFIX = "-models"
MAX_BUCKET_NAME = 63
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f][0-9a-f-]{7,127}$"


def repository_name(cluster: str, project: str) -> str:
    """The project's ECR repository name."""
    return f"{cluster}/{project}"


def bucket_name(name_prefix: str, cluster: str, project: str) -> str:
    """The project's S3 bucket name."""
    return f"{name_prefix}-{cluster}-{project}{BUCKET_SUFFIX}"


MAX_ROLE_NAME = 64


def reader_role_name(cluster: str, service: str) -> str:
    """The IAM role a service's pods read their weights with."""
    name = f"{cluster}-{service}-model-reader"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_ROLE_NAME - 9]}-{digest}"


def partition_of(region: str) -> str:
    """The AWS partition of ``region`` (for ARNs), without an invoke: cn-* is aws-cn, us-gov-* aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def s3_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


_S3_URI = re.compile(r"^s3://(?P<bucket>[^/\s]+)/(?P<key>\S*)$")
_KEY_PREFIX = re.compile(r"^(?:[A-Za-z0-9._=+-]+/)+$")


def split_s3_uri(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key`` URI, or None."""
    match = _S3_URI.fullmatch(uri)
    return (match.group("bucket"), match.group("key")) if match else None


def key_prefix_problem(key: str) -> str | None:
    """Why ``key`` cannot be a weights prefix a role is scoped to, or None.

    A prefix ends in '/': ``weights/m/v1`` would also grant ``weights/m/v10/``. No wildcard or odd
    character: ``*`` and ``?`` are wildcards in IAM resource ARNs.
    """
    if not key:
        return "points at the bucket root; name a prefix such as weights/<model>/<version>/"
    if not key.endswith("/"):
        return f"must end with '/' (a prefix: {key}/), so the pod's role cannot read a sibling such as {key}0/"
    if not _KEY_PREFIX.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        return "may use only letters, digits and . _ = + - between '/' (no wildcards, no empty or dot segments)"
    return None


class ScanningMode(StrEnum):
    """How pushed images are scanned for vulnerabilities."""

    BASIC = "basic"
    """ECR basic scanning on push (free)."""
    ENHANCED = "enhanced"
    """Amazon Inspector enhanced scanning of this stack's repositories (billed per image by Inspector)."""


class TransitionStorageClass(StrEnum):
    """S3 storage classes a lifecycle rule may move objects to (the S3 API's TransitionStorageClass)."""

    STANDARD_IA = "STANDARD_IA"
    ONEZONE_IA = "ONEZONE_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER_IR = "GLACIER_IR"
    GLACIER = "GLACIER"
    DEEP_ARCHIVE = "DEEP_ARCHIVE"


MIN_DAYS = {TransitionStorageClass.STANDARD_IA: 30, TransitionStorageClass.ONEZONE_IA: 30}
"""S3 rejects a transition to an Infrequent Access class before an object is 30 days old."""

Days = Annotated[int, Field(ge=1, le=36_500)]


class ModelStoreConfig(ConfigModel):
    """Per project: an ECR repository (immutable tags, scanned, KMS-encrypted, expiring old images) and an S3
    bucket for weights and evaluation reports (private, SSE-KMS, versioned, TLS only, with lifecycle rules).
    Protected and retained on delete where the stack protects critical resources (prod)."""

    name_prefix: DnsLabel = Field(description="The start of every bucket name: S3 bucket names are global, so use "
                                              "your organisation's own (e.g. 'acme'). Buckets are named "
                                              "<namePrefix>-<cluster.name>-<project>-models.")
    kms_key_arn: Annotated[str, Field(pattern=_KMS_KEY_ARN)] | None = Field(
        default=None,
        description="A customer managed KMS key (its key ARN, not an alias) for the repositories and buckets; the "
                    "services' roles get kms:Decrypt on it. Default: the AWS managed keys (aws/ecr, aws/s3), no "
                    "key-month charge.")
    scanning: ScanningMode = Field(default=ScanningMode.BASIC, description="'basic' (ECR scan on push, free) or "
                                   "'enhanced' (Amazon Inspector, continuous, billed per image; sets the account's "
                                   "registry scanning configuration, so only one stack per account may use it).")
    keep_images: Annotated[int, Field(ge=1, le=1000)] = 10
    """Images kept per repository (the newest); older ones expire. Keep more than the versions any stack still runs."""
    untagged_image_days: Days = 1
    """Days after which an untagged image (a pushed-over build) expires."""
    noncurrent_version_days: Days = 30
    """Days after an object is overwritten or deleted before its old version moves to noncurrentVersionStorageClass."""
    noncurrent_version_storage_class: TransitionStorageClass = TransitionStorageClass.STANDARD_IA
    """Where old object versions go."""
    noncurrent_version_expiration_days: Days | None = 365
    """Days after which old object versions are deleted (none: kept forever)."""
    report_days: Days = 90
    """Days after which evaluation reports (under reports/) move to reportStorageClass."""
    report_storage_class: TransitionStorageClass = TransitionStorageClass.GLACIER_IR
    """Where old evaluation reports go (Glacier Instant Retrieval stays readable in milliseconds)."""
    incomplete_upload_days: Days = 7
    """Days after which an unfinished multipart upload (e.g. an interrupted weights upload) is aborted."""

    @field_validator("name_prefix")
    @classmethod
    def _bucket_prefix(cls, value: str) -> str:
        if value.startswith(_RESERVED_BUCKET_PREFIXES):
            raise ValueError(f"S3 reserves bucket names starting with {', '.join(_RESERVED_BUCKET_PREFIXES)}")
        return value

    @model_validator(mode="after")
    def _days(self) -> "ModelStoreConfig":
        for days, storage_class, key in ((self.noncurrent_version_days, self.noncurrent_version_storage_class,
                                          "noncurrentVersionDays"),
                                         (self.report_days, self.report_storage_class, "reportDays")):
            least = MIN_DAYS.get(storage_class)
            if least is not None and days < least:
                raise ValueError(f"{key} {days} is below {least}: S3 moves objects to {storage_class.value} only "
                                 f"after {least} days")
        expire = self.noncurrent_version_expiration_days
        if expire is not None and expire <= self.noncurrent_version_days:
            raise ValueError(f"noncurrentVersionExpirationDays {expire} must be later than noncurrentVersionDays "
                             f"{self.noncurrent_version_days} (old versions move first, then expire)")
        return self

    def repository(self, cluster: str, project: str) -> str:
        return repository_name(cluster, project)

    def bucket(self, cluster: str, project: str) -> str:
        return bucket_name(self.name_prefix, cluster, project)
