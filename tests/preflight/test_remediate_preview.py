"""``python -m preflight preview`` with FinOps tags and labels at ``remediate``, as a user runs it on the
tests' own prod stack (``live``). The pack config (tests/fixtures/project/policypacks/ai-governance/
remediate/live.json) is live's own, with both FinOps policies at ``remediate`` and spot requests added
to the launch-template entries that must carry the FinOps tags (an organisation allocating spot
requests' cost too). The program's launch templates tag instances, volumes and network interfaces
only, so at ``mandatory`` that config blocks; at ``remediate`` the pack adds the entry from the
stack's FinOps contract, the report lists each remediation, the report's inputs carry it, and no
violation is left. Two runs give the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.preflight.test_report_order import project_with_fixture_stacks
from tests.support import ROOT
from tests.support.fixtures import PROJECT

CONFIG = PROJECT / "policypacks" / "ai-governance" / "remediate" / "live.json"
SPOT = "spot-instances-request"
CONTRACT = {"finops.apexlogic.com/owner": "ml-platform-team", "finops.apexlogic.com/project": "project-nova",
            "finops.apexlogic.com/cost-center": "ai-innovation", "finops.apexlogic.com/tier": "production",
            "finops.apexlogic.com/environment": "prod"}
"""The fixture stack's FinOps contract (its ai-platform:finops and environment), under its tag prefix."""


def preview(project: Path, config: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFLIGHT_POLICY_PYTHON": sys.executable}  # the pack's requirements are installed here
    return subprocess.run([sys.executable, "-m", "preflight", "preview", "--stack", "live", "--project-dir", str(project),
                           "--policy-pack-config", str(config), "--json", str(out / "report.json"),
                           "--markdown", str(out / "comment.md")],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_remediate_fixes_the_launch_templates_and_the_report_says_how(tmp_path):
    import jsonschema

    project = project_with_fixture_stacks(tmp_path)
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        result = preview(project, CONFIG, tmp_path / name)
        assert result.returncode == 0, result.stderr[-2000:]
        runs.append(result)
    report = json.loads((tmp_path / "first" / "report.json").read_text())
    jsonschema.validate(report, json.loads((ROOT / "preflight" / "report.schema.json").read_text()))
    policy = report["policy"]
    assert policy["mandatory"] == 0
    assert [v for v in policy["violations"] if v["policy"].startswith("finops-")] == []

    templates = {r["urn"]: r for r in report["resources"] if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate"}
    assert len(templates) == 3
    assert [r["urn"] for r in policy["remediations"]] == sorted(templates)
    for entry in policy["remediations"]:
        assert entry["policy"] == "finops-required-tags" and entry["pack"] == "ai-governance"
        inputs = templates[entry["urn"]]["inputs"]
        specs = inputs["tagSpecifications"]
        index = [s["resourceType"] for s in specs].index(SPOT)
        # The template's own FinOps values (its project's), not the stack-wide contract's; the report's
        # inputs are the remediated ones.
        own = {k: inputs["tags"][k] for k in CONTRACT}
        assert specs[index]["tags"] == own
        assert sorted(entry["changes"], key=lambda c: c["path"]) == sorted(
            [{"path": f"tagSpecifications[{index}].resourceType", "change": "added", "after": SPOT}]
            + [{"path": f'tagSpecifications[{index}].tags["{k}"]', "change": "added", "after": v}
               for k, v in own.items()], key=lambda c: c["path"])
    assert len({json.dumps(t["inputs"]["tags"], sort_keys=True) for t in templates.values()}) > 1  # several projects

    view, comment = runs[0].stdout, (tmp_path / "first" / "comment.md").read_text()
    assert view.count("[remediate]  finops-required-tags  (LaunchTemplate ") == 3
    assert f'+ tagSpecifications[3].resourceType: "{SPOT}"' in view
    assert "3 remediation(s) applied" in view
    assert "**:wrench: 3 remediation(s)**" in comment and "| `finops-required-tags` | LaunchTemplate " in comment

    for part in ("report.json", "comment.md"):
        assert (tmp_path / "first" / part).read_bytes() == (tmp_path / "second" / part).read_bytes()
    assert runs[0].stdout == runs[1].stdout


def test_the_same_config_at_mandatory_blocks_on_the_keys_remediate_adds(tmp_path):
    """What the remediation fixed was really wrong: without it the same launch templates fail."""
    config = tmp_path / "mandatory.json"
    config.write_text(CONFIG.read_text().replace('"enforcementLevel": "remediate"', '"enforcementLevel": "mandatory"'))
    (tmp_path / "out").mkdir()
    result = preview(project_with_fixture_stacks(tmp_path), config, tmp_path / "out")
    assert result.returncode == 1, result.stderr[-2000:]
    policy = json.loads((tmp_path / "out" / "report.json").read_text())["policy"]
    assert "remediations" not in policy
    failed = [v for v in policy["violations"] if v["level"] == "mandatory"]
    assert len(failed) == 3 and all(v["policy"] == "finops-required-tags" and f"'{SPOT}'" in v["message"]
                                    for v in failed)
