"""The README's "Your first change" walkthrough, run as written: its YAML, its commands' outputs.

A shipped-stack test: the README walks a user through editing the shipped ``stacks/Pulumi.dev.yaml`` and
quotes what preflight then prints, so it runs on that file.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from tests.support.shipped import ROOT, edited_project

README = (ROOT / "README.md").read_text()
SECTION = README.split("## Your first change", 1)[1].split("## Running it for real", 1)[0]


def _additions() -> dict[str, list[Any]]:
    """The list items the walkthrough adds, per stack-config key."""
    block = SECTION.split("```yaml", 1)[1].split("```", 1)[0]
    parts = re.split(r"^  (ai-platform:\w+):\n", block, flags=re.M)[1:]
    return {key: yaml.safe_load(textwrap.dedent(body)) for key, body in zip(parts[::2], parts[1::2])}


def _project(tmp_path: Path, edit) -> Path:
    return edited_project(tmp_path, "dev", edit)


def _quoted(after: str) -> str:
    """The first fenced block after ``after`` in the walkthrough."""
    return SECTION.split(after, 1)[1].split("```", 2)[1].split("\n", 1)[1]


def test_the_first_change_walkthrough_says_what_the_preview_says(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(PACK_PYTHON_ENV, sys.executable)
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", "2026-12-01")
    additions = _additions()
    assert set(additions) == {"ai-platform:nodePools", "ai-platform:projects", "ai-platform:services"}
    base = tmp_path / "base.json"
    assert main(["preview", "--stack", "dev", "--no-policy", "--json", str(base)]) == 0
    capsys.readouterr()

    def add(config: dict[str, Any]) -> None:
        for key, items in additions.items():
            config[key].extend(items)

    project = _project(tmp_path / "1", add)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project)]) == 2
    assert capsys.readouterr().err.strip() == _quoted("nothing ran):").strip()

    def add_with_budget(config: dict[str, Any]) -> None:
        add(config)
        config["ai-platform:budgets"]["monthlyLimitsUsd"]["team-orion"] = 300

    project = _project(tmp_path / "2", add_with_budget)
    comment = tmp_path / "comment.md"
    code = main(["preview", "--stack", "dev", "--project-dir", str(project), "--baseline", str(base),
                 "--markdown", str(comment)])
    out = capsys.readouterr().out
    assert code == 0 and "Policies: 0 mandatory, 0 advisory violation(s)" in out
    for line in _quoted("the cost section prices the change per project:").splitlines():
        assert line in out, line
    headline = re.search(r'\*\*"(Monthly cost will [^"]+)"\*\*', SECTION.replace("\n", " "))
    assert headline is not None and headline.group(1).replace("**", "") in comment.read_text().replace("**", "")

    def bigger(config: dict[str, Any]) -> None:
        add_with_budget(config)
        next(p for p in config["ai-platform:nodePools"] if p["name"] == "gpu-l4")["instanceTypes"] = ["g6.12xlarge"]

    project = _project(tmp_path / "3", bigger)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project)]) == 1
    out = capsys.readouterr().out
    for line in _quoted("the pack blocks it (exit 1):").splitlines():
        for piece in line.strip().split("..."):
            assert piece.strip(" ;") in out, piece
