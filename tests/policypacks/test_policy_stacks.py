"""The shipped stacks pass their own policy config; edited stacks exit 1 naming the right policy.

These go through ``python -m preflight preview`` itself (``preflight.cli.main``): program under
mocks, then the pack as a subprocess over the Analyzer protocol. The pack runs with this
interpreter (``PREFLIGHT_POLICY_PYTHON``) and the reference date is pinned
(``AI_GOVERNANCE_AS_OF``), so the suite needs no network and does not age.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from preflight.bounded import load_yaml
from tests.policypacks.conftest import AS_OF, ROOT, config_for, violations
from tests.support import STACKS, preview


@pytest.fixture(autouse=True)
def _pack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PACK_PYTHON_ENV, sys.executable)
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", AS_OF)


def _preview(tmp_path: Path, stack: str, project_dir: Path = ROOT, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / f"{stack}.json"
    code = main(["preview", "--stack", stack, "--project-dir", str(project_dir), "--json", str(out), *extra])
    return code, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stack_passes_its_own_policy_config(tmp_path, capsys, stack):
    code, report = _preview(tmp_path, stack)
    policy = report["policy"]
    assert policy["mandatory"] == 0, [v for v in policy["violations"] if v["level"] == "mandatory"]
    assert code == 0
    assert policy["packs"] == [{"name": "ai-governance", "version": "1.0.0", "policies": 34,
                                "config": f"policypacks/ai-governance/config/{stack}.json"}]
    assert "Policy pack ai-governance@1.0.0" in capsys.readouterr().out


def edited_project(tmp_path: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A project directory whose ``stacks/Pulumi.<stack>.yaml`` is edited (everything else linked)."""
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "components", "policypacks", "finops"):
        (project / name).symlink_to(ROOT / name)
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        (project / "stacks" / path.name).write_text(path.read_text())
    doc = load_yaml(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    edit(doc["config"])
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return project


def _gpu_pool(config: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in config["ai-platform:nodePools"] if p.get("role") == "gpu")


def test_p5_in_dev_exits_1_naming_the_allowlist(tmp_path, capsys):
    project = edited_project(tmp_path, "dev", lambda c: _gpu_pool(c).update(instanceTypes=["p5.48xlarge"]))
    code, report = _preview(tmp_path, "dev", project)
    assert code == 1
    mandatory = {v["policy"] for v in report["policy"]["violations"] if v["level"] == "mandatory"}
    assert "gpu-instance-allowlist" in mandatory
    assert "[mandatory]  gpu-instance-allowlist" in capsys.readouterr().out


def test_budget_too_low_exits_1_naming_cost_within_budget(tmp_path):
    project = edited_project(tmp_path, "dev",
                             lambda c: c["ai-platform:budgets"]["monthlyLimitsUsd"].update({"project-nova": 50}))
    code, report = _preview(tmp_path, "dev", project)
    assert code == 1
    found = [v for v in report["policy"]["violations"] if v["policy"] == "cost-within-budget"]
    assert [v["level"] for v in found] == ["mandatory"]
    assert "exceeds its budget of $50.00" in found[0]["message"] and "top items:" in found[0]["message"]


def test_prod_without_an_slo_or_an_owner_route_fails_observability_coverage(tmp_path):
    def unwatched(config: dict[str, Any]) -> None:
        config["ai-platform:services"][1].pop("slo")
        config["ai-platform:observability"]["receivers"].pop("project-atlas")
    code, report = _preview(tmp_path, "prod", edited_project(tmp_path, "prod", unwatched))
    assert code == 1
    (found,) = [v for v in report["policy"]["violations"] if v["policy"] == "observability-coverage"]
    assert found["level"] == "mandatory" and "claims-triage-assistant" in found["message"]
    assert "an owner route for project 'project-atlas'" in found["message"]
    assert "SLO burn-rate alerts (services[].slo)" in found["message"]
    assert "model quality alerts" not in found["message"]  # its tier's thresholds still generate them


def test_no_policy_skips_the_pack(tmp_path):
    code, report = _preview(tmp_path, "local", ROOT, "--no-policy")
    assert code == 0 and "policy" not in report


def test_a_missing_policy_config_is_a_usage_error(tmp_path, capsys):
    code, _ = _preview(tmp_path, "local", ROOT, "--policy-pack-config", str(tmp_path / "nope.json"))
    assert code == 2
    assert "policy pack config not found" in capsys.readouterr().err


def test_an_invalid_policy_config_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gpu-capacity-ceiling": {"maxGpusPerPool": "lots"}}))
    code, _ = _preview(tmp_path, "local", ROOT, "--policy-pack-config", str(bad))
    assert code == 2
    err = capsys.readouterr().err
    assert "the policy pack config is invalid" in err and "gpu-capacity-ceiling: maxGpusPerPool: expected number" in err


# --- edits config validation rejects: the violating resources are built directly ------------------------

@pytest.fixture(scope="module")
def dev_resources():
    return preview("dev").resources


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

    resources = preview("prod", edit).resources
    run = pack.run(resources, config_for("prod"))
    found = violations(run, "ethics-policy-approved")
    assert [lvl for _, lvl, _ in found] == ["mandatory"]
    assert "'policy-2099-999' is not in the approved registry" in found[0][2]


# --- the org settings: the stack config is their one home ---------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_renaming_only_the_tag_prefix_keeps_every_shipped_stack_green(tmp_path, capsys, stack):
    project = edited_project(tmp_path, stack, lambda c: c["ai-platform:finops"].update(tagPrefix="finops.acme.io"))
    code, report = _preview(tmp_path, stack, project)
    mandatory = [v for v in report["policy"]["violations"] if v["level"] == "mandatory"]
    assert (code, mandatory) == (0, [])
    assert not [v for v in report["policy"]["violations"] if "apexlogic.com/" in v["message"]]


def test_a_pinned_prefix_that_disagrees_with_the_stack_exits_2_naming_both_files(tmp_path, capsys):
    pinned = json.loads((ROOT / "policypacks" / "ai-governance" / "config" / "staging.json").read_text())
    pinned["all"]["tagPrefix"] = "finops.acme.io"
    config = tmp_path / "staging.json"
    config.write_text(json.dumps(pinned))
    code = main(["preview", "--stack", "staging", "--policy-pack-config", str(config)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"preflight: {config}: all.tagPrefix: 'finops.acme.io' disagrees with stacks/Pulumi.staging.yaml: "
        "ai-platform:finops.tagPrefix 'finops.apexlogic.com'; the stack config is where org settings live: "
        "remove the pin or make them equal\n")
