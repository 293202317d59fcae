"""Bad service and project configs fail before any resource, with exact `file: key.path: message` lines."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

import preflight.engine as engine
from components.config import validate_flat_config
from preflight.engine import Recording
from tests.support.fixtures import ConfigEdit, P, errors, preview, stack_source


def service(config: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return config[P + "services"][index]


def capture_recordings(monkeypatch: pytest.MonkeyPatch) -> list[Recording]:
    """Every Recording the engine creates from now on (preview() only returns it on success)."""
    recordings: list[Recording] = []

    class Capturing(Recording):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            recordings.append(self)

    monkeypatch.setattr(engine, "Recording", Capturing)
    return recordings


def program_registers_nothing(stack: str, edit: ConfigEdit, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the real program on the edited stack: it must stop at config, before one resource."""
    recordings = capture_recordings(monkeypatch)
    with pytest.raises(pulumi.RunError) as caught:
        preview(stack, edit)
    assert len(recordings) == 1
    assert recordings[0].resources == [], [r.urn for r in recordings[0].resources]
    return str(caught.value)


def unknown_pool(c: dict[str, Any]) -> None:
    service(c)["nodePool"] = "gpu-h100"


def two_gpus_on_one_gpu_instances(c: dict[str, Any]) -> None:
    service(c)["resources"]["gpus"] = 2
    service(c)["replicas"]["max"] = 1  # keeps the project quota (2 GPUs) out of the picture


def fractional_gpu(c: dict[str, Any]) -> None:
    service(c)["resources"]["gpus"] = 0.5


def latest_in_prod(c: dict[str, Any]) -> None:
    service(c)["model"].update(image="apexlogic/multimodal-model:latest", version="latest")


REQUIRED_CASES = [
    ("sandbox", unknown_pool,
     ["stacks/Pulumi.sandbox.yaml: services[0].nodePool: unknown node pool 'gpu-h100'; known: system, gpu-a10g"]),
    ("sandbox", two_gpus_on_one_gpu_instances,
     ["stacks/Pulumi.sandbox.yaml: services[0].resources.gpus: 2 GPUs per pod, but pool 'gpu-a10g' instances "
      "(g5.xlarge, g5.2xlarge) have 1"]),
    ("sandbox", fractional_gpu,
     ["stacks/Pulumi.sandbox.yaml: services[0].resources.gpus: GPUs are whole: Kubernetes schedules nvidia.com/gpu only "
      "in whole units, so 0.5 cannot be requested; to share a GPU, configure NVIDIA time-slicing or MIG partitions "
      "on the device plugin, or serve several models from one server"]),
    ("live", latest_in_prod,
     ["stacks/Pulumi.live.yaml: services[0].model.image: ':latest' is not allowed in prod; pin a version tag or "
      "@sha256 digest"]),
]


@pytest.mark.parametrize("stack,edit,expected", REQUIRED_CASES, ids=["unknown-pool", "2-gpus-on-1-gpu-type",
                                                                     "fractional-gpu", "latest-in-prod"])
def test_required_bad_configs_say_exactly_what_is_wrong(stack, edit, expected):
    assert errors(stack, edit) == expected


@pytest.mark.parametrize("stack,edit,expected", REQUIRED_CASES, ids=["unknown-pool", "2-gpus-on-1-gpu-type",
                                                                     "fractional-gpu", "latest-in-prod"])
def test_the_program_stops_before_registering_anything(stack, edit, expected, monkeypatch):
    assert program_registers_nothing(stack, edit, monkeypatch).splitlines() == expected


def test_the_unedited_stack_does_register_resources_so_the_check_above_can_fail(monkeypatch):
    recordings = capture_recordings(monkeypatch)
    preview("sandbox")
    assert recordings and recordings[0].resources


@pytest.mark.parametrize("gpus", [1.0, "1", True])
def test_gpus_are_whole_numbers_never_floats_strings_or_booleans(gpus):
    lines = errors("sandbox", lambda c: service(c)["resources"].update(gpus=gpus))
    assert len(lines) == 1 and lines[0].startswith(
        "stacks/Pulumi.sandbox.yaml: services[0].resources.gpus: Input should be a valid integer")


def test_a_gpu_request_below_its_limit_cannot_be_written():
    # requests nvidia.com/gpu "0.5" under limits "1" (a fractional, split request): there is no key for it.
    def split(c: dict[str, Any]) -> None:
        service(c)["resources"].update(requests={"nvidia.com/gpu": "0.5"}, limits={"nvidia.com/gpu": "1"})

    assert errors("sandbox", split) == [
        "stacks/Pulumi.sandbox.yaml: services[0].resources.requests: unknown key; known keys here: gpus, cpu, memory "
        "(see docs/config.md)",
        "stacks/Pulumi.sandbox.yaml: services[0].resources.limits: unknown key; known keys here: gpus, cpu, memory "
        "(see docs/config.md)",
    ]


