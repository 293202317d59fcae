"""Every rendered Kubernetes object passes the Kubernetes OpenAPI schema of the stack's cluster version.

- Every stack: each recorded ``kubernetes:`` resource of a built-in API group is validated with
  ``kubernetes_validate.validate(obj, cfg.cluster.version, strict=True)`` (strict: unknown fields
  fail). What has no built-in schema is skipped by an explicit list (Helm releases, CRDs such as
  argoproj.io, partial ``...Patch`` objects); anything else fails until someone classifies it.
- Hypothesis: any service config the contract accepts renders objects that pass the schema and
  never carry a fractional or request-only GPU; any config with a non-integer GPU count is refused.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from functools import lru_cache
from typing import Any

import kubernetes_validate
import pytest
from ai_platform_finops.catalog import gpu_count
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import tests.support.builders as b
from components.config import (
    GPU_PRESENT_LABEL,
    GPU_RESOURCE,
    ConfigError,
    StackConfig,
    validate_flat_config,
)
from components.config.services import PLATFORM_ENV
from components.inference.render import manifests as service_manifests
from components.project_namespace import manifests as project_manifests
from preflight.engine import SECRET_SIG, SIG_KEY, RecordedResource
from program.args import inference_service_args, project_namespace_args
from tests.support.fixtures import STACKS, preview, stack_source

P = "ai-platform:"

BUILTIN_GROUPS = frozenset({
    "core", "apps", "autoscaling", "policy", "batch", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "apiregistration.k8s.io", "events.k8s.io", "resource.k8s.io",
})
"""API groups whose schemas kubernetes-validate ships: every object in them is validated."""

SKIPPED_GROUPS = {
    "helm.sh": "a Helm release is not a Kubernetes object (its chart's objects are rendered by Helm)",
    "yaml": "a component that renders manifests; its objects are recorded on their own",
    "kustomize": "a component that renders manifests; its objects are recorded on their own",
    "argoproj.io": "Argo CD CRDs: kubernetes-validate ships no schema for custom resources",
    "monitoring.coreos.com": "Prometheus Operator CRDs: checked against the pinned CRDs' own schemas in "
                             "tests/observability/test_crd_schemas.py",
}
"""Groups skipped on purpose, each with the reason."""


def group_of(type_token: str) -> str:
    """``kubernetes:networking.k8s.io/v1:NetworkPolicy`` -> ``networking.k8s.io``."""
    return type_token.split(":")[1].split("/")[0]


def unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def cluster_version(stack: str) -> str:
    source = stack_source(stack)
    return validate_flat_config(source.config, source.project, source.source).cluster.version


def schema_check(obj: dict[str, Any], version: str) -> None:
    """Validate ``obj`` and make sure the schema used is the cluster's own version, not a fallback."""
    used = kubernetes_validate.validate(obj, version, strict=True)
    assert used == version, f"validated against {used}, cluster runs {version}"


def builtin_objects(resources: list[RecordedResource]) -> list[RecordedResource]:
    checked = []
    for resource in resources:
        if not (resource.custom and resource.type.startswith("kubernetes:")):
            continue
        group = group_of(resource.type)
        if group in SKIPPED_GROUPS or resource.type.endswith("Patch"):
            continue  # Patch objects are partial by design: required fields may be absent
        assert group in BUILTIN_GROUPS, (
            f"{resource.type}: unclassified API group {group!r}; add it to BUILTIN_GROUPS (it has a schema) or to "
            "SKIPPED_GROUPS with the reason")
        checked.append(resource)
    return checked


@pytest.fixture(scope="module", params=STACKS)
def stack_objects(request) -> tuple[str, str, list[RecordedResource]]:
    stack = request.param
    return stack, cluster_version(stack), builtin_objects(preview(stack).resources)


def test_every_rendered_kubernetes_object_of_every_stack_passes_the_schema(stack_objects):
    stack, version, objects = stack_objects
    kinds = {r.inputs["kind"] for r in objects}
    # The tenancy and inference objects are there to be checked (an empty list would prove nothing).
    assert {"Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Deployment", "Service",
            "HorizontalPodAutoscaler"} <= kinds, (stack, kinds)
    for resource in objects:
        try:
            schema_check(unwrap_secrets(resource.inputs), version)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{stack}: {resource.urn}: {exc.message} at {list(exc.absolute_path)}")


