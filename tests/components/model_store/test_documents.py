"""components/model_store/documents.py: the lifecycle rules and policy documents, from plain names."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from components.config.model_store import ModelStoreConfig, TransitionStorageClass
from components.model_store.documents import (
    bucket_arn,
    ecr_lifecycle_policy,
    enhanced_scanning_rules,
    lifecycle_rules,
    reader_policy,
    tls_only_policy,
)

KEY = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_ecr_lifecycle_expires_untagged_first_and_keeps_the_newest_n_last():
    rules = json.loads(ecr_lifecycle_policy(keep_images=7, untagged_days=2))["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2]
    untagged, keep = rules
    assert untagged["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 2}
    # ECR requires the tagStatus "any" rule to have the lowest priority (the highest number).
    assert keep["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 7}
    assert {r["action"]["type"] for r in rules} == {"expire"}


def test_tls_only_policy_denies_plain_http_on_the_bucket_and_its_objects():
    policy = json.loads(tls_only_policy("b-models", "aws-cn"))
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Resource"] == ["arn:aws-cn:s3:::b-models", "arn:aws-cn:s3:::b-models/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_rules_follow_the_config_days_and_classes():
    config = ModelStoreConfig(name_prefix="acme", noncurrent_version_days=45,
                              noncurrent_version_storage_class=TransitionStorageClass.GLACIER_IR,
                              noncurrent_version_expiration_days=400, report_days=120,
                              report_storage_class=TransitionStorageClass.DEEP_ARCHIVE, incomplete_upload_days=3)
    versions, reports = lifecycle_rules(config)
    assert versions == {
        "id": "noncurrent-versions", "status": "Enabled", "filter": {"prefix": ""},
        "noncurrent_version_transitions": [{"noncurrent_days": 45, "storage_class": "GLACIER_IR"}],
        "noncurrent_version_expiration": {"noncurrent_days": 400},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 3},
    }
    assert reports == {"id": "old-reports", "status": "Enabled", "filter": {"prefix": "reports/"},
                       "transitions": [{"days": 120, "storage_class": "DEEP_ARCHIVE"}]}


def test_old_versions_are_kept_when_expiration_is_off():
    versions, _ = lifecycle_rules(ModelStoreConfig(name_prefix="acme", noncurrent_version_expiration_days=None))
    assert "noncurrent_version_expiration" not in versions


def test_reader_policy_reads_one_prefix_and_decrypts_only_with_a_given_key():
    policy = json.loads(reader_policy("b-models", "weights/m/1/", "aws"))
    assert policy["Statement"] == [
        {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::b-models/weights/m/1/*"},
        {"Sid": "ListModelArtifacts", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b-models",
         "Condition": {"StringLike": {"s3:prefix": ["weights/m/1/", "weights/m/1/*"]}}},
    ]
    with_key = json.loads(reader_policy("b-models", "weights/m/1/", "aws", KEY))["Statement"]
    assert with_key[-1] == {"Sid": "DecryptModelArtifacts", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}


SEGMENTS = st.lists(st.from_regex(r"[a-z0-9.-]{1,8}", fullmatch=True).filter(lambda s: s not in (".", "..")),
                    min_size=1, max_size=4)


@given(SEGMENTS, SEGMENTS)
def test_a_readers_grant_never_covers_a_sibling_prefix(mine, other):
    prefix, theirs = "/".join(mine) + "/", "/".join(other) + "/"
    statements = json.loads(reader_policy("b", prefix, "aws"))["Statement"]
    allowed = {s["Action"]: s for s in statements}
    granted = allowed["s3:GetObject"]["Resource"].removeprefix("arn:aws:s3:::b/").removesuffix("*")
    assert granted == prefix
    # An object of another prefix is readable only when that prefix lies inside this one.
    assert (theirs + "x").startswith(granted) == theirs.startswith(prefix)
    assert {a for a in allowed} == {"s3:GetObject", "s3:ListBucket"}


def test_bucket_arn_and_enhanced_scanning_filter():
    assert bucket_arn("aws", "b") == "arn:aws:s3:::b"
    assert enhanced_scanning_rules("c/") == [{"scan_frequency": "CONTINUOUS_SCAN", "repository_filters": [
        {"filter": "c/*", "filter_type": "WILDCARD"}]}]
