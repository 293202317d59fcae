"""The stacks users get (stacks/): each validates and previews clean, and the tests do not depend on them.

Behaviour tests run the tests' own stacks (tests/fixtures/project); these are the only tests of the
shipped files themselves, so a user editing ``stacks/Pulumi.<stack>.yaml`` breaks nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ai_platform_finops.estimator import BUCKET_STORAGE, IMAGE_STORAGE, estimate
from ai_platform_finops.rates import ECR_STORAGE_GB_MONTH, S3_STANDARD_GB_MONTH

from components.config import POOL_LABEL, ConfigError, StackConfig, validate_flat_config
from components.config.stack import config_warnings
from preflight.cost import estimator_resources
from tests.support.fixtures import PROJECT
from tests.support.shipped import AWS_STACKS, ROOT, STACKS, recorded, stack_source

BEHAVIOUR_TESTS = ("tests/components", "tests/config", "tests/observability", "tests/program",
                   "tests/test_kubernetes_schemas.py")
"""Tests of components, config and program behaviour: they run the fixture stacks, never the shipped ones."""
SHIPPED_USE = re.compile(r"from tests\.support(\.shipped)? import|tests\.support\.shipped|ROOT\s*/\s*\"stacks\"")


def shipped_config(stack: str) -> StackConfig:
    source = stack_source(stack)
    return validate_flat_config(source.config, source.project, source.source)


def test_the_shipped_stacks_are_the_four_environments():
    assert STACKS == ["dev", "local", "prod", "staging"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_validates_and_previews_without_an_error(stack):
    cfg = shipped_config(stack)
    assert cfg.environment.value == stack
    recording = recorded(stack)
    assert recording.resources
    assert [message for severity, message in recording.logs if severity == "error"] == []
    assert recording.outputs["environment"] == stack


def test_the_kind_config_makes_the_context_and_pool_label_the_local_stack_expects():
    kind = yaml.safe_load((ROOT / "stacks" / "kind-cluster.yaml").read_text())
    cfg = shipped_config("local")
    assert f"kind-{kind['name']}" == cfg.cluster.kubeconfig_context
    (node,) = kind["nodes"]
    assert node["labels"] == {POOL_LABEL: cfg.system_pool.name}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_shipped_aws_stack_keeps_example_values_so_it_is_refused_for_real(stack):
    source = stack_source(stack)
    with pytest.raises(ConfigError):
        validate_flat_config(source.config, source.project, source.source, source.secret_keys, for_real=True)
    validate_flat_config(source.config, source.project, source.source, source.secret_keys)


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_the_shipped_spot_gpu_pools_list_several_types_with_one_gpu_model(stack):
    cfg = shipped_config(stack)
    for gpu_pool in cfg.gpu_pools:
        assert gpu_pool.capacity_type == "SPOT" and len(gpu_pool.instance_types) >= 2
        assert gpu_pool.accelerator == "nvidia-a10g"
    assert config_warnings(cfg) == []


def behaviour_test_files() -> list[Path]:
    files: list[Path] = []
    for entry in BEHAVIOUR_TESTS:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def test_behaviour_tests_never_read_the_shipped_stacks():
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in behaviour_test_files()
                 for number, line in enumerate(path.read_text().splitlines(), 1) if SHIPPED_USE.search(line)]
    assert offenders == []


def test_the_fixture_stacks_are_the_tests_own_files():
    stacks = sorted((PROJECT / "stacks").glob("Pulumi.*.yaml"))
    assert [p.name for p in stacks] == [f"Pulumi.{s}.yaml" for s in STACKS]
    assert not any(p.is_symlink() for p in stacks)
    assert (PROJECT / "Pulumi.yaml").resolve() == ROOT / "Pulumi.yaml"


STORE_TYPES = ("aws:ecr/repository:Repository", "aws:s3/bucket:Bucket")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_shipped_aws_stack_gives_each_project_a_store_its_services_use(stack):
    cfg = shipped_config(stack)
    assert cfg.model_store is not None
    recording = recorded(stack)
    names = {t: sorted(r.inputs["name" if t.startswith("aws:ecr") else "bucket"] for r in recording.of_type(t))
             for t in STORE_TYPES}
    assert names == {STORE_TYPES[0]: sorted(str(cfg.store_repository(p.name)) for p in cfg.projects),
                     STORE_TYPES[1]: sorted(str(cfg.store_bucket(p.name)) for p in cfg.projects)}
    assert cfg.services
    for service in cfg.services:
        repository, bucket = cfg.store_repository(service.project), cfg.store_bucket(service.project)
        assert service.model.image.split("@")[0].split(":")[0].endswith(f".amazonaws.com/{repository}")
        assert service.model.artifact_uri is not None and service.model.artifact_uri.startswith(f"s3://{bucket}/weights/")
        assert service.ethics.evaluation.report_uri.startswith(f"s3://{bucket}/reports/")
        reader = next(r for r in recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r.inputs.get("serviceAccount") == service.name)
        assert reader.inputs["namespace"] == service.project
    if cfg.is_prod:
        assert all(s.model.image_digest is not None for s in cfg.services)
        for type_ in STORE_TYPES:
            assert all(r.options["protect"] and r.options["retainOnDelete"] for r in recording.of_type(type_))


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_shipped_aws_stack_prices_each_projects_store_storage(stack):
    cfg = shipped_config(stack)
    usage = cfg.finops.usage
    result = estimate(estimator_resources(recorded(stack)), region=cfg.region or "", default_project=cfg.finops.project,
                      project_tag_key=cfg.tags.key("project"), usage=cfg.finops.usage_assumptions)
    lines = {(i.type, i.project): i.figures.expected for i in result.items if i.type in (BUCKET_STORAGE, IMAGE_STORAGE)}
    expected = {}
    for project in cfg.projects:
        expected[(BUCKET_STORAGE, project.name)] = round(usage.model_bucket_gb_per_project * S3_STANDARD_GB_MONTH.usd, 2)
        expected[(IMAGE_STORAGE, project.name)] = round(usage.model_images_gb_per_project * ECR_STORAGE_GB_MONTH.usd, 2)
    assert lines == expected and all(value > 0 for value in lines.values())
