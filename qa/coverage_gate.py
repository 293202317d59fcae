"""Per-package coverage thresholds, checked after ``python -m pytest --cov``.

coverage.py has one global ``fail_under``; this reads the combined data file (the test process and
every Python subprocess it started, the policy pack's own process included: ``patch = subprocess``
in ``.coveragerc``) and holds each package to its own floor of *line* coverage. Branch coverage is
reported beside it. Every measured file must belong to a package, so new code cannot slip outside
the gate.

    .venv/bin/python -m pytest --cov && .venv/bin/python -m qa.coverage_gate

Exit codes: 0 every package meets its floor, 1 one does not (or the pack process was not
measured), 2 no coverage data.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Package:
    name: str
    include: tuple[str, ...]
    """Glob patterns of repository-relative paths; a file belongs to the first package that matches."""
    min_lines: float
    """The floor of line coverage, in percent."""


PACKAGES: tuple[Package, ...] = (
    Package("policy pack rules", ("policypacks/ai-governance/ai_governance/*.py",
                                  "policypacks/ai-governance/ai_governance/k8s/*.py"), 95.0),
    Package("estimator", ("finops/ai_platform_finops/estimator/*.py", "finops/ai_platform_finops/stack_index.py"), 95.0),
    Package("config contract", ("components/config/*.py",), 95.0),
    Package("finops (rest)", ("finops/ai_platform_finops/*.py",), 90.0),
    Package("policy pack entry point and tools", ("policypacks/ai-governance/*.py",
                                                  "policypacks/ai-governance/tools/*.py"), 90.0),
    Package("preflight", ("preflight/*.py", "preflight/analyzer/*.py", "preflight/advise/*.py"), 90.0),
    Package("program and components", ("__main__.py", "program/*.py", "components/*.py", "components/inference/*.py",
                                       "components/observability/*.py", "components/observability/chart_keys/*.py"),
            90.0),
    Package("qa tooling", ("qa/*.py",), 90.0),
)

PACK_ENTRY = "policypacks/ai-governance/__main__.py"
"""Runs only inside the pack's own process: executed lines there prove that process was measured."""


@dataclass(frozen=True)
class Row:
    package: Package
    files: int
    statements: int
    missing: int
    branches: int
    partial: int
    """Branches not taken."""

    @property
    def lines_pct(self) -> float:
        return 100.0 if not self.statements else 100.0 * (self.statements - self.missing) / self.statements

    @property
    def branches_pct(self) -> float:
        return 100.0 if not self.branches else 100.0 * (self.branches - self.partial) / self.branches

    @property
    def ok(self) -> bool:
        # Rounded like the report, so "95.0%" never fails a 95% floor through float noise.
        return round(self.lines_pct, 1) >= self.package.min_lines


def package_of(path: str, packages: Sequence[Package] = PACKAGES) -> Package | None:
    return next((p for p in packages if any(fnmatchcase(path, pattern) for pattern in p.include)), None)


def summarize(files: Mapping[str, Mapping[str, Any]], packages: Sequence[Package] = PACKAGES
              ) -> tuple[list[Row], list[str]]:
    """Rows per package from the ``files`` of coverage's JSON report, and the files no package claims."""
    totals: dict[str, list[int]] = {p.name: [0, 0, 0, 0, 0] for p in packages}
    stray: list[str] = []
    for path, data in sorted(files.items()):
        package = package_of(path.replace("\\", "/"), packages)
        if package is None:
            stray.append(path)
            continue
        summary = data["summary"]
        total = totals[package.name]
        total[0] += 1
        total[1] += int(summary["num_statements"])
        total[2] += int(summary["missing_lines"])
        total[3] += int(summary.get("num_branches", 0))
        total[4] += int(summary.get("missing_branches", 0))
    rows = [Row(p, *totals[p.name]) for p in packages if totals[p.name][0]]
    return rows, stray


def pack_process_measured(files: Mapping[str, Mapping[str, Any]]) -> bool:
    entry = files.get(PACK_ENTRY)
    return bool(entry and entry["executed_lines"])


def table(rows: Sequence[Row]) -> str:
    lines = ["| package | files | lines | floor | branches | |", "|---|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(f"| {row.package.name} | {row.files} | {row.lines_pct:.1f}% "
                     f"({row.statements - row.missing}/{row.statements}) | {row.package.min_lines:.0f}% | "
                     f"{row.branches_pct:.1f}% | {'ok' if row.ok else 'BELOW'} |")
    return "\n".join(lines)


def floors_table(packages: Sequence[Package] = PACKAGES) -> str:
    """The floors as docs/testing.md shows them (a test keeps the page in step)."""
    lines = ["| package | files | floor |", "|---|---|---:|"]
    for p in packages:
        lines.append(f"| {p.name} | {', '.join(f'`{g}`' for g in p.include)} | {p.min_lines:.0f}% |")
    return "\n".join(lines)


def load_files(data_file: Path) -> dict[str, Any]:
    """The ``files`` section of coverage's JSON report of ``data_file`` (paths relative to the repository)."""
    import coverage

    cov = coverage.Coverage(data_file=str(data_file), config_file=str(ROOT / ".coveragerc"))
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        return json.loads(out.read_text(encoding="utf-8"))["files"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.coverage_gate", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data-file", type=Path, default=ROOT / ".coverage", help="default: .coverage")
    args = parser.parse_args(argv)
    if not args.data_file.exists():
        print(f"{args.data_file}: no coverage data; run `python -m pytest --cov` first", file=sys.stderr)
        return 2
    files = load_files(args.data_file)
    rows, stray = summarize(files)
    print(table(rows))
    failed = [f"{r.package.name}: {r.lines_pct:.1f}% of lines < {r.package.min_lines:.0f}%" for r in rows if not r.ok]
    failed += [f"{path}: in no package of qa/coverage_gate.py PACKAGES" for path in stray]
    if not pack_process_measured(files):
        failed.append(f"{PACK_ENTRY}: never ran under coverage: the policy pack's own process was not measured "
                      "(its interpreter needs coverage installed; .coveragerc needs `patch = subprocess`)")
    for line in failed:
        print(f"coverage gate: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
