"""The pull-request comment against a golden file, and its escaping of program-supplied text.

To accept an intended change of format: ``UPDATE_GOLDEN=1 python -m pytest tests/finops/test_finops_markdown.py``
and review the diff of ``tests/finops/golden/pr_comment.md``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.cost import cost_diff, render_cost
from preflight.markdown import PARTS, render_comment

GOLDEN = Path(__file__).parent / "golden" / "pr_comment.md"
URN = "urn:pulumi:prod::ai-platform::ai-platform:cluster:NodePool$"


def item(type_: str, name: str, project: str, low: float, expected: float, high: float, basis: str = "") -> dict[str, Any]:
    return {"urn": f"{URN}{type_}::{name}", "type": type_, "project": project,
            "min": low, "expected": expected, "max": high, "basis": basis or f"{name} basis"}


def report(items: list[dict[str, Any]], budgets: dict[str, float]) -> dict[str, Any]:
    by_project: dict[str, dict[str, Any]] = {}
    for entry in items:
        figures = by_project.setdefault(entry["project"], {"min": 0.0, "expected": 0.0, "max": 0.0})
        for key in ("min", "expected", "max"):
            figures[key] = round(figures[key] + entry[key], 2)
    for name, figures in by_project.items():
        figures["budget"] = budgets.get(name)
    total = {k: round(sum(i[k] for i in items), 2) for k in ("min", "expected", "max")}
    return {
        "schema": "preflight/v1", "project": "ai-platform", "stack": "prod", "resources": [], "outputs": {},
        "cost": {
            "currency": "USD", "hours_per_month": 730,
            "catalog": {"source": "karpenter", "date": "2026-07-20", "region": "us-east-1"},
            "total": total, "by_project": dict(sorted(by_project.items())), "items": items,
            "assumptions": ["Method: 730 h a month.", "SPOT capacity is priced at 0.35 x the on-demand price."],
        },
    }


NG, LT, NAT = "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/natGateway:NatGateway"
BEFORE = [
    item(NG, "gpu-a10g-ng", "project-nova", 1769.52, 1769.52, 5308.56),
    item(LT, "gpu-a10g-lt", "project-nova", 32.0, 32.0, 96.0),
    item(NAT, "nat-a", "project-nova", 32.85, 32.85, 32.85),
    item(NG, "gpu-a10g-x4-ng", "project-atlas", 4140.56, 4140.56, 12421.68),
]
AFTER = [
    item(NG, "gpu-a10g-ng", "project-nova", 1769.52, 1769.52, 5308.56),
    item(LT, "gpu-a10g-lt", "project-nova", 32.0, 32.0, 96.0),
    item(NG, "gpu-a10g-x4-ng", "project-atlas", 8281.12, 8281.12, 12421.68),
    item(NG, "gpu-l4-ng", "project-atlas", 0.0, 646.05, 1292.1),
]
BUDGETS = {"project-nova": 9000.0, "project-atlas": 16000.0}


def test_comment_matches_the_golden_file():
    new = report(AFTER, BUDGETS)
    text = render_comment(new, cost_diff(report(BEFORE, BUDGETS), new))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_comment_without_a_baseline():
    text = render_comment(report(AFTER, BUDGETS))
    assert "**Monthly cost estimate: $10,728.69** expected" in text and "No baseline given." in text
    assert "| project-atlas | $8,281.12 | $8,927.17 | $13,713.78 | $16,000.00 | 56% |" in text


def test_program_supplied_text_cannot_break_the_table_or_inject_html():
    hostile = report([item(NG, "evil|<script>alert(1)</script>", "project-nova", 1.0, 1.0, 1.0)], {})
    hostile["cost"]["assumptions"] = ["<img src=x onerror=alert(1)>"]
    text = render_comment(hostile)
    assert "<script>" not in text and "<img" not in text
    assert "evil\\|&lt;script&gt;" in text


def test_the_policy_part_has_its_place_after_the_cost_part():
    names = [part.__name__ for part in PARTS]
    assert names == ["cost_part", "policy_part"]
    marker = render_comment(report(AFTER, BUDGETS)).splitlines()[0]
    assert marker == "<!-- preflight-comment:ai-platform:prod -->"


def test_no_change_is_said_plainly():
    same = report(BEFORE, BUDGETS)
    text = render_comment(same, cost_diff(copy.deepcopy(same), same))
    assert "**Monthly cost will not change: $5,974.93**" in text


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10,
)
baseline_items = st.lists(st.one_of(json_values, st.fixed_dictionaries(
    {"urn": json_values, "type": json_values, "project": json_values, "min": json_values,
     "expected": json_values, "max": json_values})), max_size=4)


@settings(max_examples=60, deadline=None)
@given(baseline_items, st.dictionaries(st.text(max_size=6), json_values, max_size=3), json_values)
def test_any_baseline_cost_section_diffs_and_renders_without_raising(items, projects, total):
    baseline = {"schema": "preflight/v1", "cost": {"items": items, "by_project": projects, "total": total}}
    new = report(AFTER, BUDGETS)
    diff = cost_diff(baseline, new)
    assert render_comment(new, diff).startswith("<!-- preflight-comment:")
    assert "Cost estimate" in render_cost(new["cost"], diff)
