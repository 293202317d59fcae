"""Every enum value the model store sends AWS is one the AWS API accepts (botocore's service models).

The values come from the recorded inputs under mocks, so a typo in a component fails here, not at
``pulumi up``.
"""

from __future__ import annotations

from functools import cache

import botocore.session
import pytest

from components.config.model_store import TransitionStorageClass
from tests.components.model_store.test_model_store import (
    ENCRYPTION,
    LIFECYCLE,
    REPOSITORY,
    SCANNING,
    VERSIONING,
    config,
    record,
    store,
)
from tests.support.recordings import one


@cache
def enum(service: str, shape: str) -> frozenset[str]:
    values = botocore.session.get_session().get_service_model(service).shape_for(shape).enum
    assert values, f"{service}:{shape} has no enum"
    return frozenset(values)


def test_repository_values_are_ecr_enums():
    repository = one(store("prod"), REPOSITORY).inputs
    assert repository["imageTagMutability"] in enum("ecr", "ImageTagMutability")
    assert {c["encryptionType"] for c in repository["encryptionConfigurations"]} <= enum("ecr", "EncryptionType")


def test_enhanced_scanning_values_are_ecr_enums():
    from components.model_store.scanning import RegistryScanning
    from program.args import registry_scanning_args

    cfg = config("prod", scanning="enhanced")
    scanning = one(record(lambda: RegistryScanning("scanning", registry_scanning_args(cfg))), SCANNING).inputs
    assert scanning["scanType"] in enum("ecr", "ScanType")
    for rule in scanning["rules"]:
        assert rule["scanFrequency"] in enum("ecr", "ScanFrequency")
        assert {f["filterType"] for f in rule["repositoryFilters"]} <= enum("ecr", "ScanningRepositoryFilterType")


def test_bucket_values_are_s3_enums():
    recording = store("prod")
    (rule,) = one(recording, ENCRYPTION).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in enum("s3", "ServerSideEncryption")
    assert one(recording, VERSIONING).inputs["versioningConfiguration"]["status"] in enum("s3", "BucketVersioningStatus")
    for lifecycle in one(recording, LIFECYCLE).inputs["rules"]:
        assert lifecycle["status"] in enum("s3", "ExpirationStatus")
        for move in lifecycle.get("transitions", []) + lifecycle.get("noncurrentVersionTransitions", []):
            assert move["storageClass"] in enum("s3", "TransitionStorageClass")


@pytest.mark.parametrize("storage_class", list(TransitionStorageClass))
def test_every_storage_class_the_config_offers_is_one_s3_accepts(storage_class):
    assert storage_class.value in enum("s3", "TransitionStorageClass")
