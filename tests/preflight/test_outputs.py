"""Outputs never destroy inputs or each other, and are written atomically: through the CLI, on copies of
the tests' own stacks (sandbox is dev, live prod, kind local)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from preflight.cli import main
from tests.support import PROJECT, ROOT

NEVER_RUN = "raise SystemExit('REGISTERED: the program ran')\n"


def project(tmp_path: Path, program: str = NEVER_RUN) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for stack in PROJECT.glob("stacks/Pulumi.*.yaml"):
        (tmp_path / "stacks" / stack.name).write_bytes(stack.read_bytes())
    (tmp_path / "__main__.py").write_text(program)
    return tmp_path


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--json", "--markdown"])
def test_an_output_onto_a_stack_file_is_refused_and_the_file_kept(tmp_path, capsys, flag):
    root = project(tmp_path)
    prod = root / "stacks" / "Pulumi.live.yaml"
    before = prod.read_bytes()
    code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", flag, str(prod)], capsys)
    assert code == 2 and prod.read_bytes() == before
    assert err == f"preflight: {prod}: {flag} would overwrite an input of this run ({prod}); write the output somewhere else\n"


def test_an_output_reaching_an_input_through_a_symlink_or_dotdot_is_refused(tmp_path, capsys):
    root = project(tmp_path)
    link = tmp_path / "report.json"
    link.symlink_to(root / "stacks" / "Pulumi.sandbox.yaml")
    sneaky = root / "stacks" / ".." / "Pulumi.yaml"
    for target in (link, sneaky):
        code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", "--json", str(target)],
                        capsys)
        assert code == 2 and "would overwrite an input of this run" in err


def test_an_output_onto_the_baseline_or_the_pack_config_is_refused(tmp_path, capsys):
    root = project(tmp_path)
    baseline = tmp_path / "main.json"
    baseline.write_text("{}")
    code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", "--baseline", str(baseline),
                     "--markdown", str(baseline)], capsys)
    assert code == 2 and baseline.read_text() == "{}" and "--markdown would overwrite an input" in err
    config = ROOT / "policypacks" / "ai-governance" / "config" / "dev.json"
    before = config.read_bytes()
    code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", "--json", str(config),
                     "--policy-pack", str(ROOT / "policypacks" / "ai-governance")], capsys)
    assert code == 2 and config.read_bytes() == before


def test_two_outputs_onto_one_file_are_refused(tmp_path, capsys):
    root = project(tmp_path)
    out = tmp_path / "out.txt"
    code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", "--json", str(out),
                     "--markdown", str(tmp_path / "." / "out.txt")], capsys)
    assert code == 2 and not out.exists()
    assert err == f"preflight: {tmp_path / 'out.txt'}: both --json and --markdown would write it; give each its own file\n"


def test_stdout_for_at_most_one_output(tmp_path, capsys):
    root = project(tmp_path)
    code, err = run(["preview", "--stack", "sandbox", "--project-dir", str(root), "--no-policy", "--json", "-",
                     "--markdown", "-"], capsys)
    assert code == 2 and err == "preflight: --json and --markdown both write to stdout ('-'); send all but one to a file\n"


def test_a_failed_write_keeps_the_previous_report_whole_and_leaves_no_temp_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "report.json"
    out.write_text('{"previous": "report"}')
    real_replace = os.replace

    def disk_full(src, dst):
        if str(dst) == str(out):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    code, err = run(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--no-policy", "--json", str(out)],
                    capsys)
    assert code == 2 and err.strip().endswith(f"preflight: {out}: cannot write: No space left on device")
    assert out.read_text() == '{"previous": "report"}' and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_update_readme_is_bounded_and_atomic(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PREFLIGHT_POLICY_PYTHON", os.environ.get("PREFLIGHT_POLICY_PYTHON") or __import__("sys").executable)
    code, err = run(["policies", "--update-readme", "/dev/zero"], capsys)
    assert code == 2 and err == "preflight: /dev/zero: is a device, not a regular file\n"
