"""The offline engine on every fixture stack: it runs the real program and records what the engine would get."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from preflight.engine import SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource, computed_outputs, redact_secrets
from preflight.report import SCHEMA, build_report, render_plan
from preflight.stackfile import read_stack_config, secret_placeholder
from tests.support import PROJECT, ROOT, STACKS, one, preview, recorded

REPORT_SCHEMA = json.loads((ROOT / "preflight" / "report.schema.json").read_text())


@pytest.fixture(scope="module", params=STACKS)
def recording(request):
    return preview(request.param)


def test_every_stack_runs_registers_resources_and_matches_the_schema(recording):
    assert recording.resources, f"{recording.stack} registered nothing"
    report = build_report(recording)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["schema"] == SCHEMA == "preflight/v1"
    assert report["project"] == "ai-platform" and report["stack"] == recording.stack
    # The document is plain JSON: it round-trips.
    assert json.loads(json.dumps(report)) == report


def test_urns_are_unique_and_parents_are_recorded_resources_or_the_stack(recording):
    urns = [r.urn for r in recording.resources]
    assert len(urns) == len(set(urns))
    known = set(urns)
    stack_urn = f"urn:pulumi:{recording.stack}::ai-platform::pulumi:pulumi:Stack::ai-platform-{recording.stack}"
    for resource in recording.resources:
        assert resource.parent in known or resource.parent == stack_urn, resource.urn


def test_kubernetes_objects_carry_api_version_and_kind(recording):
    for resource in recording.resources:
        if resource.custom and resource.type.startswith("kubernetes:") and "helm.sh" not in resource.type \
                and not resource.type.startswith("kubernetes:yaml"):
            assert "apiVersion" in resource.inputs and "kind" in resource.inputs, resource.type


def test_the_plan_view_lists_each_resource_and_counts_per_type(recording):
    text = render_plan(recording)
    assert f"+ {len(recording.resources)} to create" in text
    for resource in recording.resources[:20]:
        assert resource.name[:39] in text


def test_redaction_keeps_the_envelope_and_drops_the_plaintext():
    value = {"a": [{SIG_KEY: SECRET_SIG, "value": "hunter2"}], "b": "plain"}
    assert redact_secrets(value) == {"a": [{SIG_KEY: SECRET_SIG, "value": "[secret]"}], "b": "plain"}


def test_secure_values_become_placeholders_never_decrypted(tmp_path: Path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = (PROJECT / "stacks" / "Pulumi.sandbox.yaml").read_text()
    stack += "  ai-platform:gitopsRepoToken:\n    secure: v1:c2VjcmV0:Y2lwaGVydGV4dA==\n"
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(stack)
    source = read_stack_config(tmp_path, "dev")
    assert source.config["ai-platform:gitopsRepoToken"] == secret_placeholder("ai-platform:gitopsRepoToken")
    assert "ai-platform:gitopsRepoToken" in source.secret_keys
    assert "Y2lwaGVydGV4dA" not in json.dumps(source.config)


def test_pulumi_yaml_defaults_apply_under_the_stack_file():
    source = read_stack_config(PROJECT, "sandbox")
    assert source.config["ai-platform:environment"] == "dev"
    # Dates stay strings, as the Pulumi CLI passes them.
    services = json.loads(source.config["ai-platform:services"])
    assert isinstance(services[0]["ethics"]["evaluation"]["date"], str)


def test_at_preview_computed_outputs_are_unknown():
    recording = preview("sandbox")
    assert any(UNKNOWN in json.dumps(r.inputs) for r in recording.resources), \
        "some input should depend on a value a provider computes (an ID or ARN)"


# --- outputs: what AnalyzeStack gets ---------------------------------------------------------------

def test_a_provider_echoes_its_inputs_under_its_state():
    from preflight.engine import provider_echo

    secret = {SIG_KEY: SECRET_SIG, "value": "[secret]"}
    inputs = {"name": "a", "tags": {"k": "v", "late": UNKNOWN}, "ids": [UNKNOWN, "b"], "gone": None, "s": secret,
              "list": [1, 2]}
    state = {"name": "a", "tags": {"k": "v2"}, "ids": [None, "b"], "arn": "arn:x", "empty": None, "s": {"x": 1},
             "list": [1]}
    assert provider_echo(inputs, state) == {
        "name": "a",
        "tags": {"k": "v2", "late": UNKNOWN},  # the state wins; an unknown input stays unknown
        "ids": [UNKNOWN, "b"],
        "gone": None,
        "s": secret,  # a secret input keeps its envelope
        "list": [1],  # lists of another length: the state's
        "arn": "arn:x",  # what only the state has
    }
    assert provider_echo(UNKNOWN, "known") == UNKNOWN and provider_echo("in", None) == "in"


def test_outputs_at_preview_leave_what_the_provider_computes_unknown():
    recording = recorded("live")
    cluster = one(recording, "aws:eks/cluster:Cluster")
    outputs = cluster.output_properties
    assert outputs["arn"] == UNKNOWN and outputs["endpoint"] == UNKNOWN  # computed on create
    assert outputs["vpcConfig"]["clusterSecurityGroupId"] == UNKNOWN  # the mocks' own unknown
    assert {k: v for k, v in outputs.items() if k in cluster.inputs and k != "vpcConfig"} == \
        {k: v for k, v in cluster.inputs.items() if k != "vpcConfig"}  # the inputs, echoed
    assert outputs["vpcConfig"] == {**cluster.inputs["vpcConfig"], "clusterSecurityGroupId": UNKNOWN, "vpcId": UNKNOWN}
    assert "arn" not in cluster.inputs and "name" not in computed_outputs(cluster.type)
    deployment = next(r for r in recording.resources if r.type == "kubernetes:apps/v1:Deployment")
    assert deployment.output_properties == {**deployment.inputs, "status": UNKNOWN}
    service = next(r for r in recording.resources if r.type == "ai-platform:inference:InferenceService")
    assert "url" in service.output_properties and service.output_properties != service.inputs  # registered outputs
    assert computed_outputs("example:index:NoSuchType") == frozenset()


def test_outputs_after_an_update_are_the_mocks_state():
    recording = recorded("sandbox", False)
    node_group = next(r for r in recording.resources if r.type == "aws:eks/nodeGroup:NodeGroup")
    outputs = node_group.output_properties
    assert outputs["arn"].startswith("arn:aws:preflight:") and outputs["resources"][0]["autoscalingGroups"]
    assert "status" not in outputs  # nothing made unknown outside a preview
    hand_built = RecordedResource(urn="u", type="aws:s3/bucket:Bucket", name="b", parent="", custom=True,
                                  inputs={"bucket": "b"}, options={})
    assert hand_built.output_properties is hand_built.inputs
