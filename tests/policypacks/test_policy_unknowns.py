"""Unknown values follow ``unknownValues``; random property bags never crash the pack or the call."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.engine import SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import config_for, violations

CANNOT = "cannot verify instanceTypes at preview"


def _unknown_instance_types(env: str) -> list[RecordedResource]:
    return b.replace(b.good_stack(env), "gpu-ng", lambda r: r.inputs.update(instanceTypes=UNKNOWN))


def test_unknown_is_advisory_where_unknown_values_is_advisory(pack):
    """dev: gpu-instance-allowlist is mandatory, unknownValues advisory -> an advisory note."""
    run = pack.run(_unknown_instance_types("dev"), "dev")
    found = violations(run, "gpu-instance-allowlist")
    assert [(lvl, CANNOT in msg) for _, lvl, msg in found] == [("advisory", True)]
    assert all(v.urn.endswith("::gpu-ng") for v in run.violations if v.policy == "gpu-instance-allowlist")


def test_unknown_is_a_violation_where_unknown_values_is_mandatory(pack):
    run = pack.run(_unknown_instance_types("prod"), "prod")
    found = violations(run, "gpu-instance-allowlist")
    assert found == [("gpu-instance-allowlist", "mandatory", f"{CANNOT}")]


def test_unknown_values_disabled_drops_the_note(pack):
    config = config_for("prod")
    config["all"].properties["unknownValues"] = "disabled"
    run = pack.run(_unknown_instance_types("prod"), config)
    assert violations(run, "gpu-instance-allowlist") == []


def test_a_rule_can_override_unknown_values(pack):
    config = config_for("prod", gpu_instance_allowlist={"unknownValues": "advisory"})
    run = pack.run(_unknown_instance_types("prod"), config)
    assert {lvl for _, lvl, _ in violations(run, "gpu-instance-allowlist")} == {"advisory"}
    # ...while the stack-wide setting still applies to every other rule.
    assert {lvl for _, lvl, msg in violations(run, "gpu-capacity-ceiling") if "cannot verify" in msg} == {"mandatory"}


def test_unknown_never_hides_a_known_violation(pack):
    """A known bad fact is reported even when another field of the same resource is unknown."""
    stack = b.replace(b.good_stack("prod"), "gpu-lt", lambda r: r.inputs["metadataOptions"].update(
        httpTokens="optional", httpPutResponseHopLimit=UNKNOWN))
    found = violations(pack.run(stack, "prod"), "imdsv2-required")
    messages = [msg for _, _, msg in found]
    assert len(messages) == 2
    assert any("httpTokens is 'optional'" in m for m in messages)
    assert "cannot verify metadataOptions.httpPutResponseHopLimit at preview" in messages


def test_stack_rule_names_the_resource_it_cannot_verify(pack):
    stack = b.replace(b.good_stack("prod"), "gpu-ng", lambda r: r.inputs["scalingConfig"].update(maxSize=UNKNOWN))
    found = [v for v in pack.run(stack, "prod").violations if v.policy == "gpu-capacity-ceiling"]
    assert [(v.level, v.message, v.urn.rsplit("::", 1)[-1]) for v in found] == [
        ("mandatory", "cannot verify scalingConfig.maxSize of NodeGroup gpu-ng at preview", "gpu-ng")]


# --- fuzzing over gRPC ----------------------------------------------------------------------------

KEYS = ["bucket", "policy", "role", "roleArn", "namespace", "serviceAccount", "rules", "imageTagMutability",
        "metadata", "labels", "annotations", "spec", "template", "containers", "resources", "limits", "requests",
        "nvidia.com/gpu", "image", "env", "name", "value", "tolerations", "key", "operator", "effect",
        "nodeSelector", "tags", "tagSpecifications", "resourceType", "instanceTypes", "scalingConfig", "maxSize",
        "minSize", "capacityType", "taints", "metadataOptions", "httpTokens", "blockDeviceMappings", "ebs",
        "encrypted", "vpcConfig", "endpointPublicAccess", "publicAccessCidrs", "costFilters", "values",
        "notifications", "limitAmount", "tagKey", "status", "version", "chart", "server", "ingress", "tls",
        "scaleTargetRef", "minReplicas", "selector", "matchLabels", "readinessProbe", "replicas", "jobTemplate",
        f"{b.GOV}/risk-tier", f"{b.GOV}/eval-date", f"{b.GOV}/ethics-policy-id", f"{b.PREFIX}/project"]
TYPES = ["aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/cluster:Cluster",
         "aws:budgets/budget:Budget", "aws:autoscaling/schedule:Schedule",
         "aws:costexplorer/costAllocationTag:CostAllocationTag", "kubernetes:apps/v1:Deployment",
         "kubernetes:batch/v1:CronJob", "kubernetes:core/v1:Pod", "kubernetes:core/v1:Service",
         "kubernetes:core/v1:Namespace", "kubernetes:policy/v1:PodDisruptionBudget",
         "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:helm.sh/v3:Release", "aws:s3/bucket:Bucket",
         "aws:ecr/repository:Repository", "aws:s3/bucketPolicy:BucketPolicy", "aws:iam/role:Role",
         "aws:iam/rolePolicy:RolePolicy", "aws:eks/podIdentityAssociation:PodIdentityAssociation",
         "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**6).map(float), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([UNKNOWN, "", "0.5", "1", "true", "latest", "SPOT", "NO_SCHEDULE", "LoadBalancer", "required",
                     "policy-2026-001", "2026-11-02", "us-east-1", "x" * 300, "ünïcødé", "apexlogic/m:latest"]),
    st.text(max_size=12),
)


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5),
        inner.map(_secret),
    ),
    max_leaves=25,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in ``value``; a secret envelope's signature is the engine's, never mutated."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            if k != SIG_KEY:
                found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _set(root: dict[str, Any], path: tuple, value: Any) -> None:
    target: Any = root
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_stacks_never_break_the_pack(pack, data):
    """Realistic resources with random positions replaced by unknowns, secrets, wrong types, nulls."""
    env = data.draw(st.sampled_from(["prod", "dev"]))
    stack = copy.deepcopy(b.good_stack(env))
    for _ in range(data.draw(st.integers(1, 6))):
        resource = data.draw(st.sampled_from(stack))
        paths = [p for p in _paths(resource.inputs) if p]
        if not paths:
            continue
        path = data.draw(st.sampled_from(paths))
        _set(resource.inputs, path, data.draw(st.one_of(st.just(UNKNOWN), values)))
    run = pack.run(stack, env)
    assert not [v for v in run.violations if "internal error" in v.message], run.violations


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(bags=st.lists(st.tuples(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(KEYS), values, max_size=6)),
                     min_size=1, max_size=5),
       env=st.sampled_from(["prod", "dev"]))
def test_random_property_bags_never_break_the_pack(pack, bags, env):
    resources = []
    for index, (type_, inputs) in enumerate(bags):
        deps = [resources[-1].urn] if resources else []
        resources.append(b.res(type_, f"fuzz-{index}", inputs, deps=deps, prop_deps={"launchTemplate": deps}))
    run = pack.run(resources, env)
    assert not [v for v in run.violations if "internal error" in v.message], run.violations


def test_the_pack_survived_the_fuzzing(pack):
    assert pack.analyzer._proc is not None and pack.analyzer._proc.poll() is None
