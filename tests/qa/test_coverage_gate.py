"""qa.coverage_gate: packages, floors, the pack-process check and the docs table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa import coverage_gate as gate

ROOT = Path(__file__).resolve().parents[2]


def summary(statements: int, missing: int, branches: int = 0, partial: int = 0, executed: int = 1) -> dict[str, Any]:
    return {"summary": {"num_statements": statements, "missing_lines": missing, "num_branches": branches,
                        "missing_branches": partial}, "executed_lines": list(range(executed))}


@pytest.mark.parametrize("path, package", [
    ("policypacks/ai-governance/ai_governance/gpu_workloads.py", "policy pack rules"),
    ("policypacks/ai-governance/ai_governance/k8s/pods.py", "policy pack rules"),
    ("policypacks/ai-governance/__main__.py", "policy pack entry point and tools"),
    ("policypacks/ai-governance/tools/gen_taggable_types.py", "policy pack entry point and tools"),
    ("finops/ai_platform_finops/estimator/pricer.py", "estimator"),  # before the rest of finops
    ("finops/ai_platform_finops/tags.py", "finops (rest)"),
    ("components/config/stack.py", "config contract"),  # before the other components
    ("components/cluster.py", "program and components"),
    ("__main__.py", "program and components"),
    ("components/observability/rules.py", "program and components"),
    ("preflight/cli.py", "preflight"),
    ("qa/mutation.py", "qa tooling"),
    ("somewhere/else.py", None),
])
def test_each_file_belongs_to_the_first_matching_package(path, package):
    found = gate.package_of(path)
    assert (found.name if found else None) == package


def test_rows_add_up_per_package_and_hold_their_floor():
    files = {
        "finops/ai_platform_finops/estimator/pricer.py": summary(100, 5, 10, 1),
        "finops/ai_platform_finops/tags.py": summary(50, 10),
        "finops/ai_platform_finops/values.py": summary(50, 0, 4, 0),
        "elsewhere.py": summary(1, 1),
    }
    rows, stray = gate.summarize(files)
    by_name = {r.package.name: r for r in rows}
    assert set(by_name) == {"estimator", "finops (rest)"}  # packages without files have no row
    estimator, rest = by_name["estimator"], by_name["finops (rest)"]
    assert (estimator.lines_pct, estimator.branches_pct, estimator.ok) == (95.0, 90.0, True)
    assert (rest.files, rest.statements, rest.missing, rest.lines_pct, rest.ok) == (2, 100, 10, 90.0, True)
    assert stray == ["elsewhere.py"]


def test_a_package_below_its_floor_fails_even_by_a_little():
    rows, _ = gate.summarize({"finops/ai_platform_finops/estimator/pricer.py": summary(1000, 51)})
    assert rows[0].lines_pct == pytest.approx(94.9) and not rows[0].ok
    assert "BELOW" in gate.table(rows)


def test_an_empty_file_counts_as_covered():
    row = gate.summarize({"qa/__init__.py": summary(0, 0)})[0][0]
    assert (row.lines_pct, row.branches_pct, row.ok) == (100.0, 100.0, True)


def test_the_pack_process_counts_as_measured_only_when_its_entry_point_ran():
    assert gate.pack_process_measured({gate.PACK_ENTRY: summary(7, 0, executed=7)})
    assert not gate.pack_process_measured({gate.PACK_ENTRY: summary(7, 7, executed=0)})
    assert not gate.pack_process_measured({})


def test_main_without_data_is_a_usage_error(tmp_path, capsys):
    assert gate.main(["--data-file", str(tmp_path / "none")]) == 2
    assert "run `python -m pytest --cov` first" in capsys.readouterr().err


def test_main_reports_and_fails_on_data_missing_the_pack_process(tmp_path, capsys, monkeypatch):
    data = tmp_path / ".coverage"
    data.write_text("")
    monkeypatch.setattr(gate, "load_files", lambda path: {
        "preflight/cli.py": summary(10, 0), "finops/ai_platform_finops/estimator/pricer.py": summary(10, 5)})
    assert gate.main(["--data-file", str(data)]) == 1
    out, err = capsys.readouterr()
    assert "| preflight | 1 | 100.0% (10/10) | 90% |" in out
    assert "coverage gate: estimator: 50.0% of lines < 95%" in err
    assert "the policy pack's own process was not measured" in err


def test_the_docs_show_the_floors_of_the_code():
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    block = page.split("<!-- coverage-floors:start -->\n", 1)[1].split("\n<!-- coverage-floors:end -->", 1)[0]
    assert block == gate.floors_table()
