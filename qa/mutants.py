"""The mutation tool's model, free of cosmic-ray: areas, equivalent mutants, which mutants count,
seeded sampling, the tally, the scratch copy and the test command (the CLI is ``qa.mutation``, the
session driver ``qa.cosmic``)."""

from __future__ import annotations

import ast
import random
import shlex
import shutil
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AREAS_FILE = ROOT / "qa" / "mutation.toml"
EQUIVALENT_FILE = ROOT / "qa" / "equivalent-mutants.toml"
RUNS_DIR = ROOT / "mutation-runs"
COPY_IGNORE = (".git", ".venv", "venv", "mutation-runs", "__pycache__", ".hypothesis", "out", "htmlcov",
               ".coverage", ".coverage.*", "*.egg-info", ".pytest_cache")


@dataclass(frozen=True)
class Area:
    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    sample: int
    target: float
    functions: tuple[str, ...] = ()
    decorated: tuple[str, ...] = ()

    @property
    def restricted(self) -> bool:
        return bool(self.functions or self.decorated)


def load_areas(path: Path = AREAS_FILE) -> dict[str, Area]:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    areas = {}
    for name, raw in doc.get("areas", {}).items():
        areas[name] = Area(name=name, modules=tuple(raw["modules"]), tests=tuple(raw["tests"]),
                           sample=int(raw.get("sample", 50)), target=float(raw.get("target", 0.8)),
                           functions=tuple(raw.get("functions", ())), decorated=tuple(raw.get("decorated", ())))
    return areas


# --- which mutants count ------------------------------------------------------------------------------

