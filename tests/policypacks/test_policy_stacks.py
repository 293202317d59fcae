"""The shipped stacks pass their own policy config; edited stacks exit 1 naming the right policy.

Only ``test_shipped_stack_passes_its_own_policy_config`` runs the shipped stacks (its point is that they
pass); every behaviour here runs the tests' own stacks (``tests.support.fixtures``: sandbox is dev,
preprod staging, live prod, kind local), edited in a scratch copy of that project.

These go through ``python -m preflight preview`` itself (``preflight.cli.main``): program under
mocks, then the pack as a subprocess over the Analyzer protocol. The pack runs with this
interpreter (``PREFLIGHT_POLICY_PYTHON``) and the reference date is pinned
(``AI_GOVERNANCE_AS_OF``), so the suite needs no network and does not age.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from tests.policypacks.conftest import AS_OF, config_for, violations
from tests.support import STACKS, edited_project, own_project, preview
from tests.support import shipped


@pytest.fixture(autouse=True)
def _pack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PACK_PYTHON_ENV, sys.executable)
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", AS_OF)


def _preview(tmp_path: Path, stack: str, project_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / f"{stack}.json"
    code = main(["preview", "--stack", stack, "--project-dir", str(project_dir), "--json", str(out), *extra])
    return code, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.parametrize("stack", shipped.STACKS)
def test_shipped_stack_passes_its_own_policy_config(tmp_path, capsys, stack):
    code, report = _preview(tmp_path, stack, shipped.ROOT)
    policy = report["policy"]
    assert policy["mandatory"] == 0, [v for v in policy["violations"] if v["level"] == "mandatory"]
    assert code == 0
    assert policy["packs"] == [{"name": "ai-governance", "version": "1.0.0", "policies": 35,
                                "config": f"policypacks/ai-governance/config/{stack}.json"}]
    assert "Policy pack ai-governance@1.0.0" in capsys.readouterr().out


def _gpu_pool(config: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in config["ai-platform:nodePools"] if p.get("role") == "gpu")


def test_p5_in_dev_exits_1_naming_the_allowlist(tmp_path, capsys):
    project = edited_project(tmp_path, "sandbox", lambda c: _gpu_pool(c).update(instanceTypes=["p5.48xlarge"]))
    code, report = _preview(tmp_path, "sandbox", project)
    assert code == 1
    mandatory = {v["policy"] for v in report["policy"]["violations"] if v["level"] == "mandatory"}
    assert "gpu-instance-allowlist" in mandatory
    assert "[mandatory]  gpu-instance-allowlist" in capsys.readouterr().out


def test_budget_too_low_exits_1_naming_cost_within_budget(tmp_path):
    project = edited_project(tmp_path, "sandbox",
                             lambda c: c["ai-platform:budgets"]["monthlyLimitsUsd"].update({"project-nova": 50}))
    code, report = _preview(tmp_path, "sandbox", project)
    assert code == 1
    found = [v for v in report["policy"]["violations"] if v["policy"] == "cost-within-budget"]
    assert [v["level"] for v in found] == ["mandatory"]
    assert "exceeds its budget of $50.00" in found[0]["message"] and "top items:" in found[0]["message"]


def test_prod_without_an_slo_or_an_owner_route_fails_observability_coverage(tmp_path):
    def unwatched(config: dict[str, Any]) -> None:
        config["ai-platform:services"][1].pop("slo")
        config["ai-platform:observability"]["receivers"].pop("project-atlas")
    code, report = _preview(tmp_path, "live", edited_project(tmp_path, "live", unwatched))
    assert code == 1
    (found,) = [v for v in report["policy"]["violations"] if v["policy"] == "observability-coverage"]
    assert found["level"] == "mandatory" and "claims-triage-assistant" in found["message"]
    assert "an owner route for project 'project-atlas'" in found["message"]
    assert "SLO burn-rate alerts (services[].slo)" in found["message"]
    assert "model quality alerts" not in found["message"]  # its tier's thresholds still generate them


def test_no_policy_skips_the_pack(tmp_path):
    code, report = _preview(tmp_path, "kind", own_project(tmp_path), "--no-policy")
    assert code == 0 and "policy" not in report


def test_a_missing_policy_config_is_a_usage_error(tmp_path, capsys):
    code, _ = _preview(tmp_path, "kind", own_project(tmp_path), "--policy-pack-config", str(tmp_path / "nope.json"))
    assert code == 2
    assert "policy pack config not found" in capsys.readouterr().err


def test_an_invalid_policy_config_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gpu-capacity-ceiling": {"maxGpusPerPool": "lots"}}))
    code, _ = _preview(tmp_path, "kind", own_project(tmp_path), "--policy-pack-config", str(bad))
    assert code == 2
    err = capsys.readouterr().err
    assert "the policy pack config is invalid" in err and "gpu-capacity-ceiling: maxGpusPerPool: expected number" in err


# --- edits config validation rejects: the violating resources are built directly ------------------------

@pytest.fixture(scope="module")
def dev_resources():
    return preview("sandbox").resources


def _deployment(resources):
    return next(r for r in resources if r.type == "kubernetes:apps/v1:Deployment")


def test_missing_ethics_policy_id_fails_in_dev(pack, dev_resources):
    """Config validation requires ethics.policyId, so the id is removed from the recorded Deployment
    (as a hand-written manifest or an edited program would) and sent through the gRPC path."""
    import copy

    resources = copy.deepcopy(dev_resources)
    deployment = _deployment(resources)
    for meta in (deployment.inputs["metadata"], deployment.inputs["spec"]["template"]["metadata"]):
        meta["annotations"].pop("governance.apexlogic.com/ethics-policy-id")
    run = pack.run(resources, config_for("dev"))
    assert [(p, lvl) for p, lvl, _ in violations(run, "ethics-policy-approved")] == [("ethics-policy-approved", "mandatory")]


def test_fractional_gpu_fails_in_dev(pack, dev_resources):
    """GPUs are a StrictInt in config, so the fractional request is written into the recorded
    Deployment directly (a request of 0.5 under a limit of 1)."""
    import copy

    resources = copy.deepcopy(dev_resources)
    container = _deployment(resources).inputs["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["nvidia.com/gpu"] = "0.5"
    run = pack.run(resources, config_for("dev"))
    found = violations(run, "gpu-request-valid")
    assert [(p, lvl) for p, lvl, _ in found] == [("gpu-request-valid", "mandatory")]
    assert "request '0.5' is not a whole number" in found[0][2]


def test_unknown_ethics_policy_id_in_the_stack_file_fails(pack):
    """An id config validation accepts (pattern policy-NNNN-NNN) but the registry does not know."""
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:services"][0]["ethics"]["policyId"] = "policy-2099-999"

    resources = preview("live", edit).resources
    run = pack.run(resources, config_for("prod"))
    found = violations(run, "ethics-policy-approved")
    assert [lvl for _, lvl, _ in found] == ["mandatory"]
    assert "'policy-2099-999' is not in the approved registry" in found[0][2]


# --- the org settings: the stack config is their one home ---------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_renaming_only_the_tag_prefix_keeps_every_stack_green(tmp_path, capsys, stack):
    project = edited_project(tmp_path, stack, lambda c: c["ai-platform:finops"].update(tagPrefix="finops.acme.io"))
    code, report = _preview(tmp_path, stack, project)
    mandatory = [v for v in report["policy"]["violations"] if v["level"] == "mandatory"]
    assert (code, mandatory) == (0, [])
    assert not [v for v in report["policy"]["violations"] if "apexlogic.com/" in v["message"]]


def test_a_pinned_prefix_that_disagrees_with_the_stack_exits_2_naming_both_files(tmp_path, capsys):
    project = own_project(tmp_path)
    pinned = json.loads((project / "policypacks" / "ai-governance" / "config" / "preprod.json").read_text())
    pinned["all"]["tagPrefix"] = "finops.acme.io"
    config = tmp_path / "preprod.json"
    config.write_text(json.dumps(pinned))
    code = main(["preview", "--stack", "preprod", "--project-dir", str(project), "--policy-pack-config", str(config)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"preflight: {config}: all.tagPrefix: 'finops.acme.io' disagrees with stacks/Pulumi.preprod.yaml: "
        "ai-platform:finops.tagPrefix 'finops.apexlogic.com'; the stack config is where org settings live: "
        "remove the pin or make them equal\n")
