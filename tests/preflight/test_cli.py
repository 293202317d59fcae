"""The preflight command line: exit codes, messages without tracebacks, the JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.cli import main
from tests.support import PROJECT, ROOT, own_project


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def broken_project(tmp_path: Path, edit) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (PROJECT / "stacks" / "Pulumi.sandbox.yaml").read_text()  # the tests' own dev stack
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(edit(text))
    (tmp_path / "__main__.py").write_text("raise SystemExit('the program must not run for a broken stack')\n")
    return tmp_path


def test_json_to_stdout_is_the_report_alone(capsys):
    code, out, err = run(["preview", "--stack", "sandbox", "--project-dir", str(PROJECT), "--no-policy", "--json", "-"],
                         capsys)
    assert code == 0
    report = json.loads(out)
    assert report["schema"] == "preflight/v1" and report["stack"] == "sandbox"
    assert "to create" in err  # the human view moved to stderr


def test_human_view_shows_the_plan(capsys):
    code, out, _ = run(["preview", "--stack", "sandbox", "--project-dir", str(PROJECT), "--no-policy"], capsys)
    assert code == 0
    assert "Previewing update (sandbox)" in out and "to create" in out


def test_json_file_is_written(tmp_path, capsys):
    target = tmp_path / "kind.json"
    code, _, _ = run(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--no-policy", "--json", str(target)],
                     capsys)
    assert code == 0
    assert json.loads(target.read_text())["stack"] == "kind"


def test_broken_stack_exits_2_with_one_line_per_problem_and_registers_nothing(tmp_path, capsys):
    project = broken_project(tmp_path, lambda t: t.replace("maxSize: 2\n", "maxSize: two\n", 1)
                             .replace("nodePool: gpu-a10g", "nodePool: gpu-h100")
                             .replace("owner: ml-platform-team", "owner: ML Team!"))
    code, out, err = run(["preview", "--stack", "dev", "--project-dir", str(project)], capsys)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "stacks/Pulumi.dev.yaml: finops.owner: label value 'ML Team!' must be at most 63 characters of letters, "
        "digits, '-', '_' or '.', starting and ending alphanumeric",
        "stacks/Pulumi.dev.yaml: nodePools[1].maxSize: Input should be a valid integer, unable to parse string as "
        "an integer (got 'two')",
    ]


def test_unknown_pool_exits_2(tmp_path, capsys):
    project = broken_project(tmp_path, lambda t: t.replace("nodePool: gpu-a10g", "nodePool: gpu-h100"))
    code, _, err = run(["preview", "--stack", "dev", "--project-dir", str(project)], capsys)
    assert code == 2
    assert err.strip() == ("stacks/Pulumi.dev.yaml: services[0].nodePool: unknown node pool 'gpu-h100'; "
                           "known: system, gpu-a10g")


def test_missing_stack_names_the_stacks_there(capsys):
    code, _, err = run(["preview", "--stack", "qa", "--project-dir", str(PROJECT)], capsys)
    assert code == 2
    assert err.strip() == "stacks/Pulumi.qa.yaml: (file): no such stack file; stacks here: kind, live, preprod, sandbox"


def test_malformed_yaml_says_where(tmp_path, capsys):
    project = broken_project(tmp_path, lambda t: t + "  ai-platform:protect: [unclosed\n")
    code, _, err = run(["preview", "--stack", "dev", "--project-dir", str(project)], capsys)
    assert code == 2
    assert err.startswith("stacks/Pulumi.dev.yaml: (yaml): line ")


def test_unwritable_json_path_exits_2(tmp_path, capsys):
    code, _, err = run(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--no-policy", "--json",
                        str(tmp_path / "missing-dir" / "r.json")], capsys)
    assert code == 2
    assert "r.json: cannot write" in err


def test_usage_errors_exit_2(capsys):
    assert run(["preview"], capsys)[0] == 2
    assert run(["frobnicate"], capsys)[0] == 2


def test_the_module_entry_point_prints_no_traceback(tmp_path):
    project = broken_project(tmp_path, lambda t: t.replace("nodePool: gpu-a10g", "nodePool: gpu-h100"))
    result = subprocess.run(
        [sys.executable, "-m", "preflight", "preview", "--stack", "dev", "--project-dir", str(project)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "services[0].nodePool: unknown node pool 'gpu-h100'" in result.stderr


def test_unreadable_stack_file_exits_2(tmp_path, capsys):
    project = broken_project(tmp_path, lambda t: t)
    stack = project / "stacks" / "Pulumi.dev.yaml"
    stack.unlink()
    stack.mkdir()  # reading a directory fails even as root, where file modes would not
    code, _, err = run(["preview", "--stack", "dev", "--project-dir", str(project)], capsys)
    assert code == 2
    assert err == "stacks/Pulumi.dev.yaml: (file): is a directory, not a regular file\n"


def test_stack_file_that_is_not_utf8_exits_2(tmp_path, capsys):
    project = broken_project(tmp_path, lambda t: t)
    (project / "stacks" / "Pulumi.dev.yaml").write_bytes(b"config:\n  ai-platform:environment: \xff\xfe\n")
    code, _, err = run(["preview", "--stack", "dev", "--project-dir", str(project)], capsys)
    assert code == 2
    assert err == "stacks/Pulumi.dev.yaml: (file): is not UTF-8 text (at byte offset 35)\n"


@pytest.mark.parametrize("stack", ["live", "kind"])
def test_the_full_report_with_cost_and_policy_matches_the_documented_schema(stack, tmp_path, capsys, monkeypatch):
    import jsonschema

    monkeypatch.setenv("PREFLIGHT_POLICY_PYTHON", sys.executable)  # the pack's requirements are installed here
    target = tmp_path / "report.json"
    code, _, _ = run(["preview", "--stack", stack, "--project-dir", str(own_project(tmp_path)), "--json", str(target)],
                     capsys)
    assert code == 0
    report = json.loads(target.read_text())
    jsonschema.validate(report, json.loads((ROOT / "preflight" / "report.schema.json").read_text()))
    assert {"cost", "policy"} <= set(report)
    assert report["policy"]["mandatory"] == 0 and report["policy"]["packs"][0]["name"] == "ai-governance"
