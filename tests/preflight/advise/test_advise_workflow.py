""".github/workflows/advise.yml: weekly, per stack, the advisor's patch and report become one pull request."""

from __future__ import annotations

import yaml

from tests.support import ROOT

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "advise.yml").read_text())


def _steps() -> dict[str, dict]:
    return {s.get("name", s.get("uses")): s for s in WORKFLOW["jobs"]["advise"]["steps"]}


def test_it_runs_weekly_for_every_shipped_stack_with_aws_but_local():
    on = WORKFLOW[True] if True in WORKFLOW else WORKFLOW["on"]  # YAML 1.1 reads the key `on` as true
    assert on["schedule"] == [{"cron": "0 6 * * MON"}] and "workflow_dispatch" in on
    stacks = {entry["stack"] for entry in WORKFLOW["jobs"]["advise"]["strategy"]["matrix"]["include"]}
    shipped = {p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")}
    assert stacks == shipped - {"local"}


def test_the_pull_request_carries_the_patched_stack_and_the_report_the_step_writes():
    steps = _steps()
    script = steps["Advise"]["run"]
    assert "--patch" in script and '--markdown "out/advise-$STACK.md"' in script
    assert ".venv/bin/python -m preflight advise" in script
    pr = steps["Open or update the pull request"]
    assert pr["uses"].startswith("peter-evans/create-pull-request@v")
    assert pr["with"]["body-path"] == "out/advise-${{ matrix.stack }}.md"
    assert pr["with"]["add-paths"] == "stacks/Pulumi.${{ matrix.stack }}.yaml"
    perms = WORKFLOW["jobs"]["advise"]["permissions"]
    assert perms == {"contents": "write", "pull-requests": "write", "id-token": "write"}
