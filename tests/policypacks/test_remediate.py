"""finops-required-tags and finops-required-labels remediate through the gRPC ``Remediate`` call:
under enforcement level ``remediate`` a resource missing a FinOps key gets it from the stack's FinOps
config (the contract the program tags its own resources with); what the pack returns then passes
``Analyze``, as the engine runs them. Values present but invalid, and keys the stack's config does
not give, are left for a person (the Analyze that follows still reports them)."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from preflight.analyzer import PolicyAnalyzer
from preflight.engine import SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import PACK_DIR, config_for

P = b.PREFIX
CONTRACT = {"tagPrefix": P, "costCenter": "ai-innovation", "project": "project-nova", "tier": "production",
            "owner": "ml-platform-team"}
STACK_CONFIG = {"aws:region": "us-east-1", f"{b.PROJECT}:environment": "prod", f"{b.PROJECT}:finops": json.dumps(CONTRACT)}
FULL = b.tags("prod")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[PolicyAnalyzer]:
    """A pack process whose stack config carries the whole FinOps contract."""
    with PolicyAnalyzer(PACK_DIR, project=b.PROJECT, stack="prod", config_file=None, stack_config=STACK_CONFIG,
                        python=sys.executable, timeout=60) as running:
        running.run([], config_for("prod", finops_required_tags="remediate", finops_required_labels="remediate"))
        yield running


def remediated(analyzer: PolicyAnalyzer, resource: RecordedResource) -> dict[str, Any] | None:
    found = analyzer.remediate(resource)
    assert all(r["diagnostic"] == "" for r in found), found
    assert len(found) <= 1, found
    return found[0]["properties"] if found else None


def then_analyzed(analyzer: PolicyAnalyzer, resource: RecordedResource, properties: dict[str, Any]) -> list[str]:
    """What Analyze reports on the remediated resource (the engine's next step)."""
    fixed = copy.deepcopy(resource)
    fixed.inputs = properties
    run = analyzer.run([fixed], config_for("prod", finops_required_tags="remediate",
                                           finops_required_labels="remediate"))
    return [v.message for v in run.violations if v.policy in ("finops-required-tags", "finops-required-labels")]


def bucket(tags: Any) -> RecordedResource:
    return b.res("aws:s3/bucket:Bucket", "data", {"bucket": "data", **({"tags": tags} if tags is not None else {})})


def test_a_resource_missing_tags_gets_them_from_the_stack_contract(analyzer):
    resource = bucket({f"{P}/project": "project-atlas", "team": "vision"})
    props = remediated(analyzer, resource)
    assert props is not None and props["bucket"] == "data"
    assert props["tags"] == {**FULL, f"{P}/project": "project-atlas", "team": "vision"}  # a present value is kept
    assert then_analyzed(analyzer, resource, props) == []


def test_a_resource_without_tags_gets_the_whole_contract(analyzer):
    props = remediated(analyzer, bucket(None))
    assert props is not None and props["tags"] == FULL


def test_a_complete_resource_is_left_alone(analyzer):
    assert remediated(analyzer, bucket(dict(FULL))) is None


def test_an_invalid_value_is_not_rewritten_and_still_blocks(analyzer):
    resource = bucket({**FULL, f"{P}/owner": "not a label!"})
    assert remediated(analyzer, resource) is None
    messages = then_analyzed(analyzer, resource, resource.inputs)
    assert len(messages) == 1 and f"{P}/owner" in messages[0]


def test_unknown_tags_are_not_guessed(analyzer):
    assert remediated(analyzer, bucket(UNKNOWN)) is None
    partly = {k: v for k, v in FULL.items() if k != f"{P}/owner"} | {f"{P}/owner": UNKNOWN}
    assert remediated(analyzer, bucket(partly)) is None


def test_a_secret_tag_map_stays_secret(analyzer):
    props = remediated(analyzer, bucket({SIG_KEY: SECRET_SIG, "value": {f"{P}/owner": "ml-platform-team"}}))
    assert props is not None
    assert props["tags"][SIG_KEY] == SECRET_SIG and props["tags"]["value"] == FULL


def test_unknown_inputs_elsewhere_pass_through_as_unknown(analyzer):
    resource = bucket(None)
    resource.inputs["bucket"] = UNKNOWN
    props = remediated(analyzer, resource)
    assert props is not None and props["bucket"] == UNKNOWN and props["tags"] == FULL


def test_an_autoscaling_group_tag_list_is_extended(analyzer):
    owner = f"{P}/owner"
    tags = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in FULL.items() if k != owner]
    resource = b.res("aws:autoscaling/group:Group", "asg", {"maxSize": 1.0, "minSize": 0.0, "tags": tags})
    props = remediated(analyzer, resource)
    assert props is not None
    assert props["tags"] == [*tags, {"key": owner, "value": "ml-platform-team", "propagateAtLaunch": True}]
    assert then_analyzed(analyzer, resource, props) == []


