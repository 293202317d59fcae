"""The stack config contract: every fixture stack loads; every class of bad input says exactly what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, validate_flat_config
from tests.support.fixtures import ENVIRONMENT, STACKS, P, errors, load, stack_source


def test_every_fixture_stack_has_its_environment():
    assert STACKS == sorted(ENVIRONMENT)


@pytest.mark.parametrize("stack", STACKS)
def test_every_fixture_stack_loads(stack):
    cfg = load(stack)
    assert cfg.environment.value == ENVIRONMENT[stack]
    assert cfg.tags.problems() == []


def test_environments_differ_as_real_ones_do():
    dev, prod = load("sandbox"), load("live")
    assert all(p.capacity_type.value == "SPOT" and p.min_size == 0 for p in dev.gpu_pools)
    assert all(p.capacity_type.value == "ON_DEMAND" for p in prod.gpu_pools)
    assert dev.protect_critical is False and prod.protect_critical is True
    assert prod.cluster.public_endpoint_cidrs(prod.is_prod) == ["198.51.100.16/28"]
    assert all(svc.replicas.min >= 2 for svc in prod.services)


def set_path(config: dict[str, Any], key: str, path: list[Any], value: Any) -> None:
    node = config[P + key]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def test_wrong_type_names_the_key_and_the_allowed_form():
    lines = errors("sandbox", lambda c: set_path(c, "nodePools", [1, "maxSize"], "lots"))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: nodePools[1].maxSize: Input should be a valid integer, "
        "unable to parse string as an integer (got 'lots')"
    ]


def test_unknown_node_pool_lists_the_known_ones():
    lines = errors("sandbox", lambda c: set_path(c, "services", [0, "nodePool"], "gpu-h100"))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: services[0].nodePool: unknown node pool 'gpu-h100'; known: system, gpu-a10g"
    ]


def test_invalid_label_value_is_rejected_with_the_kubernetes_rule():
    lines = errors("sandbox", lambda c: set_path(c, "nodePools", [1, "labels"], {"team": "ml team"}))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: nodePools[1].labels: label value 'ml team' must be at most 63 characters of "
        "letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    ]


@pytest.mark.parametrize("memory, valid", [("128Gi", True), ("1.5e2Gi", True), ("131072Mi", True), ("0.25Ti", True),
                                           ("-1Gi", False), ("16 Gi", False), (" 16Gi", False), ("16GB", False),
                                           ("", False), ("Gi", False)])
def test_a_quota_is_a_non_negative_kubernetes_quantity(memory, valid):
    def edit(c: dict[str, Any]) -> None:
        set_path(c, "projects", [0, "quota", "memory"], memory)

    if valid:
        assert load("sandbox", edit).projects[0].quota.memory == memory
    else:
        assert errors("sandbox", edit) == [f"stacks/Pulumi.sandbox.yaml: projects[0].quota.memory: {memory!r} is not a "
                                       "Kubernetes quantity; use e.g. '500m', '2', '16Gi'"]


def test_invalid_finops_value_is_rejected():
    lines = errors("sandbox", lambda c: set_path(c, "finops", ["owner"], "ML Platform Team!"))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: finops.owner: label value 'ML Platform Team!' must be at most 63 characters of "
        "letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    ]


def test_fractional_gpu_count_is_not_a_whole_number():
    lines = errors("sandbox", lambda c: set_path(c, "services", [0, "resources", "gpus"], 0.5))
    assert lines == ["stacks/Pulumi.sandbox.yaml: services[0].resources.gpus: GPUs are whole: Kubernetes schedules "
                     "nvidia.com/gpu only in whole units, so 0.5 cannot be requested; to share a GPU, configure "
                     "NVIDIA time-slicing or MIG partitions on the device plugin, or serve several models from one server"]


def test_duplicate_names_are_reported():
    def dup(c):
        c[P + "nodePools"].append(dict(c[P + "nodePools"][1]))

    assert errors("sandbox", dup) == ["stacks/Pulumi.sandbox.yaml: nodePools[2].name: duplicate node pool name 'gpu-a10g'"]


def test_unknown_keys_are_errors_not_silently_ignored():
    lines = errors("sandbox", lambda c: set_path(c, "nodePools", [1, "instanceType"], "g5.xlarge"))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: nodePools[1].instanceType: unknown key; did you mean 'instanceTypes'? "
        "(see docs/config.md)"
    ]
    lines = errors("sandbox", lambda c: c.update({P + "nodepools": []}))
    assert len(lines) == 1 and lines[0].startswith(
        "stacks/Pulumi.sandbox.yaml: ai-platform:nodepools: unknown key; did you mean 'ai-platform:nodePools'? known keys:")


@pytest.mark.parametrize("section, index, typo, meant", [
    ("nodePools", 1, "desired", "desiredSize"),
    ("nodePools", 1, "MaxSize", "maxSize"),
    ("services", 0, "nodepool", "nodePool"),
    ("projects", 0, "sourceRepo", "sourceRepos"),
])
def test_an_unknown_key_suggests_the_closest_known_key(section, index, typo, meant):
    lines = errors("sandbox", lambda c: c[P + section][index].update({typo: c[P + section][index].get(meant, 1)}))
    assert f"{section}[{index}].{typo}: unknown key; did you mean '{meant}'? (see docs/config.md)" in lines[0]


def test_an_unknown_key_with_no_close_match_lists_the_keys_there():
    lines = errors("sandbox", lambda c: set_path(c, "services", [0, "resources", "accelerators"], 1))
    assert lines == ["stacks/Pulumi.sandbox.yaml: services[0].resources.accelerators: unknown key; known keys here: gpus, cpu, "
                     "memory (see docs/config.md)"]


def test_an_ethics_id_in_the_wrong_format_shows_the_format():
    lines = errors("sandbox", lambda c: set_path(c, "services", [0, "ethics", "policyId"], "ETH-1"))
    assert lines == ["stacks/Pulumi.sandbox.yaml: services[0].ethics.policyId: 'ETH-1' is not an ethics policy id; the "
                     "format is policy-<year>-<3 digits>, e.g. policy-2026-001"]
    lines = errors("sandbox", lambda c: c[P + "services"][0]["ethics"].pop("policyId"))
    assert lines[0].startswith("stacks/Pulumi.sandbox.yaml: services[0].ethics.policyId: is required: the approved "
                               "ethics policy's id, policy-<year>-<3 digits> (e.g. policy-2026-001)")


def test_every_problem_is_listed_at_once_one_per_line():
    def many(c):
        set_path(c, "nodePools", [1, "maxSize"], "lots")
        set_path(c, "services", [0, "resources", "gpus"], 1.5)
        set_path(c, "cluster", ["version"], "2.0")
        c[P + "environment"] = "qa"

    lines = errors("sandbox", many)
    assert [line.split(": ")[1] for line in lines] == [
        "environment", "cluster.version", "nodePools[1].maxSize", "services[0].resources.gpus"]
    assert lines[0] == ("stacks/Pulumi.sandbox.yaml: environment: Input should be 'dev', 'staging', 'prod' or 'local' "
                        "(got 'qa')")


def test_gpu_pool_needs_gpu_instance_types_and_ordered_sizes():
    def bad(c):
        set_path(c, "nodePools", [1, "instanceTypes"], ["m6i.large"])
        set_path(c, "nodePools", [0, "desiredSize"], 9)

    assert errors("sandbox", bad) == [
        "stacks/Pulumi.sandbox.yaml: nodePools[0]: sizes must satisfy minSize <= desiredSize <= maxSize, got 2 <= 9 <= 3",
        "stacks/Pulumi.sandbox.yaml: nodePools[1]: instance types ['m6i.large'] are not NVIDIA GPU types in the "
        "catalog; a gpu pool needs e.g. g5.xlarge, g6.xlarge, g5.12xlarge, p5.48xlarge",
    ]


def test_section_of_the_wrong_shape():
    lines = errors("sandbox", lambda c: c.update({P + "nodePools": "gpu"}))
    assert lines == ["stacks/Pulumi.sandbox.yaml: nodePools: must be a structured value (a YAML mapping or list), got 'gpu'"]


def test_missing_required_values():
    assert errors("sandbox", lambda c: c[P + "finops"].pop("owner")) == [
        "stacks/Pulumi.sandbox.yaml: finops.owner: is required: the owner tag value: the team accountable for the spend."]
    assert errors("sandbox", lambda c: c.pop(P + "budgets")) == [
        "stacks/Pulumi.sandbox.yaml: budgets: is required for AWS stacks: every project needs a budget"]


def test_project_without_budget_is_reported():
    lines = errors("live", lambda c: c[P + "budgets"]["monthlyLimitsUsd"].pop("project-atlas"))
    assert lines == [
        "stacks/Pulumi.live.yaml: budgets.monthlyLimitsUsd: project 'project-atlas' has no budget; every billed "
        "project needs one"
    ]


def test_a_secret_section_is_never_quoted_in_errors():
    """`pulumi config set --secret --path ai-platform:cluster.adminPrincipalArn ...` keeps it secret."""
    distinctive = "arn:aws:sts::123456789012:assumed-role/TOPSECRET-session"
    source = stack_source("sandbox", lambda c: set_path(c, "cluster", ["adminPrincipalArn"], distinctive))
    with pytest.raises(ConfigError) as caught:
        validate_flat_config(source.config, source.project, source.source, secret_keys=[P + "cluster"])
    message = str(caught.value)
    assert message.startswith("stacks/Pulumi.sandbox.yaml: cluster.adminPrincipalArn: ")
    assert "TOPSECRET" not in message and "[secret]" in message
    # Without the secret flag the same value is quoted, so the scrubbing above is what hides it.
    with pytest.raises(ConfigError) as plain:
        validate_flat_config(source.config, source.project, source.source)
    assert "TOPSECRET" in str(plain.value)
