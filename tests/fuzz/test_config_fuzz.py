"""Hostile stack files: whatever is in them, preflight exits 2 with `file: key.path: message` lines.

Each example mutates one shipped stack file (random types, missing keys, unknown keys, wrong
enums, huge numbers, unicode and empty strings) and runs the CLI against a project whose
``__main__.py`` would fail loudly if it ever ran: bad config must stop before any resource.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.cli import main
from tests.support import ROOT
from tests.support.fixtures import PROJECT

LINE = re.compile(r"^stacks/Pulumi\.dev\.yaml: \S.*: \S.*$")
BASE = yaml.safe_load((PROJECT / "stacks" / "Pulumi.sandbox.yaml").read_text())["config"]
"""The tests' own dev stack, mutated and written as ``stacks/Pulumi.dev.yaml`` of a scratch project."""

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", "latest", "ON_DEMAND", "gpu", "🚀", "ñ" * 70, "1e999", "prod", "-1"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=12), inner, max_size=3)),
                      max_leaves=8)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, prefix + (index,))
    return found


ALL_PATHS = paths(BASE)


@st.composite
def broken_config(draw) -> dict[str, Any]:
    import copy

    config = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = config
        try:
            for part in path[:-1]:
                parent = parent[part]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "delete", "unknown-key"]))
        last = path[-1]
        try:
            if action == "replace":
                parent[last] = draw(values)
            elif action == "delete":
                del parent[last]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue
    return config


def write_project(tmp: Path, config: dict[str, Any]) -> Path:
    (tmp / "stacks").mkdir(exist_ok=True)
    (tmp / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}, allow_unicode=True))
    (tmp / "__main__.py").write_text("raise SystemExit('REGISTERED: the program ran')\n")
    return tmp


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=broken_config())
def test_any_stack_file_is_accepted_or_rejected_with_clear_lines(tmp_path_factory, config, capsys):
    project = write_project(tmp_path_factory.mktemp("fuzz"), config)
    try:
        code = main(["preview", "--stack", "dev", "--no-policy", "--project-dir", str(project),
                     "--json", str(project / "r.json")])
    except SystemExit as exc:
        # Only a config that validates may reach the program (whose stand-in exits here).
        assert "REGISTERED" in str(exc.code)
        return
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    assert not (project / "r.json").exists()