def test_labels_are_added_to_the_object_and_its_pod_template(analyzer):
    workload = b.deployment("multimodal", "project-nova")
    for labels in (workload.inputs["metadata"]["labels"], workload.inputs["spec"]["template"]["metadata"]["labels"]):
        for key in FULL:
            labels.pop(key, None)
    props = remediated(analyzer, workload)
    assert props is not None
    assert FULL.items() <= props["metadata"]["labels"].items()
    assert FULL.items() <= props["spec"]["template"]["metadata"]["labels"].items()
    assert props["spec"]["selector"] == workload.inputs["spec"]["selector"]  # the rest is untouched
    assert props["spec"]["template"]["spec"] == workload.inputs["spec"]["template"]["spec"]
    assert then_analyzed(analyzer, workload, props) == []


def test_a_cron_job_template_is_found_under_its_job_template(analyzer):
    job = b.k8s("kubernetes:batch/v1:CronJob", "nightly", {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "project-nova",
                                                                  "labels": dict(FULL)},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {
            "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}}}}}})
    props = remediated(analyzer, job)
    assert props is not None and props["metadata"]["labels"] == FULL  # the object's labels were complete
    assert props["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == FULL
    assert then_analyzed(analyzer, job, props) == []


def test_exempt_namespaces_are_not_remediated(analyzer):
    bare = b.k8s("kubernetes:core/v1:Namespace", "kube-public", {"apiVersion": "v1", "kind": "Namespace",
                                                                 "metadata": {"name": "kube-public"}})
    assert remediated(analyzer, bare) is None


def test_only_under_the_remediate_level(analyzer):
    """At mandatory the engine never asks, and the pack remediates nothing if asked."""
    analyzer.configure(config_for("prod"))
    try:
        assert analyzer.remediate(bucket(None)) == []
    finally:
        analyzer.configure(config_for("prod", finops_required_tags="remediate", finops_required_labels="remediate"))


# --- launch templates: the tags of what they launch ------------------------------------------------

def launch_template(specs: Any) -> RecordedResource:
    return b.launch_template("gpu", tagSpecifications=specs)


def spec_tags(props: dict[str, Any]) -> dict[str, Any]:
    return {s["resourceType"]: s["tags"] for s in props["tagSpecifications"]}


def test_a_launch_template_without_tag_specifications_gets_instance_and_volume_entries(analyzer):
    resource = launch_template([])
    props = remediated(analyzer, resource)
    assert props is not None and spec_tags(props) == {"instance": FULL, "volume": FULL}
    assert props["tags"] == resource.inputs["tags"]  # its own tags were complete: untouched
    assert then_analyzed(analyzer, resource, props) == []


def test_missing_keys_are_added_to_each_entry_and_other_entries_are_kept(analyzer):
    owner = f"{P}/owner"
    partial = {k: v for k, v in FULL.items() if k != owner}
    resource = launch_template([{"resourceType": "instance", "tags": {**partial, "team": "vision"}},
                                {"resourceType": "network-interface", "tags": {"team": "vision"}}])
    props = remediated(analyzer, resource)
    assert props is not None
    assert spec_tags(props) == {"instance": {**FULL, "team": "vision"}, "network-interface": {"team": "vision"},
                                "volume": FULL}
    assert then_analyzed(analyzer, resource, props) == []


def test_complete_tag_specifications_are_left_alone(analyzer):
    resource = launch_template([{"resourceType": k, "tags": dict(FULL)} for k in ("instance", "volume")])
    assert remediated(analyzer, resource) is None


@pytest.mark.parametrize("specs", [UNKNOWN, [{"resourceType": UNKNOWN, "tags": {}}],
                                   [{"resourceType": "instance", "tags": UNKNOWN}, {"resourceType": "volume",
                                                                                     "tags": dict(FULL)}]])
def test_unknown_tag_specifications_are_not_guessed(analyzer, specs):
    assert remediated(analyzer, launch_template(specs)) is None


def test_an_invalid_value_in_an_entry_is_not_rewritten(analyzer):
    resource = launch_template([{"resourceType": "instance", "tags": {**FULL, f"{P}/owner": "not a label!"}},
                                {"resourceType": "volume", "tags": dict(FULL)}])
    assert remediated(analyzer, resource) is None
    messages = then_analyzed(analyzer, resource, resource.inputs)
    assert len(messages) == 1 and "tagSpecifications[instance]" in messages[0]


def test_a_project_template_fills_its_entries_with_its_own_values_not_the_stack_contract(analyzer):
    atlas = {**FULL, f"{P}/project": "project-atlas", f"{P}/owner": "atlas-team"}
    resource = b.launch_template("gpu", tags=dict(atlas),
                                 tagSpecifications=[{"resourceType": "instance", "tags": {f"{P}/project": "project-atlas"}}])
    props = remediated(analyzer, resource)
    assert props is not None
    # The entry keeps its own project and takes the rest from the template's tags; the missing volume
    # entry is the template's values, where the stack's contract would book it to project-nova.
    assert spec_tags(props) == {"instance": atlas, "volume": atlas}
    assert then_analyzed(analyzer, resource, props) == []
