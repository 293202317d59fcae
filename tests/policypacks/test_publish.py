"""The pack directory is what ``pulumi policy publish`` uploads: it must install and run on its own.

The shared FinOps distribution is vendored in ``vendor/`` (refreshed by ``tools/vendor_finops.py``)
and installed by the pack's requirements.txt; one test proves the copy is identical to the source, the other does
what publish and a consuming CLI do: only the pack's files (tracked or not ignored, as publish
honours .gitignore) in a fresh directory, a fresh virtualenv from its ``requirements.txt`` (from
PyPI; pip's own cache keeps repeat runs fast), the pack started and a shipped stack analysed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import pytest

from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from tests.policypacks.conftest import AS_OF, PACK_DIR, ROOT


def _vendor_tool():
    spec = importlib.util.spec_from_file_location("vendor_finops", PACK_DIR / "tools" / "vendor_finops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendored_finops_package_is_identical_to_the_source():
    tool = _vendor_tool()
    source, vendored = tool.package_files(tool.SOURCE), tool.package_files(tool.VENDORED)
    assert sorted(vendored) == sorted(source), "run: .venv/bin/python policypacks/ai-governance/tools/vendor_finops.py"
    stale = [name for name in source if source[name] != vendored[name]]
    assert stale == [], "run: .venv/bin/python policypacks/ai-governance/tools/vendor_finops.py"


def test_the_vendor_tool_adds_updates_and_removes_files_until_the_copy_equals_the_source(tmp_path, monkeypatch):
    tool = _vendor_tool()
    source, vendored = tmp_path / "source", tmp_path / "vendored"
    (source / "data").mkdir(parents=True)
    (source / "a.py").write_text("a = 1\n")
    (source / "data" / "prices.csv").write_text("type,price\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    vendored.mkdir()
    (vendored / "a.py").write_text("a = 0\n")
    (vendored / "gone.py").write_text("old = True\n")
    monkeypatch.setattr(tool, "SOURCE", source)
    monkeypatch.setattr(tool, "VENDORED", vendored)
    assert tool.sync() == ["a.py", "data/prices.csv", "gone.py"]
    assert tool.package_files(vendored) == tool.package_files(source)
    assert "__pycache__/a.cpython-311.pyc" not in tool.package_files(vendored)
    assert tool.sync() == []


def published_files() -> list[str]:
    """The pack's files as publish sees them: tracked, or untracked and not ignored."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "."],
                         cwd=PACK_DIR, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line and (PACK_DIR / line).is_file()]


def test_published_files_reach_nothing_outside_the_pack():
    files = published_files()
    assert "requirements.txt" in files and "vendor/ai_platform_finops/org.py" in files
    assert not [f for f in files if f.startswith(("venv/", "__pycache__")) or "/__pycache__/" in f]
    assert "vendor/pyproject.toml" in files
    for line in (PACK_DIR / "requirements.txt").read_text().splitlines():
        assert ".." not in line and not line.startswith(("-r", "-c", "/")) and " /" not in line, line
    assert "./vendor" in (PACK_DIR / "requirements.txt").read_text().splitlines()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the pack's files")
def test_publish_simulation_installs_in_a_fresh_venv_and_passes_a_shipped_stack(tmp_path, monkeypatch, capsys):
    published = tmp_path / "ai-governance"
    for name in published_files():
        target = published / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACK_DIR / name, target)
    monkeypatch.delenv(PACK_PYTHON_ENV, raising=False)  # preflight builds the pack's venv, as `pulumi install` does
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", AS_OF)
    out = tmp_path / "staging.json"
    code = main(["preview", "--stack", "staging", "--project-dir", str(ROOT), "--policy-pack", str(published),
                 "--policy-pack-config", str(published / "config" / "staging.json"), "--json", str(out)])
    err = capsys.readouterr().err
    assert "installing the policy pack's dependencies" in err
    report = json.loads(out.read_text())
    assert [v for v in report["policy"]["violations"] if v["level"] == "mandatory"] == []
    assert code == 0 and report["policy"]["packs"][0]["policies"] == 35
    # The fresh venv's FinOps package was installed from the published pack's vendored copy.
    found = subprocess.run([str(published / "venv" / "bin" / "python"), "-c",
                            "import importlib.metadata as m; print(m.distribution('ai-platform-finops').read_text('direct_url.json'))"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert json.loads(found)["url"] == (published / "vendor").as_uri()
