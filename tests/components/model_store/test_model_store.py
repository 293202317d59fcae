"""ModelStore, ModelAccess and RegistryScanning under mocks: the recorded inputs and options of their children."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

import pytest

import tests.support.builders as b
from components.config import StackConfig
from components.model_store.access import ModelAccess
from components.model_store.documents import ecr_lifecycle_policy, reader_policy, tls_only_policy
from components.model_store.scanning import RegistryScanning
from components.model_store.store import ModelStore
from preflight.engine import RecordedResource, Recording, run_program
from program.args import model_access_args, model_store_args, registry_scanning_args
from tests.support.fixtures import ROOT, stack_source
from tests.support.recordings import one

REPOSITORY, LIFECYCLE_POLICY = "aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy"
BUCKET = "aws:s3/bucket:Bucket"
ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
BUCKET_CHILDREN = (ACCESS_BLOCK, ENCRYPTION, VERSIONING, BUCKET_POLICY, LIFECYCLE)
KEY = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TAG = "finops.example.org/"


def record(build: Callable[[], object]) -> Recording:
    """Only ``build``'s resources, registered under the mocks preflight uses (no stack file's program)."""
    def program() -> None:
        build()

    return run_program(ROOT, stack_source("sandbox"), program=program)


def config(environment: str, **store: object) -> StackConfig:
    return b.build(b.stored_stack(environment, modelStore=b.model_store(**store)))


@cache
def store(environment: str, kms: bool = False) -> Recording:
    cfg = config(environment, **({"kmsKeyArn": KEY} if kms else {}))
    return record(lambda: ModelStore("team-a-store", model_store_args(cfg, cfg.projects[0])))


def children(recording: Recording, component: str) -> list[RecordedResource]:
    parent = one(recording, component).urn
    return [r for r in recording.resources if r.parent == parent]


def test_the_repository_is_named_immutable_scanned_kms_encrypted_and_tagged():
    repository = one(store("dev"), REPOSITORY).inputs
    assert repository["name"] == "test-dev/team-a"
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    assert repository["tags"][TAG + "project"] == "team-a" and repository["tags"][TAG + "environment"] == "dev"
    with_key = one(store("dev", kms=True), REPOSITORY).inputs
    assert with_key["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY}]


def test_the_lifecycle_policy_names_the_repository_and_keeps_the_configured_number():
    recording = store("dev")
    policy = one(recording, LIFECYCLE_POLICY)
    assert policy.inputs["repository"] == "test-dev/team-a"
    assert json.loads(policy.inputs["policy"]) == json.loads(ecr_lifecycle_policy(10, 1))
    assert one(recording, REPOSITORY).urn in policy.options["dependsOn"]


def test_the_bucket_is_named_and_tagged_and_its_settings_name_it_and_wait_for_it():
    recording = store("dev")
    bucket = one(recording, BUCKET)
    assert bucket.inputs["bucket"] == "acme-test-dev-team-a-models"
    assert bucket.inputs["tags"][TAG + "project"] == "team-a"
    for type_ in BUCKET_CHILDREN:
        child = one(recording, type_)
        assert child.inputs["bucket"] == "acme-test-dev-team-a-models", type_
        assert bucket.urn in child.options["dependsOn"], type_


def test_the_bucket_is_private_kms_encrypted_with_a_bucket_key_versioned_and_tls_only():
    recording = store("dev")
    block = one(recording, ACCESS_BLOCK).inputs
    assert [block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")] \
        == [True, True, True, True]
    (rule,) = one(recording, ENCRYPTION).inputs["rules"]
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}
    (keyed,) = one(store("dev", kms=True), ENCRYPTION).inputs["rules"]
    assert keyed["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    assert one(recording, VERSIONING).inputs["versioningConfiguration"] == {"status": "Enabled"}
    policy = one(recording, BUCKET_POLICY)
    assert json.loads(policy.inputs["policy"]) == json.loads(tls_only_policy("acme-test-dev-team-a-models", "aws"))
    assert one(recording, ACCESS_BLOCK).urn in policy.options["dependsOn"]


def test_the_lifecycle_moves_old_versions_and_old_reports_after_versioning_is_on():
    recording = store("dev")
    lifecycle = one(recording, LIFECYCLE)
    versions, reports = lifecycle.inputs["rules"]
    assert versions["noncurrentVersionTransitions"] == [{"noncurrentDays": 30, "storageClass": "STANDARD_IA"}]
    assert versions["noncurrentVersionExpiration"] == {"noncurrentDays": 365}
    assert reports["filter"] == {"prefix": "reports/"}
    assert reports["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    assert one(recording, VERSIONING).urn in lifecycle.options["dependsOn"]


@pytest.mark.parametrize(("environment", "kept"), [("prod", True), ("dev", False)])
def test_prod_protects_and_retains_the_repository_and_the_bucket(environment, kept):
    recording = store(environment)
    for type_ in (REPOSITORY, BUCKET):
        options = one(recording, type_).options
        assert (options["protect"], options["retainOnDelete"]) == (kept, kept), type_
    for type_ in BUCKET_CHILDREN:  # settings follow their bucket; protecting them would only block edits
        assert one(recording, type_).options["protect"] is False


def test_every_child_belongs_to_the_component_and_names_are_known_at_preview():
    recording = store("prod")
    kids = children(recording, "ai-platform:artifacts:ModelStore")
    assert sorted(k.type for k in kids) == sorted((REPOSITORY, LIFECYCLE_POLICY, BUCKET, *BUCKET_CHILDREN))
    for kid in kids:
        for key in ("name", "bucket", "repository", "policy"):
            value = kid.inputs.get(key)
            assert value is None or isinstance(value, str) and "04da6b54" not in value, (kid.type, key)


@cache
def access(kms: bool = False) -> Recording:
    cfg = config("prod", **({"kmsKeyArn": KEY} if kms else {}))
    return record(lambda: ModelAccess("svc-a", model_access_args(cfg, cfg.services[0], "test-prod")))


def test_the_service_role_trusts_pod_identity_only_and_reads_only_its_prefix():
    recording = access()
    trust = json.loads(one(recording, ROLE).inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                   "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    assert one(recording, ROLE).inputs["tags"][TAG + "project"] == "team-a"
    # Named, so the RolePolicy names its role with a plain string at preview.
    assert one(recording, ROLE).inputs["name"] == "test-prod-svc-a-model-reader"
    assert one(recording, ROLE_POLICY).inputs["role"] == "test-prod-svc-a-model-reader"
    assert one(recording, ROLE).urn in one(recording, ROLE_POLICY).options["dependsOn"]
    policy = json.loads(one(recording, ROLE_POLICY).inputs["policy"])
    assert policy == json.loads(reader_policy("acme-test-prod-team-a-models", "weights/model-a/1.0.0/", "aws"))
    keyed = json.loads(one(access(kms=True), ROLE_POLICY).inputs["policy"])
    assert keyed["Statement"][-1]["Action"] == "kms:Decrypt" and keyed["Statement"][-1]["Resource"] == KEY


def test_the_association_binds_the_services_account_in_its_namespace_after_the_policy():
    recording = access()
    association = one(recording, ASSOCIATION)
    assert {k: association.inputs[k] for k in ("clusterName", "namespace", "serviceAccount")} == {
        "clusterName": "test-prod", "namespace": "team-a", "serviceAccount": "svc-a"}
    assert "roleArn" in association.inputs
    assert one(recording, ROLE_POLICY).urn in association.options["dependsOn"]


def test_enhanced_scanning_covers_the_stacks_repositories_continuously():
    cfg = config("prod", scanning="enhanced")
    recording = record(lambda: RegistryScanning("scanning", registry_scanning_args(cfg)))
    scanning = one(recording, SCANNING).inputs
    assert scanning["scanType"] == "ENHANCED"
    assert scanning["rules"] == [{"scanFrequency": "CONTINUOUS_SCAN",
                                  "repositoryFilters": [{"filter": "test-prod/*", "filterType": "WILDCARD"}]}]
