"""The shipped pull-request workflow: its baseline and preview steps run as GitHub would run them.

The steps' shell is taken from .github/workflows/preview.yml and run with the variables GitHub
sets, in a clone of this repository whose head commit raises the dev stack's GPU pool: the comment
must read "will increase by", measured against the base commit's own preflight report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflight.analyzer import PACK_PYTHON_ENV
from tests.support import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"


def _steps(job: str) -> dict[str, str]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return {s["name"]: s["run"] for s in doc["jobs"][job]["steps"] if "name" in s and "run" in s}


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_pr_comment_shows_the_cost_change_against_the_base_commit(tmp_path):
    workspace = tmp_path / "ws"
    _git(tmp_path, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(workspace))
    (workspace / ".venv").symlink_to(ROOT / ".venv")
    base = _git(workspace, "rev-parse", "HEAD")
    stack = workspace / "stacks" / "Pulumi.dev.yaml"
    text = stack.read_text()
    assert "      desiredSize: 1\n" in text
    stack.write_text(text.replace("      desiredSize: 1\n", "      desiredSize: 2\n", 1))
    _git(workspace, "commit", "--quiet", "-am", "dev: a second GPU node")

    steps = _steps("preflight")
    out, summary = tmp_path / "output", tmp_path / "summary"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STACK": "dev", "BASE_SHA": base,
           "RUNNER_TEMP": str(tmp_path / "runner"), "GITHUB_WORKSPACE": str(workspace),
           "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
           PACK_PYTHON_ENV: sys.executable, "AI_GOVERNANCE_AS_OF": "2026-12-01"}
    (tmp_path / "runner").mkdir()
    for name in ("Baseline report from the pull request's base commit", "Offline preview with the ai-governance policy pack"):
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", steps[name]],
                              cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (name, done.stdout[-2000:], done.stderr[-2000:])

    assert (workspace / "baseline-dev.json").is_file()
    assert "code=0" in out.read_text()
    comment = (workspace / "preflight-dev.md").read_text()
    assert re.search(r"\*\*Monthly cost will increase by \$[\d,.]+ \(\+[\d.]+%\)\*\*", comment), comment[:600]
    assert "will increase by" in summary.read_text()
    assert _git(workspace, "worktree", "list").count("\n") == 0  # the base worktree is gone


def test_every_setting_the_workflow_reads_is_documented():
    text = WORKFLOW.read_text()
    used = set(re.findall(r"\b(?:vars|secrets)\.([A-Z_]+)", text)) - {"GITHUB_TOKEN"}
    used |= {m for m in re.findall(r"role: (AWS_ROLE_ARN_[A-Z]+)", text)}
    header = text.split("\nname:", 1)[0]
    ci_doc = (ROOT / "docs" / "ci.md").read_text()
    for name in sorted(used):
        assert name in header, f"{name} is not listed in the workflow's header comment"
        assert f"`{name}`" in ci_doc, f"{name} is not documented in docs/ci.md"
