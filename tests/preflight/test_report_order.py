"""Two runs of the same stack give the same report, byte for byte: the program registers resources
concurrently, and preflight puts them (and every list built from them) in URN order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT
from tests.support.fixtures import PROJECT


def project_with_fixture_stacks(tmp_path: Path) -> Path:
    """The program, its components and the pack, with the tests' own stacks."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("__main__.py", "components", "program", "policypacks"):
        (project / name).symlink_to(ROOT / name)
    for name in ("Pulumi.yaml", "stacks"):
        (project / name).symlink_to(PROJECT / name)
    return project


def test_two_runs_of_one_stack_write_identical_bytes(tmp_path):
    project = project_with_fixture_stacks(tmp_path)
    env = {**os.environ, "PREFLIGHT_POLICY_PYTHON": sys.executable}  # the pack's requirements are installed here
    reports = []
    for run in ("first", "second"):
        out = tmp_path / f"{run}.json"
        result = subprocess.run([sys.executable, "-m", "preflight", "preview", "--stack", "live", "--project-dir",
                                 str(project), "--json", str(out), "--markdown", str(tmp_path / f"{run}.md"),
                                 "--policy-pack-config", str(PROJECT / "policypacks" / "ai-governance" / "config" / "live.json")],
                                cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        reports.append((out.read_bytes(), (tmp_path / f"{run}.md").read_bytes(), result.stdout))
    (first_json, first_md, first_view), (second_json, second_md, second_view) = reports
    assert b'"policy"' in first_json and b'"cost"' in first_json
    assert first_json == second_json
    assert first_md == second_md
    assert first_view == second_view