def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def function_ranges(source: str, names: Iterable[str], decorated: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Line ranges (first, last; 1-based) of the functions named ``names`` (``f`` or ``Class.f``) and of
    every function carrying one of the ``decorated`` decorators."""
    wanted, marks = set(names), set(decorated)
    ranges: list[tuple[int, int]] = []

    def visit(body: Sequence[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualified = prefix + node.name
                if qualified in wanted or node.name in wanted or _decorator_names(node) & marks:
                    ranges.append((node.lineno, node.end_lineno or node.lineno))
                visit(node.body, qualified + ".")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, prefix + node.name + ".")

    visit(ast.parse(source).body, "")
    return sorted(ranges)


def in_ranges(line: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(first <= line <= last for first, last in ranges)


def definition_range(source: str, qualified: str) -> tuple[int, int] | None:
    """Lines of the function or class ``qualified`` (``f``, ``Class``, ``Class.method``), decorators
    included; None when there is none."""

    def visit(body: Sequence[ast.stmt], prefix: str) -> tuple[int, int] | None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + node.name
                if name == qualified:
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    return first, node.end_lineno or node.lineno
                found = visit(node.body, name + ".")
                if found:
                    return found
        return None

    return visit(ast.parse(source).body, "")


@dataclass(frozen=True)
class Equivalent:
    module: str
    scope: str
    """The function or class the mutant is in (``f``, ``Class``, ``Class.method``)."""
    operator: str
    line: str
    """The mutated line's source, stripped: stable when unrelated code moves."""
    column: int
    reason: str

    def matches(self, module: str, operator: str, line: str, column: int) -> bool:
        return (self.module, self.operator, self.line, self.column) == (module, operator, line.strip(), column)


def load_equivalents(path: Path = EQUIVALENT_FILE) -> list[Equivalent]:
    if not path.exists():
        return []
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for entry in doc.get("mutant", []):
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: every equivalent mutant needs a reason: {entry}")
        out.append(Equivalent(module=entry["module"], scope=entry["scope"], operator=entry["operator"],
                              line=entry["line"].strip(), column=int(entry["column"]), reason=entry["reason"]))
    return out


def draw(keys: Sequence[tuple[Any, ...]], count: int, seed: int) -> set[tuple[Any, ...]]:
    """A seeded sample of ``count`` keys (all of them when there are fewer). Keys name mutants by
    what they change, so the same seed draws the same mutants in every session of unchanged code."""
    ordered = sorted(set(keys))
    if count >= len(ordered):
        return set(ordered)
    return set(random.Random(seed).sample(ordered, count))


def annotation_ranges(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are ((line, col) start and end). Under ``from __future__ import
    annotations`` they are never evaluated, so a mutant inside one cannot change behaviour."""
    tree = ast.parse(source)
    postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                    and any(a.name == "annotations" for a in n.names) for n in tree.body)
    if not postponed:
        return []
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            found += [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                             *(x for x in (args.vararg, args.kwarg) if x)) if a.annotation]
            if node.returns is not None:
                found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return [((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in found]


def inside(position: tuple[int, int], spans: Sequence[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(start <= tuple(position) < end for start, end in spans)


# --- results ------------------------------------------------------------------------------------------

@dataclass
class Mutant:
    job_id: str
    module: str
    line: int
    column: int
    operator: str
    source: str
    outcome: str = ""
    """killed, survived, equivalent, annotation, out-of-scope, other-shard, unsampled, incompetent, no-test."""
    diff: str = ""
    reason: str = ""

    occurrence: int = 0

    @property
    def key(self) -> tuple[str, int, int, str, int]:
        return (self.module, self.line, self.column, self.operator, self.occurrence)


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    other: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        judged = self.killed + self.survived
        return self.killed / judged if judged else 1.0


def tally(mutants: Iterable[Mutant]) -> Tally:
    result = Tally()
    for m in mutants:
        if m.outcome == "killed":
            result.killed += 1
        elif m.outcome == "survived":
            result.survived += 1
        elif m.outcome == "equivalent":
            result.equivalent += 1
        else:
            result.other[m.outcome] = result.other.get(m.outcome, 0) + 1
    return result


# --- the run ------------------------------------------------------------------------------------------

def copy_repository(workdir: Path, root: Path = ROOT) -> None:
    """A fresh scratch copy of the repository, without virtualenvs, caches or earlier runs."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(root, workdir, ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)


def test_command(area: Area, python: str = sys.executable) -> str:
    """The area's tests, stopping at the first failure, with hypothesis seeded so a kill repeats."""
    return " ".join(shlex.quote(a) for a in [python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                              "--hypothesis-seed=0", *area.tests])


def classify(area: Area, mutants: Sequence[Mutant], sources: Mapping[str, str], equivalents: Sequence[Equivalent],
             sample: int | None, seed: int, shard: tuple[int, int] | None = None) -> None:
    """Mark the mutants not to run: outside the area's functions, inside annotations, equivalent, in
    another shard (``shard``: K of N, by the mutants' sorted keys) or not drawn; the rest keep an
    empty outcome."""
    lines = {module: source.splitlines() for module, source in sources.items()}
    annotations = {module: annotation_ranges(source) for module, source in sources.items()}
    ranges = {module: function_ranges(source, area.functions, area.decorated) for module, source in sources.items()}
    for m in mutants:
        if area.restricted and not in_ranges(m.line, ranges[m.module]):
            m.outcome = "out-of-scope"
        elif inside((m.line, m.column), annotations[m.module]):
            m.outcome = "annotation"
        else:
            text = lines[m.module][m.line - 1] if 0 < m.line <= len(lines[m.module]) else ""
            match = next((e for e in equivalents if e.matches(m.module, m.operator, text, m.column)
                          and in_ranges(m.line, [r for r in [definition_range(sources[m.module], e.scope)] if r])),
                         None)
            if match is not None:
                m.outcome, m.reason = "equivalent", match.reason
    if shard is not None:
        number, count = shard
        ordered = sorted({m.key for m in mutants if not m.outcome})
        mine = {key for index, key in enumerate(ordered) if index % count == number - 1}
        for m in mutants:
            if not m.outcome and m.key not in mine:
                m.outcome = "other-shard"
    candidates = [m.key for m in mutants if not m.outcome]
    chosen = draw(candidates, sample, seed) if sample is not None else set(candidates)
    for m in mutants:
        if not m.outcome and m.key not in chosen:
            m.outcome = "unsampled"