def test_prod_renders_the_policy_objects_too(stack_objects):
    stack, _, objects = stack_objects
    if stack == "prod":
        assert {"PodDisruptionBudget", "NetworkPolicy"} <= {r.inputs["kind"] for r in objects}


def test_strict_validation_rejects_what_the_api_server_would(stack_objects):
    stack, version, objects = stack_objects
    deployment = next(copy.deepcopy(r.inputs) for r in objects if r.inputs["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        schema_check(deployment, version)
    deployment = next(copy.deepcopy(r.inputs) for r in objects if r.inputs["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"  # wrong type
    with pytest.raises(kubernetes_validate.ValidationError):
        schema_check(deployment, version)


def test_unclassified_groups_are_not_silently_skipped():
    fake = RecordedResource(urn="u", type="kubernetes:example.com/v1:Widget", name="w", parent="", custom=True,
                            inputs={}, options={})
    with pytest.raises(AssertionError, match="unclassified API group 'example.com'"):
        builtin_objects([fake])


# --- hypothesis: any accepted service config renders valid objects ------------------------------

GPU_TYPES = ["g5.xlarge", "g5.12xlarge", "g6.xlarge", "p4d.24xlarge", "g5.48xlarge"]
TAG = st.from_regex(r"v[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True)
ENV_NAME = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in PLATFORM_ENV)
PATH = st.from_regex(r"/[a-z0-9/_.-]{0,24}", fullmatch=True)
METRIC = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True).filter(lambda m: m not in ("date", "report"))
QUANTITY_CPU = st.sampled_from(["100m", "250m", "1", "2", "3.5", "16"])
QUANTITY_MEMORY = st.sampled_from(["128Mi", "512Mi", "1Gi", "1.5Gi", "12Gi", "64Gi"])


@lru_cache(maxsize=1)
def dev_config() -> dict[str, Any]:
    """The dev stack's config, decoded once (each example edits a deep copy)."""
    captured: dict[str, Any] = {}
    stack_source("dev", lambda c: captured.update(copy.deepcopy(c)))
    return captured


@st.composite
def stack_edits(draw: st.DrawFn) -> dict[str, Any]:
    """A service, its pool and its project; mostly consistent (so most examples are accepted), sometimes not."""
    instance_types = draw(st.lists(st.sampled_from(GPU_TYPES), min_size=1, max_size=2, unique=True))
    per_node = min(gpu_count(t) for t in instance_types)
    gpus: Any = draw(st.integers(0, per_node))
    if draw(st.integers(0, 9)) == 0:  # one example in ten tries a GPU count that is not a whole number
        gpus = draw(st.one_of(st.floats(0, 4, allow_nan=False), st.sampled_from([0.5, 1.0, 2.5, "1"])))
    whole = gpus if isinstance(gpus, int) and gpus > 0 else 1
    replicas_min = draw(st.integers(1, 4))
    replicas_max = draw(st.integers(replicas_min, 8))
    cpu, memory = draw(QUANTITY_CPU), draw(QUANTITY_MEMORY)
    tag = draw(TAG)
    digest = draw(st.one_of(st.none(), st.from_regex(r"[a-f0-9]{64}", fullmatch=True)))
    image = f"registry.example.com:5000/ml/model:{tag}" + (f"@sha256:{digest}" if digest else "")
    service = {
        "name": draw(st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)),
        "project": "project-nova",
        "nodePool": "system" if gpus == 0 else "gpu-a10g",
        "model": {
            "name": "model", "version": tag, "image": image,
            "modelCardUrl": "https://models.example.com/card",
            "riskTier": draw(st.sampled_from(["minimal", "limited", "high"])),
            "dataClassification": draw(st.sampled_from(["public", "internal", "confidential", "pii"])),
            "owner": "oversight@example.com",
            "intendedUse": draw(st.text(min_size=10, max_size=80)),
            "explainabilityUrl": draw(st.one_of(st.none(), st.just("https://models.example.com/why"))),
            "auditLogging": draw(st.booleans()),
        },
        "ethics": {"policyId": "policy-2026-001", "evaluation": {
            "reportUri": "s3://evals/report.json",
            "date": draw(st.dates()).isoformat(),
            "metrics": draw(st.dictionaries(METRIC, st.floats(-1e6, 1e6, allow_nan=False), max_size=3)),
        }},
        "resources": {"gpus": gpus, "cpu": cpu, "memory": memory},
        "replicas": {"min": replicas_min, "max": replicas_max},
        "targetCpuUtilization": draw(st.integers(10, 100)),
        "port": draw(st.integers(1024, 65535)),
        "env": draw(st.dictionaries(ENV_NAME, st.text(max_size=30), max_size=3)),
        "probes": {"readinessPath": draw(PATH), "livenessPath": draw(PATH),
                   "startupTimeoutSeconds": draw(st.integers(10, 3600))},
        "args": draw(st.lists(st.text(max_size=20), max_size=3)),
        "runAsUser": draw(st.integers(1, 2**31 - 1)),
        "automountServiceAccountToken": draw(st.booleans()),
    }
    pods_per_node = per_node // whole
    gpu_pool: dict[str, Any] = {
        "name": "gpu-a10g", "role": "gpu", "instanceTypes": instance_types, "minSize": 0,
        "maxSize": -(-replicas_max // pods_per_node) + draw(st.integers(-1, 3)),  # now and then one node short
        "labels": draw(st.dictionaries(st.sampled_from(["team", "accelerator", "example.com/tier"]),
                                       st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True), max_size=2)),
    }
    gpu_pool["maxSize"] = max(gpu_pool["maxSize"], 1)
    if draw(st.booleans()):
        gpu_pool["taints"] = draw(st.lists(st.fixed_dictionaries({
            "key": st.sampled_from([GPU_RESOURCE, "dedicated", "example.com/reserved"]),
            "value": st.sampled_from(["", "true", "inference"]),
            "effect": st.sampled_from(["NoSchedule", "NoExecute", "PreferNoSchedule"])}), max_size=2,
            unique_by=lambda t: (t["key"], t["effect"])))
    project = {
        "name": "project-nova",
        # Now and then one GPU short of what the service needs at max replicas.
        "quota": {"gpus": max(0, replicas_max * whole * (gpus != 0) + draw(st.integers(-1, 4))),
                  "cpu": draw(st.sampled_from(["1000", "2000"])), "memory": draw(st.sampled_from(["4Ti", "600Gi"]))},
        "containerDefaults": {"cpuRequest": draw(QUANTITY_CPU), "memoryRequest": "128Mi",
                              "memoryLimit": draw(QUANTITY_MEMORY)},
        **draw(st.sampled_from([{}, {"networkPolicy": False, "networkPolicyOptOutReason": "a tenant that opted out"}])),
        "allowedEgressCidrs": draw(st.lists(st.sampled_from(["10.0.0.0/8", "192.168.4.0/24"]), max_size=2, unique=True)),
        "allowedIngressNamespaces": draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
                                                  max_size=3, unique=True)),
        "allowSameNamespace": draw(st.booleans()),
        "podSecurity": draw(st.sampled_from(["restricted", "baseline", "privileged"])),
    }
    return {"service": service, "pool": gpu_pool, "project": project,
            "prod_placement": draw(st.booleans())}


