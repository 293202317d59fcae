"""The generator of the pack's taggable-type list writes the header the pack and its test read."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.policypacks.conftest import PACK_DIR


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_taggable_types_under_test",
                                                  PACK_DIR / "tools" / "gen_taggable_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_render_puts_version_date_and_source_above_the_types():
    assert _tool().render("7.51.1", ["aws:a/b:B", "aws:c/d:D"], "2026-12-01").splitlines() == [
        "# pulumi-aws: 7.51.1", "# date: 2026-12-01",
        "# source: resource classes of the pulumi-aws Python SDK that take a `tags` input",
        "# regenerate: .venv/bin/python policypacks/ai-governance/tools/gen_taggable_types.py",
        "aws:a/b:B", "aws:c/d:D"]


def test_main_writes_the_list(tmp_path: Path, monkeypatch, capsys):
    tool = _tool()
    out = tmp_path / "aws-taggable-types.txt"
    monkeypatch.setattr(tool, "OUT", out)
    monkeypatch.setattr(tool, "taggable_types", lambda: ("7.51.1", ["aws:a/b:B"]))
    assert tool.main() == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# pulumi-aws: 7.51.1" and lines[-1] == "aws:a/b:B"
    assert "1 taggable types from pulumi-aws 7.51.1" in capsys.readouterr().err
