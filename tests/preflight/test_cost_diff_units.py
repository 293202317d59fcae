"""preflight's cost diff and its two renderings (terminal table, pull-request comment), helper by
helper: the small rules a reviewer reads figures through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preflight import cost, markdown, mdtext
from preflight.cost import BaselineError, cost_diff, load_baseline


def section(items: list[dict[str, Any]], projects: dict[str, Any], total: float) -> dict[str, Any]:
    return {"cost": {"items": items, "by_project": projects, "total": {"min": total, "expected": total, "max": total},
                     "catalog": {"date": "2026-07-20"}}, "project": "ai-platform", "stack": "dev"}


def item(name: str, expected: float, project: str = "p", stack: str = "dev", **figures: float) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:{stack}::ai-platform::aws:ec2/natGateway:NatGateway::{name}",
            "type": "aws:ec2/natGateway:NatGateway", "project": project,
            "min": figures.get("min", expected), "expected": expected, "max": figures.get("max", expected)}


# --- the diff -------------------------------------------------------------------------------------------

def test_the_diff_matches_resources_across_stacks_and_classifies_each_change():
    before = section([item("kept", 10.0), item("moved", 10.0), item("gone", 5.0), item("retagged", 1.0)],
                     {"p": {"expected": 26.0}, "old": {"expected": 3.0}}, 29.0)
    after = section([item("kept", 10.0, stack="prod"), item("moved", 12.5, stack="prod"),
                     item("new", 7.0, stack="prod"), item("retagged", 1.0, project="q", stack="prod"),
                     item("wider", 0.0, stack="prod")],
                    {"p": {"expected": 29.5, "budget": 100.0}, "q": {"expected": 1.0}}, 30.5)
    before["cost"]["items"].append(item("wider", 0.0, max=1.0))
    diff = cost_diff(before, after)
    changes = {i["urn"].rsplit("::", 1)[-1]: (i["change"], i["baseline"], i["new"], i["delta"]) for i in diff["items"]}
    assert changes == {"moved": ("~", 10.0, 12.5, 2.5), "new": ("+", None, 7.0, 7.0), "gone": ("-", 5.0, None, -5.0),
                       "retagged": ("~", 1.0, 1.0, 0.0), "wider": ("~", 0.0, 0.0, 0.0)}
    assert {name: {k: v[k] for k in ("baseline", "new", "change", "budget")} for name, v in diff["by_project"].items()} == {
        "old": {"baseline": 3.0, "new": None, "change": -3.0, "budget": None},
        "p": {"baseline": 26.0, "new": 29.5, "change": 3.5, "budget": 100.0},
        "q": {"baseline": None, "new": 1.0, "change": 1.0, "budget": None}}
    assert {k: diff["total"][k] for k in ("baseline", "new", "change")} == {"baseline": 29.0, "new": 30.5, "change": 1.5}
    assert diff["total"]["figures"]["max"] == {"baseline": 29.0, "new": 30.5, "change": 1.5}
    assert diff["unchanged"] == 1  # "kept"
    # "wider" moved only its max (1.00 -> 0.00): project p's max moved, so it gets a worst-case line naming it.
    wider = next(i for i in diff["items"] if i["urn"].endswith("::wider"))
    assert wider["figures"]["max"] == {"baseline": 1.0, "new": 0.0, "change": -1.0}
    # These baseline items carry no attributes (an older report): nothing is named, the figures still compare.
    assert all(i["changes"] in ([], ["project p → q"]) for i in diff["items"])


def test_attribute_changes_name_each_price_driver_old_to_new():
    before = {"attributes": {"instance type": "g5.2xlarge", "capacity type": "ON_DEMAND", "minSize": 2, "desiredSize": 2,
                             "maxSize": 6}}
    after = {"attributes": {"instance type": "g6e.2xlarge", "capacity type": "ON_DEMAND", "minSize": 2, "desiredSize": 3,
                            "maxSize": 6, "disk": "20 GiB gp3"}}
    assert cost.attribute_changes(before, after) == [
        "instance type g5.2xlarge → g6e.2xlarge", "desiredSize 2 → 3", "disk none → 20 GiB gp3"]
    assert cost.attribute_changes({}, after) == []  # a baseline from before attributes existed


def test_a_max_only_change_warns_even_when_expected_is_flat():
    old = item("gpu", 100.0, max=300.0)
    old["attributes"] = {"maxSize": 6}
    new = item("gpu", 100.0, max=600.0, stack="prod")
    new["attributes"] = {"maxSize": 12}
    diff = cost_diff(section([old], {"p": {"min": 100.0, "expected": 100.0, "max": 300.0}}, 100.0),
                     section([new], {"p": {"min": 100.0, "expected": 100.0, "max": 600.0}}, 100.0))
    assert diff["warnings"] == ["p: worst case rises by $300.00/month (max $300.00 → $600.00): gpu maxSize 6 → 12"]
    text = markdown.render_comment({"project": "x", "stack": "prod", **diff_free(new)}, diff)
    assert "> :warning: p: worst case rises by $300.00/month" in text


def diff_free(new_item: dict[str, Any]) -> dict[str, Any]:
    return section([new_item], {"p": {"min": 100.0, "expected": 100.0, "max": 600.0, "budget": 1000.0}}, 100.0)


def test_moves_below_a_cent_are_not_changes():
    diff = cost_diff(section([item("a", 10.0)], {}, 10.0), section([item("a", 10.004)], {}, 10.004))
    assert diff["items"] == []


@pytest.mark.parametrize("value", [None, "12", True, {"expected": "x"}])
def test_a_figure_that_is_not_a_number_is_none(value):
    assert cost._value({"expected": value}) is None
    assert cost._value(value) is None  # type: ignore[arg-type]


def test_a_urn_loses_only_its_stack():
    assert cost._stackless("urn:pulumi:prod::proj::a:b:C::name") == "urn:pulumi:::proj::a:b:C::name"
    assert cost._stackless("not-a-urn::x") == "not-a-urn::x"
    assert cost._stackless("urn:pulumi:prod") == "urn:pulumi:prod"


# --- the baseline file ------------------------------------------------------------------------------------

def test_an_unreadable_baseline_is_a_clear_error(tmp_path: Path):
    with pytest.raises(BaselineError, match="the baseline report: is a directory, not a regular file"):
        load_baseline(str(tmp_path))  # a directory
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BaselineError, match="the baseline report: is not UTF-8 text"):
        load_baseline(str(binary))


def test_a_good_baseline_is_returned_whole(tmp_path: Path):
    report = {"schema": "preflight/v1", **section([item("a", 1.0)], {"p": {"expected": 1.0}}, 1.0)}
    path = tmp_path / "base.json"
    path.write_text(json.dumps(report))
    assert load_baseline(str(path)) == report


# --- figures as text --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, budget, terminal, comment", [
    (50.0, 200.0, "25.0%", "25%"),
    (50.0, 200, "25.0%", "25%"),
    (None, 200.0, "-", "–"),
    (50.0, None, "-", "–"),
    (50.0, 0.0, "-", "–"),  # no budget to divide by
    (50.0, -5.0, "-", "–"),
    (50.0, True, "-", "–"),  # a boolean is not a budget
    (50.0, "200", "-", "–"),
])
def test_share_of_budget(value, budget, terminal, comment):
    assert cost.percent(value, budget) == terminal
    assert markdown.share(value, budget) == comment


@pytest.mark.parametrize("value, expected", [(1234.5, "+1,234.50"), (-2.0, "-2.00"), (0.0, "0.00")])
def test_signed(value, expected):
    assert cost.signed(value) == expected


@pytest.mark.parametrize("value, expected", [(None, "–"), (0.004, "$0.00"), (-0.004, "$0.00"), (12.5, "+$12.50"),
                                             (-1234.5, "-$1,234.50")])
def test_usd_change(value, expected):
    assert markdown.usd_change(value) == expected


@pytest.mark.parametrize("type_, expected", [("aws:eks/nodeGroup:NodeGroup", "eks:NodeGroup"),
                                             ("kubernetes:core/v1:Service", "core:Service"), ("odd", "odd")])
def test_short_type(type_, expected):
    assert cost.short_type(type_) == expected


def test_resource_name():
    assert cost.resource_name("urn:pulumi:dev::p::a:b:C::gpu-ng") == "gpu-ng" and cost.resource_name("") == "?"


def test_markdown_text_and_cells_cannot_inject_html_or_break_tables():
    assert mdtext.text("<b>&") == "&lt;b&gt;&amp;"
    assert mdtext.cell("a|b\nc") == "a\\|b c"


@pytest.mark.parametrize("diff_total, expected", [
    (None, "**Monthly cost estimate: $110.00** expected (min $100.00, max $120.00). No baseline given."),
    ({"baseline": 110.0, "change": 0.001}, "**Monthly cost will not change: $110.00** expected (min $100.00, max $120.00)."),
    ({"baseline": 110.0, "change": 0.0}, "**Monthly cost will not change: $110.00** expected (min $100.00, max $120.00)."),
    ({"baseline": 110.0}, "**Monthly cost will not change: $110.00** expected (min $100.00, max $120.00)."),
    ({"baseline": 100.0, "change": 10.0},
     "**Monthly cost will increase by $10.00 (+10.0%)**, from $100.00 to $110.00 expected (min $100.00, max $120.00)."),
    ({"baseline": 120.0, "change": -10.0},
     "**Monthly cost will decrease by $10.00 (-8.3%)**, from $120.00 to $110.00 expected (min $100.00, max $120.00)."),
    ({"baseline": 0.0, "change": 110.0},
     "**Monthly cost will increase by $110.00**, from $0.00 to $110.00 expected (min $100.00, max $120.00)."),
])
def test_the_summary_line(diff_total, expected):
    total = {"min": 100.0, "expected": 110.0, "max": 120.0}
    diff = None if diff_total is None else {"total": diff_total}
    assert markdown.summary_line({"total": total}, diff) == expected


def test_the_terminal_table_lists_resources_by_expected_cost_and_says_when_there_are_none():
    empty = cost.render_cost({"by_project": {}, "total": {}, "items": []})
    assert "No priced resource in this stack." in empty
    table = cost.render_cost({"by_project": {"p": {"min": 1.0, "expected": 3.0, "max": 5.0, "budget": 6.0}},
                              "total": {"min": 1.0, "expected": 3.0, "max": 5.0},
                              "items": [item("small", 1.0), item("big", 2.0), item("free", 0.0)]})
    names = [line.split()[0] for line in table.splitlines() if line.strip().startswith(("small", "big", "free"))]
    assert names == ["big", "small", "free"]
    assert "50.0%" in table  # 3 of a 6 budget


def test_a_free_stack_is_estimated_at_zero():
    assert markdown.summary_line({"total": {"min": 0.0, "expected": 0.0, "max": 0.0}}, None).startswith(
        "**Monthly cost estimate: $0.00** expected")


def test_the_comment_totals_budgets_only_when_a_project_has_one():
    def total_row(projects: dict[str, Any]) -> str:
        report = {"cost": {"by_project": projects, "total": {"expected": 10.0}, "items": [], "assumptions": []}}
        return next(line for line in markdown.cost_part(report, None) if line.startswith("| **Total**"))

    assert total_row({"p": {"expected": 10.0}}) == "| **Total** | **–** | **$10.00** | **–** | **–** | **–** |"
    assert total_row({"p": {"expected": 10.0, "budget": 40.0}}) == \
        "| **Total** | **–** | **$10.00** | **–** | **$40.00** | **25%** |"


def test_the_terminal_changes_show_each_delta_signed_and_none_when_nothing_moved():
    section_ = {"by_project": {}, "total": {}, "items": []}
    diff = {"baseline": {"project": "ai-platform", "stack": "dev"}, "total": {}, "by_project": {},
            "items": [{"change": "~", "urn": "urn:pulumi:dev::p::aws:ec2/natGateway:NatGateway::nat", "delta": 0.0,
                       "type": "aws:ec2/natGateway:NatGateway", "baseline": 5.0, "new": 5.0},
                      {"change": "+", "urn": "urn:pulumi:dev::p::aws:ec2/eip:Eip::ip", "delta": 3.65,
                       "type": "aws:ec2/eip:Eip", "baseline": None, "new": 3.65}]}
    lines = cost.render_cost(section_, diff).splitlines()
    changed = [line.split() for line in lines if line.strip().startswith(("~", "+"))]
    assert [(c[1], c[-1]) for c in changed] == [("nat", "0.00"), ("ip", "+3.65")]
    assert "      none" in cost.render_cost(section_, {**diff, "items": []}).splitlines()


def test_a_baseline_written_before_the_new_fields_still_compares_and_renders():
    # The shape an older preflight wrote: items without attributes or lines, no usage/fixed/commitments/spot/basis.
    old = section([item("nat", 32.85)], {"p": {"min": 32.85, "expected": 32.85, "max": 32.85, "budget": 100.0}}, 32.85)
    new = section([item("nat", 32.85, stack="prod"), item("extra", 10.0, stack="prod")],
                  {"p": {"min": 42.85, "expected": 42.85, "max": 42.85, "budget": 100.0}}, 42.85)
    new["cost"].update(budget_basis={"figure": "max", "source": "prod.json: cost-within-budget.basis"},
                       usage={"assumptions": {}, "lines": []})
    diff = cost_diff(old, new)
    assert [i["change"] for i in diff["items"]] == ["+"] and diff["unchanged"] == 1
    text = markdown.render_comment({"project": "x", "stack": "prod", **new}, diff)
    assert "| p | $32.85 → $42.85 (+$10.00) | $32.85 → $42.85 (+$10.00) | $32.85 → $42.85 (+$10.00) | $100.00 | 33% → 43% |" in text
    # And the other way round: a new report as the baseline of an old-shaped one.
    assert markdown.render_comment({"project": "x", "stack": "prod", **old}, cost_diff(new, old)).count("% of budget (expected)") == 1


# --- the budget gate's basis --------------------------------------------------------------------------

def test_the_gate_basis_is_read_from_the_pack_config_else_the_policy_default(tmp_path: Path):
    config = tmp_path / "prod.json"
    config.write_text(json.dumps({"cost-within-budget": {"basis": "max", "maxMonthlyUsd": 1}}))
    assert cost.gate_basis(config, "config/prod.json") == {"figure": "max", "source": "config/prod.json: cost-within-budget.basis"}
    config.write_text(json.dumps({"cost-within-budget": "mandatory"}))
    assert cost.gate_basis(config, "c.json") == {
        "figure": "expected", "source": "cost-within-budget's default (c.json does not set basis)"}
    config.write_text("{not json")
    assert cost.gate_basis(config, "c.json")["source"] == "cost-within-budget's default (c.json unreadable)"
    assert cost.gate_basis(None)["source"] == "cost-within-budget's default (no pack config)"
    assert cost.gate_basis(tmp_path / "missing.json")["figure"] == "expected"
    # A report without the field (an older preflight) reads as the default.
    assert cost.budget_basis({}) == {"figure": "expected", "source": "cost-within-budget's default"}


def test_a_release_priced_for_its_volumes_and_its_load_balancer_keeps_both_items():
    volumes = {**item("monitoring", 8.32), "type": "kubernetes:helm.sh/v3:Release"}
    lb = {**volumes, "expected": 16.43, "min": 16.43, "max": 16.43, "attributes": {"load balancer": "alb"}}
    before = section([volumes], {"p": {"expected": 8.32}}, 8.32)
    after = section([{**volumes}, lb], {"p": {"expected": 24.75}}, 24.75)
    diff = cost_diff(before, after)
    assert [(i["change"], i["new"]) for i in diff["items"]] == [("+", 16.43)]
    assert diff["unchanged"] == 1
