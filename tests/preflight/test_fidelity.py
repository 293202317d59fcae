"""Preflight sends the pack what the Pulumi engine sends.

- ``Analyze`` gets each resource's inputs, its parent (in the options) and its provider resource:
  the one it names, else the engine's default provider for its package and version, which is itself
  registered (and analyzed) first; components, providers and the stack have none.
- A default provider's inputs are the stack's ``<package>:*`` config with every value a string, as the
  engine's ``GetPackageConfig`` passes it (structured values as their JSON text, secure ones secret).
- ``AnalyzeStack`` gets each resource's outputs: at preview, what the provider computes is unknown.
- Every rule gives the same verdict whether ``AnalyzeStack`` gets outputs or inputs, on the shipped
  stacks under every environment's policy config (which gives plenty of violations to compare).

The first three are observed from inside a pack: a probe pack (pulumi-policy, run as preflight
runs any pack) reports what its policies were given, on the tests' own prod stack (``live``). The last
is a shipped-stack check: its point is that the stacks users get are judged alike in both shapes, so it
runs over ``tests.support.shipped``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from preflight.analyzer import PolicyAnalyzer, PolicyRun, default_provider_name, default_providers, package_config
from preflight.engine import REDACTED, SECRET_SIG, SIG_KEY, RecordedResource
from preflight.stackfile import read_stack_config
from tests.policypacks.conftest import PACK_DIR, config_for
from tests.support import PROJECT, recorded
from tests.support import shipped as shipped_stacks

PROBE = textwrap.dedent('''
    import json
    from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy,
                               StackValidationPolicy)
    from pulumi_policy.proxy import UnknownValueError

    def plain(value, depth=0):
        """A JSON copy of an SDK proxy, unknown values as "<unknown>"."""
        if isinstance(value, (str, int, float, bool)) or value is None or depth > 40:
            return value
        if hasattr(value, "keys"):
            out = {}
            for key in list(value.keys()):
                try:
                    out[key] = plain(value[key], depth + 1)
                except UnknownValueError:
                    out[key] = "<unknown>"
            return out
        items = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index], depth + 1))
            except UnknownValueError:
                items.append("<unknown>")
        return items

    def seen(args, report):
        provider = args.provider
        report(json.dumps({
            "urn": args.urn, "parent": args.opts.parent,
            "provider": None if provider is None else {
                "type": provider.resource_type, "urn": provider.urn, "name": provider.name,
                "props": plain(provider.props)},
        }))

    def stack(args, report):
        for r in args.resources:
            report(json.dumps({"urn": r.urn, "props": plain(r.props),
                               "provider": r.provider.urn if r.provider is not None else None,
                               "parent": r.parent.urn if r.parent is not None else None}))

    PolicyPack(name="probe", enforcement_level=EnforcementLevel.ADVISORY, policies=[
        ResourceValidationPolicy(name="seen", description="what Analyze got", validate=seen),
        StackValidationPolicy(name="stack", description="what AnalyzeStack got", validate=stack),
    ])
''')


@pytest.fixture(scope="module")
def probe_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack = tmp_path_factory.mktemp("probe")
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    (pack / "__main__.py").write_text(PROBE)
    return pack


def probe(pack: Path, resources: list[RecordedResource], stack: str, config: dict[str, str],
          secret_keys: list[str] = (), shape: str = "outputs") -> tuple[dict[str, Any], dict[str, Any]]:
    """What the probe's resource policy (per URN) and stack policy (per URN) were given."""
    with PolicyAnalyzer(pack, project="ai-platform", stack=stack, config_file=None, stack_config=config,
                        secret_keys=list(secret_keys), python=sys.executable, timeout=60) as analyzer:
        run = analyzer.run(resources, stack_shape=shape)
    analyzed, stacked = {}, {}
    for v in run.violations:
        item = json.loads(v.message)
        (analyzed if v.policy == "seen" else stacked)[item["urn"]] = item
    return analyzed, stacked


