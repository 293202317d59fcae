"""Hostile files through the command line: raw YAML and JSON text (aliases, deep nesting, huge
numbers, duplicate keys, tags, NaN), devices and FIFOs. Whatever they hold, preflight exits 2 with
one `file: what is wrong` line, never a traceback, without running the program.

The generated text is raw: not ``safe_dump`` of valid trees, so the parser itself is attacked.
The worst cases also run as a real subprocess whose own peak memory is read back (``wait4``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from preflight.analyzer import PolicyPackError, load_policy_config
from preflight.cli import main
from tests.support import PROJECT, ROOT

STACK = "stacks/Pulumi.dev.yaml"
NEVER_RUN = "raise SystemExit('REGISTERED: the program ran')\n"


def project(tmp: Path, stack_text: str | bytes | None = None) -> Path:
    (tmp / "stacks").mkdir(exist_ok=True)
    (tmp / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = tmp / STACK
    if stack.exists() or stack.is_symlink():
        stack.unlink()
    if stack_text is None:
        stack.write_text((PROJECT / "stacks" / "Pulumi.sandbox.yaml").read_text())  # the tests' own dev stack
    elif isinstance(stack_text, bytes):
        stack.write_bytes(stack_text)
    else:
        stack.write_text(stack_text)
    (tmp / "__main__.py").write_text(NEVER_RUN)
    return tmp


# --- raw YAML --------------------------------------------------------------------------------------

keys = st.sampled_from(["a", "b", "ai-platform:environment", "ai-platform:finops", "config", "<<", "x y", "1"])
plain = st.one_of(
    st.sampled_from(["1", "-0", "0x1F", "1e400", ".inf", "-.NaN", "1" + "0" * 5000, "9" * 30, "~", "null", "yes",
                     "2026-11-02", "'q'", '"\\u00e9"', "!!binary aGk=", "!!set {a}", "!!python/object:os.system x",
                     "!custom x", "!!timestamp 2026-01-01", "=", "&a x", "*a", "*undefined"]),
    st.from_regex(r"[A-Za-z0-9 ._:-]{0,12}", fullmatch=True),
)


@st.composite
def yaml_node(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["scalar", "flow-seq", "flow-map", "anchor", "alias", "deep"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return draw(plain)
    if kind == "flow-seq":
        return "[" + ", ".join(draw(st.lists(yaml_node(depth + 1), max_size=4))) + "]"
    if kind == "flow-map":
        pairs = draw(st.lists(st.tuples(keys, yaml_node(depth + 1)), max_size=4))  # keys repeat: duplicates
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if kind == "anchor":
        return f"&{draw(st.sampled_from(['a', 'b']))} " + draw(yaml_node(depth + 1))
    if kind == "alias":
        return "[" + ", ".join(["*a"] * draw(st.integers(1, 12))) + "]"
    n = draw(st.sampled_from([70, 1000, 20_000]))
    return "[" * n + "]" * n


@st.composite
def raw_stack(draw) -> str:
    lines = ["config:"]
    for key, value in draw(st.lists(st.tuples(keys, yaml_node()), min_size=1, max_size=5)):
        lines.append(f"  {key}: {value}")
    if draw(st.booleans()):
        lines.insert(1, "  a: &a [x, x, x, x, x, x, x, x, x, x]")
        lines += [f"  l{i}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(draw(st.integers(1, 7)))]
    return "\n".join(lines) + "\n"


def assert_exit_2_with_file_lines(code: int, out: str, err: str, source: str) -> None:
    assert code == 2, (code, err[-2000:])
    assert "Traceback" not in err and "REGISTERED" not in err and out == ""
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"{source}: ") or line.startswith(f"preflight: {source}: ")
                         for line in lines), lines


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=raw_stack())
def test_raw_yaml_stack_files_exit_2_with_file_lines(tmp_path_factory, capsys, text):
    root = project(tmp_path_factory.mktemp("p"), text)
    code = main(["preview", "--stack", "dev", "--project-dir", str(root), "--no-policy"])
    out, err = capsys.readouterr()
    assert_exit_2_with_file_lines(code, out, err, STACK)


# --- raw JSON ----------------------------------------------------------------------------------------

json_scalar = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * 5000, "9223372036854775808",
                     "0.1", "true", "null", '"x"', '"preflight/v1"', "01", "1.", "\"\\ud800\""]),
    st.integers(-10, 10).map(str),
)


@st.composite
def json_node(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["scalar", "array", "object", "deep"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return draw(json_scalar)
    if kind == "array":
        return "[" + ", ".join(draw(st.lists(json_node(depth + 1), max_size=4))) + "]"
    if kind == "object":
        pairs = draw(st.lists(st.tuples(st.sampled_from(["schema", "cost", "items", "by_project", "a"]),
                                        json_node(depth + 1)), max_size=4))
        return "{" + ", ".join(f'"{k}": {v}' for k, v in pairs) + "}"
    n = draw(st.sampled_from([65, 1000, 50_000]))
    return "[" * n + "]" * n


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=json_node())
def test_raw_json_baselines_exit_2_with_file_lines(tmp_path_factory, capsys, text):
    root = project(tmp_path_factory.mktemp("p"))
    baseline = root / "baseline.json"
    baseline.write_text(text)
    code = main(["preview", "--stack", "dev", "--project-dir", str(root), "--no-policy", "--baseline", str(baseline)])
    out, err = capsys.readouterr()
    assert_exit_2_with_file_lines(code, out, err, str(baseline))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=json_node())
def test_raw_json_pack_configs_exit_2_before_anything_runs(tmp_path_factory, capsys, text):
    root = project(tmp_path_factory.mktemp("p"))
    config = root / "policy.json"
    config.write_text(text)
    try:
        load_policy_config(config)  # only PolicyPackError may come out of it
    except PolicyPackError:
        pass
    else:
        assume(False)  # a usable config would start the pack and run the program: not this test's subject
    code = main(["preview", "--stack", "dev", "--project-dir", str(root), "--policy-pack-config", str(config),
                 "--policy-pack", str(ROOT / "policypacks" / "ai-governance")])
    out, err = capsys.readouterr()
    assert_exit_2_with_file_lines(code, out, err, str(config))


# --- the worst cases, as a user runs them, with their peak memory ------------------------------------

BOMB = ("config:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)))
HOSTILE_STACKS = {
    "alias-bomb": (BOMB, "expands to more than 50,000 values (aliases)"),
    "deep-nesting": ("config:\n  a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested deeper than 64 levels"),
    "deep-block": ("config:\n" + "".join(" " * (2 * i + 2) + f"k{i}:\n" for i in range(200)), "nested deeper than 64 levels"),
    "10^400": ("config:\n  ai-platform:protect: 1.0e+400\n", "is not finite"),
    "5000-digits": ("config:\n  ai-platform:protect: 1" + "0" * 5000 + "\n", "has 5001 characters"),
    "duplicate-key": ("config:\n  ai-platform:environment: dev\n  ai-platform:environment: prod\n",
                      "duplicate key 'ai-platform:environment'"),
    "python-tag": ("config:\n  a: !!python/object/apply:os.system ['true']\n", "is not allowed"),
    "wide": ("config:\n  a: [" + "x, " * 60_000 + "x]\n", "holds more than 50,000 values"),
    "huge-file": ("config:\n  a: '" + "x" * (2 * 1024 * 1024) + "'\n", "over the 1 MiB limit"),
}


def run_measured(argv: list[str], cwd: Path = ROOT) -> tuple[int, str, int]:
    """Exit code, stderr and peak RSS (KiB) of one ``python -m preflight`` run."""
    err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"preflight-err-{os.getpid()}"
    with open(err_path, "w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "preflight", *argv], cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=err, env={**os.environ, "PYTHONPATH": ""})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    err_path.unlink()
    return proc.returncode, text, usage.ru_maxrss


@pytest.mark.parametrize("name", list(HOSTILE_STACKS))
def test_hostile_stack_files_through_the_real_cli_stay_small(tmp_path, name):
    text, problem = HOSTILE_STACKS[name]
    root = project(tmp_path, text)
    code, err, peak_kib = run_measured(["preview", "--stack", "dev", "--project-dir", str(root)])
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [line for line in err.strip().splitlines() if line.startswith(f"{STACK}: ")]
    assert problem in err
    assert peak_kib < 512 * 1024, f"{name}: {peak_kib / 1024:.0f} MiB"


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_non_regular_stack_files_and_baselines_are_refused_without_blocking(tmp_path, kind):
    root = project(tmp_path)
    target = root / "odd"
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
        expected = "is a device, not a regular file"
    elif kind == "fifo":
        os.mkfifo(target)  # nobody ever writes: a blocking open would hang forever
        expected = "is a FIFO, not a regular file"
    else:
        target.mkdir()
        expected = "is a directory, not a regular file"
    code, err, peak_kib = run_measured(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--no-policy",
                                          "--baseline", str(target)])
    assert code == 2 and err.strip() == f"preflight: {target}: the baseline report: {expected}"
    (root / STACK).unlink()
    (root / STACK).symlink_to(target)
    code, err, _ = run_measured(["preview", "--stack", "dev", "--project-dir", str(root)])
    assert code == 2 and err.strip() == f"{STACK}: (file): {expected}"
    assert peak_kib < 512 * 1024


@pytest.mark.parametrize("content, problem", [
    ('{"schema": "preflight/v1", "cost": {"total": {"expected": NaN}, "items": [], "by_project": {}}}',
     "NaN is not a JSON number"),
    ('{"schema": "preflight/v1", "cost": {"total": {"expected": Infinity}, "items": [], "by_project": {}}}',
     "Infinity is not a JSON number"),
    ('{"schema": "preflight/v1", "cost": {"total": {"expected": 1e400}, "items": [], "by_project": {}}}',
     "number 1e400 is out of range"),
    ('{"schema": "preflight/v1", "schema": "preflight/v1"}', "duplicate key 'schema'"),
    ("[" + "1," * 1_000_000 + "1]", "holds more than 1,000,000 values"),
    ("[" * 65 + "]" * 65, "nested deeper than 64 levels"),
])
def test_a_baseline_with_nan_infinity_or_too_many_values_is_refused(tmp_path, capsys, content, problem):
    baseline = tmp_path / "main.json"
    baseline.write_text(content)
    assert main(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--no-policy", "--baseline",
                 str(baseline)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"preflight: {baseline}: not a JSON report: {problem}\n"


@pytest.mark.parametrize("stack", ["a::b", "x/../../etc/passwd", "../prod", "", "dev stack", "x" * 101])
def test_stack_names_follow_pulumis_rule(capsys, stack):
    assert main(["preview", "--stack", stack, "--project-dir", str(PROJECT), "--no-policy"]) == 2
    err = capsys.readouterr().err
    assert re.match(r"^--stack: '.*': stack names ", err) and err.count("\n") == 1
