"""The shape every component keeps: Args are its whole contract, one TYPE token, every input and output described."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.stackset import ROOT

COMPONENTS = ROOT / "components"
MODULES = sorted(p for p in COMPONENTS.rglob("*.py") if "config" not in p.relative_to(COMPONENTS).parts[:1])


def component_classes() -> list[tuple[Path, ast.ClassDef]]:
    found = []
    for path in MODULES:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Attribute) and b.attr == "ComponentResource" for b in node.bases):
                found.append((path, node))
    return found


def args_classes() -> list[tuple[Path, ast.ClassDef]]:
    return [(path, node) for path in MODULES for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.ClassDef) and node.name.endswith("Args")]


def undocumented_fields(node: ast.ClassDef) -> list[str]:
    body = node.body
    return [s.target.id for i, s in enumerate(body)
            if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            and not (i + 1 < len(body) and isinstance(body[i + 1], ast.Expr)
                     and isinstance(getattr(body[i + 1], "value", None), ast.Constant))]


def test_no_component_module_reads_the_stack_config():
    readers = [str(p.relative_to(ROOT)) for p in MODULES
               if "StackConfig" in p.read_text() and p.name != "view.py" or "components.config.stack" in p.read_text()]
    assert readers == []


def test_there_are_components_to_check():
    names = {node.name for _, node in component_classes()}
    assert {"Cluster", "NodePool", "Network", "ClusterAddons", "ProjectNamespace", "InferenceService", "ArgoCd",
            "CostControls", "Observability"} <= names


@pytest.mark.parametrize(("path", "node"), component_classes(), ids=lambda v: getattr(v, "name", ""))
def test_each_component_registers_under_its_modules_one_type_token(path, node):
    module = ast.parse(path.read_text())
    tokens = [n for n in module.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "TYPE" for t in n.targets)]
    assert len(tokens) == 1
    value = tokens[0].value
    assert isinstance(value, ast.Constant) and str(value.value).startswith("ai-platform:")
    assert str(value.value).endswith(f":{node.name}")
    init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    supers = [c for c in ast.walk(init) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
              and c.func.attr == "__init__"]
    assert [ast.unparse(c.args[0]) for c in supers] == ["TYPE"]


@pytest.mark.parametrize(("path", "node"), component_classes() + args_classes(), ids=lambda v: getattr(v, "name", ""))
def test_every_args_field_and_output_is_described(path, node):
    assert undocumented_fields(node) == []