def accepted(edits: dict[str, Any]) -> StackConfig | ConfigError:
    def edit(c: dict[str, Any]) -> None:
        c.clear()
        c.update(copy.deepcopy(dev_config()))
        c[P + "services"] = [edits["service"]]
        c[P + "nodePools"][1] = edits["pool"]
        c[P + "projects"] = [edits["project"]]

    source = stack_source("dev", edit)
    try:
        return validate_flat_config(source.config, source.project, source.source)
    except ConfigError as exc:
        return exc


def assert_whole_limited_gpus(deployment: dict[str, Any], gpus: int) -> None:
    pod = deployment["spec"]["template"]["spec"]
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        resources = container.get("resources", {})
        request = resources.get("requests", {}).get(GPU_RESOURCE)
        limit = resources.get("limits", {}).get(GPU_RESOURCE)
        assert request is None or request == limit, f"request-only or unequal GPU: {resources}"
        if gpus == 0:
            assert limit is None
        else:
            assert isinstance(limit, str) and re.fullmatch(r"[1-9][0-9]*", limit) and int(limit) == gpus, resources
    if gpus == 0:
        assert all(t["key"] != GPU_RESOURCE for t in pod.get("tolerations", [])), "a CPU pod tolerates the GPU taint"
        assert GPU_PRESENT_LABEL not in pod.get("nodeSelector", {})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_edits())
