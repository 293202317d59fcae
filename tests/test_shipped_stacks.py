"""The stacks users get (stacks/): each validates and previews clean, and the tests do not depend on them.

Behaviour tests run the tests' own stacks (tests/fixtures/project); these and the few tests named in
``SHIPPED_STACK_TESTS`` are the only tests of the shipped files themselves, so a user editing
``stacks/Pulumi.<stack>.yaml`` breaks nothing else.
"""

from __future__ import annotations

import re

import pytest
import yaml

from ai_platform_finops.estimator import BUCKET_STORAGE, IMAGE_STORAGE, estimate
from ai_platform_finops.rates import ECR_STORAGE_GB_MONTH, S3_STANDARD_GB_MONTH

from components.config import POOL_LABEL, ConfigError, StackConfig, validate_flat_config
from components.config.stack import config_warnings
from preflight import cost as finops_cost
from preflight.cost import estimator_resources
from tests.support.fixtures import PROJECT
from tests.support.fixtures import STACKS as FIXTURE_STACKS
from tests.support.shipped import AWS_STACKS, ROOT, STACKS, recorded, stack_source

SHIPPED_STACK_TESTS = {
    "tests/test_shipped_stacks.py": "every shipped stack validates, previews clean and keeps its example values",
    "tests/policypacks/test_policy_stacks.py": "every shipped stack passes its own policy config",
    "tests/preflight/test_fidelity.py": "every shipped stack gets the same verdicts from outputs and from inputs",
    "tests/policypacks/test_publish.py": "the pack as published passes a shipped stack with its shipped config",
    "tests/test_readme_walkthrough.py": "the README's walkthrough edits the shipped dev stack and quotes the result",
    "tests/preflight/test_init.py": "init's templates are the shipped stacks and their pack configs",
    "tests/preflight/advise/test_advise_workflow.py": "the advise workflow's matrix is the shipped AWS stacks",
    "tests/qa/test_bench_synthetic.py": "the bench grows its synthetic stacks from the shipped prod stack",
}
"""The tests whose point is the shipped stacks themselves, and why; every other test runs the tests' own."""
SHIPPED_USE = re.compile(r"tests\.support\.shipped|from tests\.support import shipped|ROOT\s*/\s*\"stacks\"|"
                         r"ROOT\.glob\(\"stacks|read_stack_config\(ROOT|StackSet\(ROOT\)|\"--project-dir\",\s*str\(ROOT\)|"
                         r"(main\(\[|\"preflight\", )\"(preview|advise)\", \"--stack\"(?!.*--project-dir)")
"""The ways a test reaches the shipped stacks (``tests.support`` itself re-exports the fixture stacks), the
last a preflight run without ``--project-dir`` (which reads the repository's stacks/)."""


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


def shipped_stack_users() -> dict[str, list[str]]:
    """Each test file (tests/support aside) that reaches the shipped stacks, with the lines that do."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if not name.startswith("tests/support/"):
            lines = [f"{number}: {line.strip()}" for number, line in enumerate(path.read_text().splitlines(), 1)
                     if SHIPPED_USE.search(line)]
            if lines:
                found[name] = lines
    return found


def test_behaviour_tests_never_read_the_shipped_stacks():
    users = shipped_stack_users()
    assert {name: lines for name, lines in users.items() if name not in SHIPPED_STACK_TESTS} == {}
    assert sorted(SHIPPED_STACK_TESTS) == sorted(users)  # the list names only tests that still need the stacks


def test_the_fixture_stacks_are_the_tests_own_files():
    stacks = sorted((PROJECT / "stacks").glob("Pulumi.*.yaml"))
    assert [p.name for p in stacks] == [f"Pulumi.{s}.yaml" for s in FIXTURE_STACKS]
    assert not set(FIXTURE_STACKS) & set(STACKS)  # named apart: a test never reads a shipped stack by mistake
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


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_shipped_aws_stack_budgets_its_max_cost_with_a_margin(stack):
    """The policy pack's cost-within-budget passes the shipped stacks whatever basis it uses."""
    section = finops_cost.cost_section(recorded(stack), shipped_config(stack))
    for name, figures in section["by_project"].items():
        assert figures["max"] <= 0.85 * figures["budget"], (stack, name, figures)