def test_latest_outside_prod_is_still_refused_as_not_reproducible():
    assert errors("sandbox", latest_in_prod) == [
        "stacks/Pulumi.sandbox.yaml: services[0].model.image: ':latest' is not reproducible; pin a version tag or "
        "@sha256 digest"]


def test_latest_with_a_different_version_is_a_version_mismatch():
    lines = errors("live", lambda c: service(c)["model"].update(image="apexlogic/multimodal-model:latest"))
    assert lines == [
        "stacks/Pulumi.live.yaml: services[0].model: model version 'v1.2.0' does not match the image tag 'latest'; "
        "make them equal or pin the image by @sha256 digest"]


def test_a_digest_pins_the_image_whatever_the_tag():
    digest = "sha256:" + "ab" * 32

    def pinned(c: dict[str, Any]) -> None:
        service(c)["model"].update(image=f"apexlogic/multimodal-model@{digest}", version="v9-any")

    source = stack_source("live", pinned)
    cfg = validate_flat_config(source.config, source.project, source.source)
    assert cfg.services[0].model.image_digest == digest


@pytest.mark.parametrize("edit,expected", [
    (lambda c: service(c)["model"].update(image="Apexlogic/Multimodal Model:v1"),
     "services[0].model.image: 'Apexlogic/Multimodal Model:v1' is not an image reference; use registry/repo:tag "
     "or registry/repo@sha256:<64 hex>"),
    (lambda c: service(c)["model"].update(image="apexlogic/multimodal-model"),
     "services[0].model.image: 'apexlogic/multimodal-model' has neither a tag nor a digest; pin a version tag or "
     "@sha256 digest"),
    (lambda c: service(c)["model"].update(version="v1.3.0"),
     "services[0].model: model version 'v1.3.0' does not match the image tag 'v1.2.0'; make them equal or pin "
     "the image by @sha256 digest"),
    (lambda c: service(c)["model"].update(riskTier="extreme"),
     "services[0].model.riskTier: Input should be 'minimal', 'limited' or 'high' (got 'extreme')"),
    (lambda c: service(c)["model"].update(dataClassification="secret"),
     "services[0].model.dataClassification: Input should be 'public', 'internal', 'confidential' or 'pii' "
     "(got 'secret')"),
    (lambda c: service(c)["ethics"]["evaluation"].update(date="2026-13-02"),
     "services[0].ethics.evaluation.date: Input should be a valid date or datetime, month value is outside "
     "expected range of 1-12 (got '2026-13-02')"),
    (lambda c: service(c)["ethics"]["evaluation"].update(date="last week"),
     "services[0].ethics.evaluation.date: Input should be a valid date or datetime, input is too short "
     "(got 'last week')"),
    (lambda c: service(c)["ethics"]["evaluation"]["metrics"].update(date=1.0),
     "services[0].ethics.evaluation.metrics: metric names ['date'] are reserved (eval-date and eval-report are "
     "set from date and reportUri)"),
    (lambda c: service(c)["model"].update(version="v1+b", image="apexlogic/m@sha256:" + "a" * 64),
     "services[0].model.version: model version 'v1+b' must be 1-63 letters, digits, '-', '_' or '.', starting and "
     "ending alphanumeric (it becomes a Kubernetes label), e.g. v1.2.0"),
    (lambda c: service(c).update(runAsUser=0),
     "services[0].runAsUser: Input should be greater than or equal to 1 (got 0)"),
    (lambda c: service(c)["resources"].update(gpus=0),
     "services[0].nodePool: a CPU-only service must not run on GPU pool 'gpu-a10g'; pick a system pool"),
    (lambda c: service(c).update(nodePool="system"),
     "services[0].nodePool: 1 GPU(s) requested but pool 'system' has no GPUs"),
    (lambda c: (service(c)["replicas"].update(max=3), c[P + "projects"][0]["quota"].update(gpus=8)),
     "services[0].replicas.max: 3 replicas x 1 GPU(s) exceed pool 'gpu-a10g' capacity: 2 nodes x 1 GPU(s) hold "
     "at most 2 such pods"),
    (lambda c: c[P + "projects"][0].update(containerDefaults={"memoryRequest": "2Gi", "memoryLimit": "1Gi"}),
     "projects[0].containerDefaults: memoryRequest '2Gi' exceeds memoryLimit '1Gi'; Kubernetes rejects a "
     "LimitRange whose default request is above its default limit"),
], ids=["malformed-image", "untagged-image", "version-mismatch", "risk-tier", "classification", "bad-month",
        "not-a-date", "reserved-metric", "version-not-a-label", "root-uid", "cpu-on-gpu-pool", "gpu-on-system-pool",
        "pool-capacity", "limit-range-defaults"])
