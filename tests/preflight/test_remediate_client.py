"""``PolicyAnalyzer.run`` remediates as the engine does, through the real pack over gRPC: with a policy at
``remediate``, each resource goes to ``Remediate`` before ``Analyze``; the remediated properties become
its inputs (what ``Analyze`` judges) and its outputs follow them (what ``AnalyzeStack`` gets); each
remediation is recorded with what it changed, secrets never in plaintext. Without a policy at
``remediate`` nothing is asked (the SDK would remediate nothing)."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, strategies as st

from preflight.analyzer import PolicyAnalyzer, PolicyRun, Remediation
from preflight.analyzer.remediation import apply, changes, rebase
from preflight.analyzer.results import engine_level
from preflight.engine import REDACTED, SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource
from pulumi.runtime.proto import analyzer_pb2
from tests.policypacks import builders as b
from tests.policypacks.conftest import PACK_DIR, config_for

P = b.PREFIX
OWNER = f"{P}/owner"
CONTRACT = {"tagPrefix": P, "costCenter": "ai-innovation", "project": "project-nova", "tier": "production",
            "owner": "ml-platform-team"}
STACK_CONFIG = {"aws:region": "us-east-1", f"{b.PROJECT}:environment": "prod", f"{b.PROJECT}:finops": json.dumps(CONTRACT)}
REMEDIATE = {"finops_required_tags": "remediate", "finops_required_labels": "remediate"}
FINOPS = ("finops-required-tags", "finops-required-labels")
SECRET = {SIG_KEY: SECRET_SIG, "value": REDACTED}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[PolicyAnalyzer]:
    with PolicyAnalyzer(PACK_DIR, project=b.PROJECT, stack="prod", config_file=None, stack_config=STACK_CONFIG,
                        python=sys.executable, timeout=60) as running:
        yield running


def bucket(name: str, **inputs: Any) -> RecordedResource:
    return b.res("aws:s3/bucket:Bucket", name, {"bucket": name, **inputs})


def stack() -> list[RecordedResource]:
    """A bucket missing its owner tag (its name a secret), a complete bucket, and a Deployment whose
    pod template lacks the FinOps labels."""
    partial = {k: v for k, v in b.tags("prod").items() if k != OWNER}
    workload = b.deployment("multimodal", "project-nova")
    template = workload.inputs["spec"]["template"]["metadata"]
    template["labels"] = {k: v for k, v in template["labels"].items() if k not in b.tags("prod")}
    return [bucket("data", tags=partial, acl=SECRET), bucket("logs", tags=b.tags("prod")), workload]


def finops(run: PolicyRun) -> list[str]:
    return [v.message for v in run.violations if v.policy in FINOPS]


def by_policy(run: PolicyRun) -> dict[tuple[str, str], Remediation]:
    return {(r.policy, r.urn.rsplit("::", 1)[1]): r for r in run.remediations}


def test_each_resource_is_remediated_before_it_is_analyzed(analyzer):
    resources = stack()
    run = analyzer.run(resources, config_for("prod", **REMEDIATE))
    assert finops(run) == []
    found = by_policy(run)
    assert set(found) == {("finops-required-tags", "data"), ("finops-required-labels", "multimodal")}
    assert found["finops-required-tags", "data"].changes == (
        {"path": f'tags["{OWNER}"]', "change": "added", "after": "ml-platform-team"},)
    labels = found["finops-required-labels", "multimodal"].changes
    assert {c["path"] for c in labels} == {f'spec.template.metadata.labels["{k}"]' for k in b.tags("prod")}
    assert all(c["change"] == "added" for c in labels)
    # The remediated properties are the resource's inputs now, and its outputs follow them.
    data = resources[0]
    assert data.inputs["tags"][OWNER] == "ml-platform-team" and data.inputs["acl"] == SECRET
    assert data.output_properties["tags"][OWNER] == "ml-platform-team"
    assert resources[2].output_properties["spec"]["template"]["metadata"]["labels"][OWNER] == "ml-platform-team"


def test_at_mandatory_nothing_is_remediated_and_the_same_resources_fail(analyzer, monkeypatch):
    calls: list[str] = []
    real = analyzer._remediate_call
    monkeypatch.setattr(analyzer, "_remediate_call", lambda request: calls.append(request.urn) or real(request))
    resources = stack()
    run = analyzer.run(resources, config_for("prod"))
    assert calls == [] and run.remediations == []
    assert len(finops(run)) == 2 and all(v.level == "mandatory" for v in run.violations if v.policy in FINOPS)
    assert OWNER not in resources[0].inputs["tags"]


def test_streamed_runs_remediate_alike(analyzer):
    """The preview streams Analyze while the program registers resources: remediations happen there."""
    resources = stack()
    analyzer.stream(config_for("prod", **REMEDIATE))
    for resource in resources:
        analyzer.add(resource)
    streamed = analyzer.run(resources)
    again = analyzer.run(stack(), config_for("prod", **REMEDIATE))
    assert streamed.remediations == again.remediations and finops(streamed) == []


def test_a_secret_is_never_opened_in_a_change():
    before = {"tags": {SIG_KEY: SECRET_SIG, "value": {"team": "vision"}}}
    after = {"tags": {SIG_KEY: SECRET_SIG, "value": {"team": "vision", OWNER: "ml-platform-team"}}}
    assert changes(before, after) == [{"path": "tags", "change": "changed", "before": SECRET, "after": SECRET}]
    assert "vision" not in json.dumps(changes({}, after))


def test_an_added_object_is_listed_by_its_leaves_with_pulumi_paths():
    found = changes({"specs": [{"kind": "instance"}]},
                    {"specs": [{"kind": "instance"}, {"kind": "volume", "tags": {OWNER: "x", "a_b": UNKNOWN}}]})
    assert found == [{"path": "specs[1].kind", "change": "added", "after": "volume"},
                     {"path": f'specs[1].tags["{OWNER}"]', "change": "added", "after": "x"},
                     {"path": "specs[1].tags.a_b", "change": "added", "after": UNKNOWN}]


def test_outputs_follow_the_remediated_inputs_and_keep_what_the_provider_computed():
    old = {"tags": {"a": "1"}, "name": "n"}
    outputs = {"tags": {"a": "1"}, "name": "n", "arn": UNKNOWN, "tagsAll": {"a": "1", "d": "2"}}
    new = {"tags": {"a": "1", "b": "2"}, "name": "n"}
    assert rebase(outputs, old, new) == {"tags": {"a": "1", "b": "2"}, "name": "n", "arn": UNKNOWN,
                                         "tagsAll": {"a": "1", "d": "2"}}
    component = RecordedResource(urn="u", type="ai-platform:x:Y", name="y", parent="", custom=False, inputs=old,
                                 options={}, outputs=old)
    apply(component, new)
    assert component.inputs == new and component.output_properties == new


def test_a_violation_left_after_remediation_is_mandatory():
    """The engine turns a diagnostic at remediate into mandatory (resource and stack policies alike)."""
    assert engine_level(analyzer_pb2.REMEDIATE) == "mandatory"
    assert engine_level(analyzer_pb2.ADVISORY) == "advisory"


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=12)


@given(JSON, JSON)
def test_changes_are_empty_exactly_when_nothing_changed(before, after):
    found = changes({"p": before}, {"p": after})
    assert (found == []) == (before == after)
    assert all(c["change"] in ("added", "removed", "changed") and c["path"].startswith("p") for c in found)


@given(JSON)
def test_rebase_onto_the_same_inputs_changes_nothing(outputs):
    assert rebase(copy.deepcopy(outputs), {"x": 1}, {"x": 1}) == outputs


def test_the_comment_and_the_view_escape_what_the_program_wrote():
    from preflight.policy import markdown_part, render_policy

    section = {"packs": [{"name": "p", "version": "1"}], "violations": [], "mandatory": 0, "advisory": 0,
               "not_applicable": [], "remediations": [{
                   "pack": "p", "policy": "finops-required-tags", "urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::b",
                   "changes": [{"path": 'tags["a|b"]', "change": "changed", "before": "<i>x</i>", "after": SECRET},
                               {"path": "acl", "change": "removed", "before": UNKNOWN}]}]}
    comment = "\n".join(markdown_part({"policy": section}))
    assert '| `finops-required-tags` | Bucket b | ~ tags["a\\|b"]: "&lt;i&gt;x&lt;/i&gt;" =&gt; [secret] |' in comment
    view = render_policy(section)
    assert '        - acl: <unknown>' in view and "1 remediation(s) applied" in view