def test_any_accepted_service_config_renders_schema_valid_objects_with_whole_limited_gpus(edits):
    gpus = edits["service"]["resources"]["gpus"]
    result = accepted(edits)
    if isinstance(result, ConfigError):
        note(str(result))
        event("refused: " + ", ".join(sorted({path for path, _ in result.problems})))
        if isinstance(gpus, float) and not gpus.is_integer():
            assert "services[0].resources.gpus: GPUs are whole:" in str(result)
        elif isinstance(gpus, float) or isinstance(gpus, str):
            assert "services[0].resources.gpus: Input should be a valid integer" in str(result)
        return
    assert isinstance(gpus, int), f"a non-integer GPU count {gpus!r} was accepted"
    event(f"accepted: {'gpu' if gpus else 'cpu'} service")
    cfg = result
    version = cfg.cluster.version
    service = cfg.services[0]
    args = dataclasses.replace(inference_service_args(cfg, service, namespace=service.project),
                               spread_across_zones=edits["prod_placement"])
    objects = service_manifests(args) + project_manifests(project_namespace_args(cfg, cfg.projects[0]))
    for obj in objects:
        try:
            schema_check(obj, version)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}: {exc.message} at {list(exc.absolute_path)}")
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert_whole_limited_gpus(deployment, service.resources.gpus)
    # Placement comes from the pool: its labels selected, its taints tolerated (the GPU taint only by GPU pods).
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == args.pool.effective_labels
    expected = [(t.key, t.effect.value) for t in args.pool.effective_taints
                if service.resources.gpus > 0 or t.key != GPU_RESOURCE]
    assert [(t["key"], t["effect"]) for t in pod.get("tolerations", [])] == expected
    quota = next(o for o in objects if o["kind"] == "ResourceQuota")["spec"]["hard"]
    # requests. only: the quota evaluator never counts limits. of an extended resource.
    assert quota[f"requests.{GPU_RESOURCE}"] == str(cfg.projects[0].quota.gpus)
    assert f"limits.{GPU_RESOURCE}" not in quota


def test_the_gpu_property_catches_a_fractional_request_under_a_whole_limit():
    split = {"spec": {"template": {"spec": {"containers": [{"resources": {
        "requests": {GPU_RESOURCE: "0.5"}, "limits": {GPU_RESOURCE: "1"}}}]}}}}
    with pytest.raises(AssertionError):
        assert_whole_limited_gpus(split, 1)
    request_only = {"spec": {"template": {"spec": {"containers": [{"resources": {"requests": {GPU_RESOURCE: "1"}}}]}}}}
    with pytest.raises(AssertionError):
        assert_whole_limited_gpus(request_only, 1)


def test_a_service_with_weights_in_its_model_store_renders_schema_valid_objects():
    for environment in ("dev", "prod"):
        cfg = b.build(b.stored_stack(environment))
        args = inference_service_args(cfg, cfg.services[0], namespace=cfg.services[0].project)
        deployment = next(o for o in service_manifests(args) if o["kind"] == "Deployment")
        env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["MODEL_ARTIFACT_URI"].startswith("s3://") and env["AWS_REGION"] == "us-east-1"
        for obj in service_manifests(args):
            schema_check(obj, cfg.cluster.version)