def test_each_class_of_bad_service_or_project_input(edit, expected):
    assert errors("sandbox", edit) == [f"stacks/Pulumi.sandbox.yaml: {expected}"]


def test_pods_do_not_split_across_nodes_when_checking_pool_capacity():
    # 3-GPU pods on 4-GPU nodes: one pod per node, however many GPUs the pool adds up to.
    def three_gpu_pods(c: dict[str, Any]) -> None:
        c[P + "nodePools"][1].update(instanceTypes=["g5.12xlarge"], maxSize=3)
        service(c)["resources"]["gpus"] = 3
        service(c)["replicas"]["max"] = 4
        c[P + "projects"][0]["quota"].update(gpus=12)

    assert errors("sandbox", three_gpu_pods) == [
        "stacks/Pulumi.sandbox.yaml: services[0].replicas.max: 4 replicas x 3 GPU(s) exceed pool 'gpu-a10g' capacity: "
        "3 nodes x 4 GPU(s) hold at most 3 such pods"]


def test_a_cpu_services_quota_leaves_room_for_its_rollout_surge_pod():
    # echo-model: 1 replica of 100m/128Mi and maxSurge 1, so a rollout needs 200m/256Mi. GPU services
    # roll with maxSurge 0 and need only max replicas (see the test below).
    lines = errors("kind", lambda c: c[P + "projects"][0]["quota"].update(cpu="150m", memory="200Mi"))
    assert lines == [
        "stacks/Pulumi.kind.yaml: projects[0].quota.cpu: '150m' is less than the 0.2 cores the project's services "
        "request at max replicas plus their rollout surge (echo-model: (1 + 1 surge) x 100m)",
        "stacks/Pulumi.kind.yaml: projects[0].quota.memory: '200Mi' is less than the 0.25Gi the project's services "
        "request at max replicas plus their rollout surge (echo-model: (1 + 1 surge) x 128Mi)",
    ]
    source = stack_source("kind", lambda c: c[P + "projects"][0]["quota"].update(cpu="200m", memory="256Mi"))
    validate_flat_config(source.config, source.project, source.source)  # exactly enough


def test_project_quota_must_admit_its_services_at_max_replicas():
    lines = errors("sandbox", lambda c: c[P + "projects"][0]["quota"].update(gpus=1, cpu="4", memory="16Gi"))
    assert lines == [
        "stacks/Pulumi.sandbox.yaml: projects[0].quota.gpus: 1 GPU(s) is less than the 2 the project's services need "
        "at max replicas (multimodal-inference-service: 2 x 1)",
        "stacks/Pulumi.sandbox.yaml: projects[0].quota.cpu: '4' is less than the 6 cores the project's services request "
        "at max replicas (multimodal-inference-service: 2 x 3)",
        "stacks/Pulumi.sandbox.yaml: projects[0].quota.memory: '16Gi' is less than the 24Gi the project's services "
        "request at max replicas (multimodal-inference-service: 2 x 12Gi)",
    ]


@pytest.mark.parametrize("name", ["DB_PASSWORD", "hf_token", "AWS_SECRET_ACCESS_KEY", "SIGNING_KEY", "GCP_CREDENTIALS"])
def test_a_secret_looking_env_var_with_a_literal_value_is_refused_without_quoting_it(name):
    lines = errors("sandbox", lambda c: service(c).update(env={name: "hunter2-literal", "LOG_LEVEL": "info"}))
    assert lines == [f"stacks/Pulumi.sandbox.yaml: services[0].env: ['{name}'] look secret but are literal values; "
                     "reference a Kubernetes Secret instead: "
                     f"{name}: {{valueFrom: {{secretKeyRef: {{name: <secret>, key: <key>}}}}}}"]


def test_a_malformed_secret_key_ref_names_the_field():
    lines = errors("sandbox", lambda c: service(c).update(env={"DB_PASSWORD": {"valueFrom": {"secretKeyRef": {"name": "Bad Name"}}}}))
    assert any("services[0].env.DB_PASSWORD" in line and "secretKeyRef.key: is required" in line for line in lines), lines
    assert all("hunter2" not in line for line in lines)
