"""modelStore and model.artifactUri: what the config accepts, and one `file: key.path: what is wrong` line otherwise."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.support.builders as b
from components.config import ConfigError
from components.config.model_store import (
    MAX_BUCKET_NAME,
    bucket_name,
    key_prefix_problem,
    partition_of,
    reader_role_name,
    repository_name,
    split_s3_uri,
)

SOURCE = "test-stack.yaml"
REPOSITORY, BUCKET = b.store_names()


def problems(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        b.build(values, SOURCE)
    return str(caught.value).splitlines()


def with_model(**model: Any) -> dict[str, Any]:
    svc = b.stored_service()
    svc["model"] = {**svc["model"], **model}
    return b.stored_stack(services=[svc])


def with_report(uri: str) -> dict[str, Any]:
    svc = b.stored_service()
    svc["ethics"]["evaluation"]["reportUri"] = uri
    return b.stored_stack(services=[svc])


def test_a_stack_whose_services_use_their_projects_store_is_accepted():
    cfg = b.build(b.stored_stack())
    assert cfg.model_store is not None and cfg.model_store.keep_images == 10
    assert (cfg.store_repository(b.PROJECT_NAME), cfg.store_bucket(b.PROJECT_NAME)) == (REPOSITORY, BUCKET)
    assert cfg.services[0].model.artifact_uri == f"s3://{BUCKET}/weights/model-a/1.0.0/"


def test_without_a_model_store_nothing_changes_and_names_are_none():
    cfg = b.build()
    assert cfg.model_store is None and cfg.store_bucket(b.PROJECT_NAME) is None
    assert cfg.store_repository(b.PROJECT_NAME) is None


@pytest.mark.parametrize(("values", "expected"), [
    pytest.param(with_model(artifactUri=f"s3://{b.NAME_PREFIX}-test-dev-team-b-models/weights/m/1/"),
                 f"services[0].model.artifactUri: bucket '{b.NAME_PREFIX}-test-dev-team-b-models' is not the "
                 f"project's model store '{BUCKET}' (e.g. s3://{BUCKET}/weights/<model>/<version>/)",
                 id="another-projects-bucket"),
    pytest.param(with_model(artifactUri=f"s3://{BUCKET}/weights/m/1"),
                 f"services[0].model.artifactUri: 's3://{BUCKET}/weights/m/1' must end with '/' (a prefix: "
                 "weights/m/1/), so the pod's role cannot read a sibling such as weights/m/10/",
                 id="no-trailing-slash"),
    pytest.param(with_model(artifactUri=f"s3://{BUCKET}/"),
                 f"services[0].model.artifactUri: 's3://{BUCKET}/' points at the bucket root; name a prefix such as "
                 "weights/<model>/<version>/", id="bucket-root"),
    pytest.param(with_model(artifactUri=f"s3://{BUCKET}/weights/*/"),
                 f"services[0].model.artifactUri: 's3://{BUCKET}/weights/*/' may use only letters, digits and . _ = + - "
                 "between '/' (no wildcards, no empty or dot segments)", id="wildcard"),
    pytest.param(with_model(artifactUri=f"s3://{BUCKET}/weights//m/"),
                 f"services[0].model.artifactUri: 's3://{BUCKET}/weights//m/' may use only letters, digits and . _ = + "
                 "- between '/' (no wildcards, no empty or dot segments)", id="empty-segment"),
    pytest.param(with_model(image="registry.example.org/model-a:1.0.0"),
                 "services[0].model.image: 'registry.example.org' is not a private ECR registry "
                 f"(<account>.dkr.ecr.<region>.amazonaws.com); push the image to the project's repository {REPOSITORY}",
                 id="image-from-another-registry"),
    pytest.param(with_model(image=f"{b.REGISTRY}/test-dev/team-b:1.0.0"),
                 f"services[0].model.image: repository 'test-dev/team-b' is not the project's repository "
                 f"'{REPOSITORY}'; push the image there", id="image-from-another-projects-repository"),
    pytest.param(with_model(image=f"210987654321.dkr.ecr.eu-west-1.amazonaws.com/{REPOSITORY}:1.0.0"),
                 "services[0].model.image: registry '210987654321.dkr.ecr.eu-west-1.amazonaws.com' is in eu-west-1, "
                 f"not the stack's region us-east-1; push the image to the project's repository {REPOSITORY}",
                 id="image-from-another-region"),
    pytest.param(with_model(image="model-a:1.0.0"),
                 "services[0].model.image: 'model-a:1.0.0' names no registry; push it to the project's repository "
                 f"<account>.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}", id="image-without-registry"),
    pytest.param(with_report("https://models.example.org/model-a/eval"),
                 "services[0].ethics.evaluation.reportUri: 'https://models.example.org/model-a/eval' is not in the "
                 f"project's model store; put the report at s3://{BUCKET}/reports/<model>/<version>/report.json",
                 id="report-elsewhere"),
    pytest.param(with_report(f"s3://{BUCKET}/weights/model-a/report.json"),
                 f"services[0].ethics.evaluation.reportUri: 's3://{BUCKET}/weights/model-a/report.json' is not an "
                 "object under reports/ (where the old-reports lifecycle rule applies); use "
                 f"s3://{BUCKET}/reports/<model>/<version>/report.json", id="report-outside-reports"),
    pytest.param(b.stack(services=[b.service(model={**b.service()["model"],
                                                    "artifactUri": "s3://bucket-x/weights/m/"})]),
                 "services[0].model.artifactUri: needs modelStore: the weights live in the project's model store "
                 "bucket, which the stack then creates", id="artifact-without-a-store"),
])
def test_a_store_problem_is_one_line_naming_the_key(values, expected):
    assert problems(values) == [f"{SOURCE}: {expected}"]


def test_a_bucket_name_longer_than_s3_allows_points_at_the_name_prefix():
    prefix = "a" * 41  # the services still point at the acme bucket: other lines follow
    lines = problems(b.stored_stack(modelStore=b.model_store(namePrefix=prefix)))
    name = bucket_name(prefix, "test-dev", b.PROJECT_NAME)
    assert len(name) > MAX_BUCKET_NAME
    assert f"{SOURCE}: modelStore.namePrefix: bucket name '{name}' (project 'team-a', projects[0]) is {len(name)} " \
           f"characters; S3 allows 63: shorten namePrefix (buckets are <namePrefix>-<cluster.name>-<project>-models)" \
           in lines


@pytest.mark.parametrize(("store", "expected"), [
    ({"namePrefix": "xn--acme"}, "modelStore.namePrefix: S3 reserves bucket names starting with xn--, sthree-, "
                                 "amzn-s3-demo-"),
    ({"namePrefix": "Acme"}, "modelStore.namePrefix: 'Acme' is not a valid name"),
    ({"namePrefix": "acme", "noncurrentVersionDays": 7},
     "modelStore: noncurrentVersionDays 7 is below 30: S3 moves objects to STANDARD_IA only after 30 days"),
    ({"namePrefix": "acme", "reportDays": 10, "reportStorageClass": "ONEZONE_IA"},
     "modelStore: reportDays 10 is below 30: S3 moves objects to ONEZONE_IA only after 30 days"),
    ({"namePrefix": "acme", "noncurrentVersionExpirationDays": 30},
     "modelStore: noncurrentVersionExpirationDays 30 must be later than noncurrentVersionDays 30"),
    ({"namePrefix": "acme", "kmsKeyArn": "alias/models"}, "modelStore.kmsKeyArn: String should match pattern"),
    ({"namePrefix": "acme", "scanning": "deep"}, "modelStore.scanning: Input should be 'basic' or 'enhanced'"),
    ({"namePrefix": "acme", "keepImages": 0}, "modelStore.keepImages: Input should be greater than or equal to 1"),
    ({"keepImages": 5}, "modelStore.namePrefix: is required: the start of every bucket name"),
])
def test_bad_store_settings_are_refused_with_the_key(store, expected):
    lines = problems(b.stored_stack(modelStore=store))
    assert any(line.startswith(f"{SOURCE}: {expected}") for line in lines), lines


def test_glacier_classes_accept_short_transitions_and_expiration_can_be_off():
    cfg = b.build(b.stored_stack(modelStore=b.model_store(
        noncurrentVersionDays=1, noncurrentVersionStorageClass="GLACIER_IR", noncurrentVersionExpirationDays=None,
        reportDays=1, kmsKeyArn="arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab")))
    assert cfg.model_store is not None and cfg.model_store.noncurrent_version_expiration_days is None


def test_the_local_stack_may_not_declare_a_store():
    values = b.stack("local", cluster={"mode": "kubeconfig", "name": "kind", "kubeconfigContext": "kind-kind"},
                     nodePools=[b.system_pool()], services=[], modelStore=b.model_store(),
                     finops={"tagPrefix": "finops.example.org", "costCenter": "cc-1", "project": b.PROJECT_NAME,
                             "tier": "development", "owner": b.OWNER})
    values.pop("budgets")
    assert f"{SOURCE}: modelStore: the local stack has no AWS account; remove it" in problems(values)


@pytest.mark.parametrize("name", ["MODEL_ARTIFACT_URI", "AWS_REGION"])
def test_the_weights_contract_variables_are_the_platforms(name):
    svc = b.stored_service(env={name: "x"})
    lines = problems(b.stored_stack(services=[svc]))
    assert lines == [f"{SOURCE}: services[0].env: ['{name}'] are set by the platform (model.version, "
                     "ethics.policyId, the model cache path and model.artifactUri); remove them from env"]


# --- the pure helpers ------------------------------------------------------------------------------

def test_names_and_uris():
    assert repository_name("c", "p") == "c/p"
    assert bucket_name("acme", "c", "p") == "acme-c-p-models"
    assert split_s3_uri("s3://b/k/x/") == ("b", "k/x/")
    assert split_s3_uri("s3://b") is None and split_s3_uri("https://b/k") is None
    assert [partition_of(r) for r in ("us-east-1", "cn-north-1", "us-gov-west-1")] == ["aws", "aws-cn", "aws-us-gov"]
    assert reader_role_name("c", "s") == "c-s-model-reader"


@given(st.from_regex(r"[a-z][a-z0-9-]{0,61}[a-z0-9]", fullmatch=True),
       st.from_regex(r"[a-z][a-z0-9-]{0,61}[a-z0-9]", fullmatch=True))
def test_reader_role_names_fit_iam_and_stay_apart(cluster, service):
    name = reader_role_name(cluster, service)
    assert len(name) <= 64 and re.fullmatch(r"[A-Za-z0-9+=,.@_-]+", name)
    assert name == reader_role_name(cluster, service)
    if len(f"{cluster}-{service}-model-reader") > 64:
        assert name != reader_role_name(cluster, service + "x")


SEGMENT = st.from_regex(r"[A-Za-z0-9._=+-]{1,12}", fullmatch=True).filter(lambda s: s not in (".", ".."))


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_a_prefix_of_plain_segments_ending_in_a_slash_is_accepted(segments):
    key = "/".join(segments) + "/"
    assert key_prefix_problem(key) is None
    assert key_prefix_problem(key[:-1]) is not None  # the same without its slash would reach siblings


@given(st.text(min_size=1, max_size=30))
def test_an_accepted_prefix_never_holds_an_iam_wildcard(key):
    if key_prefix_problem(key) is None:
        assert key.endswith("/") and "*" not in key and "?" not in key and "//" not in key