@pytest.fixture(scope="module")
def prod_seen(probe_pack: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    source = read_stack_config(PROJECT, "live")
    return probe(probe_pack, recorded("live").resources, "live", source.config, source.secret_keys)


def test_every_analyze_request_carries_its_provider_and_parent(prod_seen):
    analyzed, _ = prod_seen
    resources = recorded("live").resources
    by_urn = {r.urn: r for r in resources}
    aws_default = f"urn:pulumi:live::ai-platform::pulumi:providers:aws::{default_provider_name('7.51.1')}"
    assert aws_default.endswith("::default_7_51_1")
    custom = 0
    for resource in resources:
        seen = analyzed[resource.urn]
        assert seen["parent"] == resource.parent, resource.urn
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            assert seen["provider"] is None, resource.urn  # as the engine: no provider reference
            continue
        custom += 1
        provider = seen["provider"]
        assert provider is not None, resource.urn
        package = resource.type.split(":", 1)[0]
        assert provider["type"] == f"pulumi:providers:{package}"
        if resource.provider:
            assert provider["urn"] == resource.provider.rsplit("::", 1)[0] and provider["urn"] in by_urn
            assert provider["props"]["version"] == by_urn[provider["urn"]].version  # the engine adds it
        else:
            assert provider["urn"] == f"urn:pulumi:live::ai-platform::pulumi:providers:{package}::" \
                                      f"{default_provider_name(resource.version)}"
    assert custom > 100
    # The default provider is a resource of its own: registered and analyzed first, with no provider.
    assert aws_default in analyzed and analyzed[aws_default]["provider"] is None
    assert next(iter(analyzed)) == aws_default
    # The Kubernetes resources use the cluster's explicit provider, whose kubeconfig stays secret.
    k8s = [analyzed[r.urn]["provider"] for r in resources if r.type.startswith("kubernetes:")]
    assert k8s and {p["name"] for p in k8s} == {"cluster-k8s"}
    assert all(p["props"]["kubeconfig"] == REDACTED for p in k8s)


def test_default_provider_config_arrives_as_strings(prod_seen):
    analyzed, _ = prod_seen
    cluster = next(r for r in recorded("live").resources if r.type == "aws:eks/cluster:Cluster")
    props = analyzed[cluster.urn]["provider"]["props"]
    assert props == {"region": "us-east-1", "version": "7.51.1"}
    assert all(isinstance(v, str) for v in props.values())


def test_structured_and_secure_provider_config_arrive_as_the_engine_sends_them(probe_pack):
    tags = {"tags": {"finops.apexlogic.com/owner": "ml-platform-team"}}
    config = {"aws:region": "eu-west-1", "aws:defaultTags": json.dumps(tags), "aws:maxRetries": "5",
              "aws:secretKey": "[secret:aws:secretKey]", "ai-platform:environment": "dev"}
    bucket = RecordedResource(urn="urn:pulumi:dev::ai-platform::aws:s3/bucket:Bucket::b", type="aws:s3/bucket:Bucket",
                              name="b", parent="", custom=True, inputs={"bucket": "b"}, options={}, version="7.51.1")
    analyzed, stacked = probe(probe_pack, [bucket], "dev", config, ["aws:secretKey"])
    props = analyzed[bucket.urn]["provider"]["props"]
    # Strings, as GetPackageConfig passes them: the JSON text of a structured value, "5" not 5.
    assert props["defaultTags"] == json.dumps(tags) and props["maxRetries"] == "5" and props["region"] == "eu-west-1"
    assert props["secretKey"] == REDACTED  # a secret, never its value (the SDK hands rules the unwrapped value)
    assert "environment" not in props  # another package's config
    assert stacked[bucket.urn]["provider"] == analyzed[bucket.urn]["provider"]["urn"]


def test_package_config_and_default_providers_units():
    config = {"aws:region": "us-east-1", "aws:defaultTags": {"tags": {"a": "b"}}, "aws:token": "x", "k8s:x": "y"}
    assert package_config("aws", config, ["aws:token"]) == {
        "region": "us-east-1", "defaultTags": '{"tags": {"a": "b"}}', "token": {SIG_KEY: SECRET_SIG, "value": REDACTED}}

    def res(type_: str, version: str = "7.51.1", provider: str = "", custom: bool = True) -> RecordedResource:
        return RecordedResource(urn=f"urn:pulumi:s::p::{type_}::{version or 'x'}", type=type_, name="n", parent="",
                                custom=custom, inputs={}, options={}, provider=provider, version=version)

    found = default_providers([res("aws:s3/bucket:Bucket"), res("aws:s3/bucket:Bucket"),
                               res("aws:s3/bucket:Bucket", "7.52.0"), res("aws:s3/bucket:Bucket", provider="urn::id"),
                               res("ai-platform:x:Y", custom=False), res("pulumi:providers:aws"),
                               res("random:index/randomId:RandomId", "")],
                              project="p", stack="s", stack_config=config)
    assert [(r.type, r.name, r.inputs.get("version")) for r in found] == [
        ("pulumi:providers:aws", "default_7_51_1", "7.51.1"), ("pulumi:providers:aws", "default_7_52_0", "7.52.0"),
        ("pulumi:providers:random", "default", None)]
    assert found[0].urn == "urn:pulumi:s::p::pulumi:providers:aws::default_7_51_1" and found[0].parent == ""
    assert default_provider_name("1.2.3-alpha.1+build.5") == "default_1_2_3_alpha_1_build_5"


def test_stack_analysis_gets_outputs_with_computed_values_unknown(probe_pack, prod_seen):
    _, outputs = prod_seen
    source = read_stack_config(PROJECT, "live")
    _, inputs = probe(probe_pack, recorded("live").resources, "live", source.config, source.secret_keys, shape="inputs")
    resources = recorded("live").resources
    cluster = next(r for r in resources if r.type == "aws:eks/cluster:Cluster")
    deployment = next(r for r in resources if r.type == "kubernetes:apps/v1:Deployment")
    # Computed by the provider on create: unknown at preview in the outputs, absent from the inputs.
    assert outputs[cluster.urn]["props"]["arn"] == "<unknown>" and "arn" not in inputs[cluster.urn]["props"]
    assert outputs[deployment.urn]["props"]["status"] == "<unknown>" and "status" not in inputs[deployment.urn]["props"]
    # What the program set is echoed.
    assert outputs[cluster.urn]["props"]["name"] == inputs[cluster.urn]["props"]["name"] == cluster.inputs["name"]
    assert outputs[deployment.urn]["props"]["spec"] == inputs[deployment.urn]["props"]["spec"]
    # A component's outputs are what it registered.
    service = next(r for r in resources if r.type == "ai-platform:inference:InferenceService")
    assert "url" in outputs[service.urn]["props"]
    # Parents and providers are the same in both shapes.
    for urn, item in outputs.items():
        assert (item["parent"], item["provider"]) == (inputs[urn]["parent"], inputs[urn]["provider"]), urn


# --- every rule, both shapes ---------------------------------------------------------------------

ENVIRONMENTS = ("dev", "staging", "prod", "local")


def _verdicts(run: PolicyRun) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    return (sorted((v.policy, v.level, v.urn, v.message) for v in run.violations),
            sorted((item["policy"], item["reason"]) for item in run.not_applicable))


@pytest.fixture(scope="module", params=shipped_stacks.STACKS)
def shipped(request) -> Iterator[tuple[str, PolicyAnalyzer]]:
    stack = request.param
    source = shipped_stacks.stack_source(stack)
    analyzer = PolicyAnalyzer(PACK_DIR, project=source.project, stack=stack, config_file=None,
                              stack_config=source.config, secret_keys=source.secret_keys, python=sys.executable,
                              timeout=60)
    with analyzer:
        yield stack, analyzer


def test_every_shipped_stack_gets_the_same_verdict_on_outputs_and_on_inputs(shipped):
    """Each shipped stack under each environment's policy config (its own gives no violation; the others
    give many, stack rules and unknowns included): identical verdicts either way."""
    stack, analyzer = shipped
    resources = shipped_stacks.recorded(stack).resources
    compared = 0
    for env in ENVIRONMENTS:
        config = config_for(env)
        config["all"].properties.pop("environment", None)  # the stack's own environment; the env's rules
        outputs = analyzer.run(resources, config, stack_shape="outputs")
        inputs = analyzer.run(resources, config, stack_shape="inputs")
        assert _verdicts(outputs) == _verdicts(inputs), (stack, env)
        compared += len(outputs.violations)
        if env == stack:
            assert not outputs.mandatory, [(v.policy, v.message) for v in outputs.mandatory]
    assert compared >= 10, f"{stack}: {compared} violations under the four configs: too few to compare"


def test_an_unknown_stack_shape_is_rejected():
    with pytest.raises(ValueError, match="stack_shape"):
        PolicyAnalyzer(PACK_DIR, project="p", stack="s", config_file=None, python=sys.executable).run(
            [], stack_shape="state")
