"""preflight's cost section, cost table, --baseline and --markdown, through the command line.

On the tests' own stacks (sandbox is dev, preprod staging, live prod, kind local); prod's is given the
shipped stacks' model stores (``with_model_store``), so every priced kind of item is there.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ai_platform_finops import rates
from ai_platform_finops.catalog import price_table
from components.config import validate_flat_config
from preflight import cost as finops_cost
from preflight.cli import main
from preflight.engine import run_program
from tests.support import AWS_STACKS, PROJECT, ROOT, edited_project, stack_source
from tests.support.fixtures import with_model_store

COST_KEYS = {"currency", "hours_per_month", "catalog", "total", "by_project", "items", "assumptions",
             "usage", "fixed", "commitments", "spot", "budget_basis"}
NODE_GROUP, LT = "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate"


NO_POLICY = ["--no-policy"]
USAGE_RATES = {"finops.usage.natGbPerMonth": rates.NAT_GATEWAY_GB, "finops.usage.logsGbPerMonth": rates.CLOUDWATCH_LOGS_GB,
               "finops.usage.modelBucketGbPerProject": rates.S3_STANDARD_GB_MONTH,
               "finops.usage.modelImagesGbPerProject": rates.ECR_STORAGE_GB_MONTH}
"""These tests are about cost; the policy pack has its own (tests/policypacks)."""
PROD_STORES = with_model_store(400, 120, 20, scanning="enhanced")
"""prod's model stores: 400 GB of weights and 120 GB of images per project."""


def project_copy(tmp_path: Path, stack: str, edit=None, program_extra: str = "") -> Path:
    """A project directory with the real program and one (edited) stack file."""
    (tmp_path / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text() + program_extra)
    document = yaml.safe_load((PROJECT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    if edit is not None:
        edit(document["config"])
    (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return tmp_path


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> tuple[dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("prod")
    path = tmp / "prod.json"
    project = edited_project(tmp, "live", PROD_STORES)
    assert main(["preview", "--stack", "live", "--project-dir", str(project), "--json", str(path), *NO_POLICY]) in (0, 1)
    return json.loads(path.read_text()), path


def test_prod_cost_section_has_the_documented_shape(prod):
    cost = prod[0]["cost"]
    assert set(cost) == COST_KEYS
    jsonschema.validate(cost, finops_cost.COST_SCHEMA)
    assert (cost["currency"], cost["hours_per_month"]) == ("USD", 730)
    assert cost["catalog"] == {"source": price_table("us-east-1").source, "date": "2026-07-20", "region": "us-east-1"}
    assert cost["by_project"]["project-nova"]["budget"] == 9000.0
    assert cost["by_project"]["project-atlas"]["budget"] == 16000.0
    assert cost["budget_basis"] == {"figure": "max",
                                    "source": "policypacks/ai-governance/config/live.json: cost-within-budget.basis"}
    for entry in cost["items"]:
        assert {"urn", "type", "project", "min", "expected", "max", "basis"} <= set(entry) \
            <= {"urn", "type", "project", "min", "expected", "max", "basis", "attributes", "lines"}
    for key in ("min", "expected", "max"):
        assert cost["total"][key] == pytest.approx(sum(i[key] for i in cost["items"]), abs=0.01)
        assert cost["total"][key] == pytest.approx(sum(p[key] for p in cost["by_project"].values()), abs=0.01)


def test_prod_figures_recompute_from_the_catalog_and_the_rates(prod):
    """What a reader would do with the report: recompute every item from its resource's inputs."""
    report = prod[0]
    resources = {r["urn"]: r for r in report["resources"]}
    prices = price_table("us-east-1")
    assert prices is not None
    groups = {u: r for u, r in resources.items() if r["type"] == NODE_GROUP}
    seen = set()
    for entry in report["cost"]["items"]:
        inputs = resources[entry["urn"]]["inputs"] if entry["urn"] in resources else {}
        if entry["type"] == NODE_GROUP:  # prod has no off-peak schedule
            scaling = inputs["scalingConfig"]
            hourly = prices.price(inputs["instanceTypes"][0])
            assert hourly is not None and inputs["capacityType"] == "ON_DEMAND"
            want = (scaling["minSize"] * hourly * 730, scaling["desiredSize"] * hourly * 730, scaling["maxSize"] * hourly * 730)
        elif entry["type"] == LT:
            # Its node group is the one beside it under the same NodePool component.
            group = next(g for g in groups.values() if g["parent"] == resources[entry["urn"]]["parent"])
            per_node = sum(m["ebs"]["volumeSize"] * 0.08 for m in inputs["blockDeviceMappings"])
            scaling = group["inputs"]["scalingConfig"]
            want = (scaling["minSize"] * per_node, scaling["desiredSize"] * per_node, scaling["maxSize"] * per_node)
        elif entry["type"] == "aws:ec2/natGateway:NatGateway":
            want = (730 * 0.045,) * 3
        elif entry["type"] == "aws:ec2/eip:Eip":
            want = (730 * 0.005,) * 3
        elif entry["type"] == "aws:eks/cluster:Cluster":
            assert inputs["upgradePolicy"]["supportType"] == "STANDARD"
            want = (730 * 0.10,) * 3
        elif entry["type"] == "aws:kms/key:Key":
            want = (1.00,) * 3
        elif entry["type"].startswith("usage:"):  # the stack's assumption (0 GB unless set) x the rate
            setting = entry["lines"][0]["setting"]
            quantity = report["cost"]["usage"]["assumptions"][setting]
            want = (round(quantity * USAGE_RATES[setting].usd, 2),) * 3
        elif entry["type"] == "kubernetes:helm.sh/v3:Release":
            # The monitoring stack's volumes on gp3: Prometheus' one, and one per Alertmanager replica.
            prometheus, alertmanager = inputs["values"]["prometheus"]["prometheusSpec"], inputs["values"]["alertmanager"]["alertmanagerSpec"]
            size = lambda spec: float(spec["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"].removesuffix("Gi"))  # noqa: E731
            want = ((size(prometheus["storageSpec"]) + alertmanager["replicas"] * size(alertmanager["storage"])) * 0.08,) * 3
        else:
            raise AssertionError(f"unexpected priced type {entry['type']}")
        assert (entry["min"], entry["expected"], entry["max"]) == pytest.approx(want, abs=0.006), entry["basis"]
        seen.add(entry["type"])
    assert seen == {NODE_GROUP, LT, "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:eks/cluster:Cluster",
                    "aws:kms/key:Key", "usage:vpc:NatDataProcessing", "usage:cloudwatch:LogsIngestion",
                    "usage:s3:ModelBucketStorage", "usage:ecr:ModelImageStorage", "kubernetes:helm.sh/v3:Release"}
    # prod: three NAT gateways, one per AZ.
    assert sum(1 for i in report["cost"]["items"] if i["type"] == "aws:ec2/natGateway:NatGateway") == 3


def test_json_to_stdout_carries_cost_and_the_table_goes_to_stderr(capsys):
    assert main(["preview", "--stack", "sandbox", "--project-dir", str(PROJECT), "--json", "-", *NO_POLICY]) in (0, 1)
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert set(report["cost"]) == COST_KEYS
    assert "Cost estimate (USD a month, 730 h" in err and "project-nova" in err
    # dev's GPU pool is SPOT and sleeps off-peak: both are said.
    assumptions = " ".join(report["cost"]["assumptions"])
    assert "SPOT capacity is priced at 0.35" in assumptions
    gpu = next(i for i in report["cost"]["items"] if i["urn"].endswith("::gpu-a10g-ng"))
    assert gpu["min"] == 0 and gpu["expected"] == pytest.approx(730 * 5 / 14 * 1.006 * 0.35, abs=0.006)


def atlas_doubled_and_an_l4_pool(config: dict[str, Any]) -> None:
    pools = config["ai-platform:nodePools"]
    atlas = next(p for p in pools if p["name"] == "gpu-a10g-x4")
    atlas["desiredSize"] = 2
    pools.append({"name": "gpu-l4", "role": "gpu", "instanceTypes": ["g6.xlarge"], "capacityType": "ON_DEMAND",
                  "minSize": 1, "maxSize": 2, "desiredSize": 1, "project": "project-nova"})


def test_baseline_on_an_edited_stack_shows_the_change_per_project_and_resource(prod, tmp_path, capsys):
    def edit(config: dict[str, Any]) -> None:
        PROD_STORES(config)
        atlas_doubled_and_an_l4_pool(config)

    project = project_copy(tmp_path / "project", "live", edit)
    out_json, out_md = tmp_path / "new.json", tmp_path / "comment.md"
    code = main(["preview", "--stack", "live", "--project-dir", str(project), "--baseline", str(prod[1]),
                 "--json", str(out_json), "--markdown", str(out_md), *NO_POLICY])
    assert code in (0, 1)
    human = capsys.readouterr().out
    diff = json.loads(out_json.read_text())["cost_diff"]
    # atlas: one more g5.12xlarge node (5.672 x 730 = 4,140.56) and its 400 GiB gp3 root (400 x 0.08 = 32).
    assert diff["by_project"]["project-atlas"]["change"] == pytest.approx(4172.56, abs=0.01)
    # nova: a new g6.xlarge pool, 1 node (0.8048 x 730 = 587.50) and its default 100 GiB gp3 root (8.00).
    assert diff["by_project"]["project-nova"]["change"] == pytest.approx(587.50 + 8.00, abs=0.01)
    assert diff["total"]["change"] == pytest.approx(4172.56 + 595.50, abs=0.02)
    marks = {i["urn"].rsplit("::", 1)[-1]: i["change"] for i in diff["items"] if i["type"] in (NODE_GROUP, LT)}
    assert marks == {"gpu-a10g-x4-ng": "~", "gpu-a10g-x4-lt": "~", "gpu-l4-ng": "+", "gpu-l4-lt": "+"}
    assert "Changes against the baseline (ai-platform/live, expected):" in human
    assert "~ gpu-a10g-x4-ng" in human and "+ gpu-l4-ng" in human
    comment = out_md.read_text()
    assert "**Monthly cost will increase by $4,768.06" in comment
    # This project copy has no pack config, so % of budget is on the gate's default basis, expected: 26% → 52%.
    # atlas: min (1 node) and max (3 nodes) are unchanged; each figure holds its model store's 21.20
    # (400 GB x 0.023 + 120 GB x 0.10, prod's finops.usage).
    assert ("| project-atlas | $4,193.76 | $4,193.76 → $8,366.32 (+$4,172.56) | $12,538.88 | "
            "$16,000.00 | 26% → 52% |") in comment
    assert "% of budget compares the **expected** figure" in comment and "cost-within-budget's default (no pack config)" in comment
    # And the other way round, the pool is removed.
    back = finops_cost.cost_diff(json.loads(out_json.read_text()), prod[0])
    assert {i["urn"].rsplit("::", 1)[-1] for i in back["items"] if i["change"] == "-"} == {"gpu-l4-ng", "gpu-l4-lt"}


@pytest.mark.parametrize("content, message", [
    ('{"schema": "infracost/v0.10", "projects": []}', "baseline has schema 'infracost/v0.10', expected 'preflight/v1'"),
    ("[1, 2]", "baseline has schema 'list', expected 'preflight/v1'"),
    ("not json", "not a JSON report"),
    ('{"schema": "preflight/v1", "resources": []}', "has no cost section"),
])
def test_a_baseline_preflight_cannot_use_exits_2_before_running_anything(tmp_path, capsys, content, message):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    project = project_copy(tmp_path / "project", "sandbox", program_extra="\nraise SystemExit('must not run')\n")
    assert main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--baseline", str(path), *NO_POLICY]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and "Traceback" not in err


def test_a_missing_baseline_exits_2(tmp_path, capsys):
    assert main(["preview", "--stack", "kind", "--project-dir", str(PROJECT), "--baseline", str(tmp_path / "nope.json"),
                 *NO_POLICY]) == 2
    assert "nope.json: baseline report not found" in capsys.readouterr().err


def test_markdown_comment_is_written(tmp_path, capsys):
    target = tmp_path / "comment.md"
    assert main(["preview", "--stack", "preprod", "--project-dir", str(PROJECT), "--markdown", str(target),
                 *NO_POLICY]) in (0, 1)
    text = target.read_text()
    assert text.startswith("<!-- preflight-comment:ai-platform:preprod -->")
    assert "| Project | Min | Expected | Max | Budget | % of budget (expected) |" in text
    assert "<details><summary>Per-resource estimate:" in text


def test_a_hand_edit_that_adds_a_node_group_is_priced(tmp_path, capsys):
    extra = (
        "\nimport pulumi_aws as _aws\n"
        "_aws.eks.NodeGroup('hand-added', cluster_name='x', node_role_arn='arn:aws:iam::123456789012:role/x',\n"
        "                   subnet_ids=['subnet-1'], instance_types=['p5.48xlarge'],\n"
        "                   scaling_config={'min_size': 1, 'max_size': 1, 'desired_size': 1})\n"
    )
    project = project_copy(tmp_path / "project", "sandbox", program_extra=extra)
    out = tmp_path / "sandbox.json"
    assert main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--json", str(out), *NO_POLICY]) in (0, 1)
    report = json.loads(out.read_text())
    added = next(i for i in report["cost"]["items"] if i["urn"].endswith("::hand-added"))
    # 55.04 $/h x 730 h = 40,179.20, plus EKS's default 20 GiB root x 0.08 = 1.60; no project tag: the stack's.
    assert added["expected"] == pytest.approx(40179.20 + 1.60, abs=0.01) and added["project"] == "project-nova"
    assert any("hand-added" in a and "no 'finops.apexlogic.com/project' tag" in a for a in report["cost"]["assumptions"])
    # The declared-config output does not know it: the mismatch is visible.
    assert report["outputs"]["costEstimateUsd"]["total"]["expected"] < report["cost"]["total"]["expected"] - 40000


def recorded(stack: str, edit=None):
    source = stack_source(stack, edit)
    cfg = validate_flat_config(source.config, source.project, source.source)
    return cfg, run_program(ROOT, source)


@pytest.mark.parametrize("stack, stores", [*((s, False) for s in AWS_STACKS), ("live", True)])
def test_outputs_agree_with_the_recorded_estimate(stack, stores):
    cfg, recording = recorded(stack, PROD_STORES if stores else None)
    section = finops_cost.cost_section(recording, cfg)
    output = recording.outputs["costEstimateUsd"]
    assert output["total"] == section["total"]
    assert output["byProject"] == {p: {k: v[k] for k in ("min", "expected", "max")}
                                   for p, v in section["by_project"].items()}
    assert recording.outputs["budgetsUsd"] == {p: v["budget"] for p, v in section["by_project"].items()}
    assert section["by_project"]


def test_a_region_without_a_snapshot_is_said_not_hidden():
    def move(config: dict[str, Any]) -> None:
        config["aws:region"] = "eu-west-1"
        for service in config["ai-platform:services"]:  # the project's repository moves with the stack
            service["model"]["image"] = service["model"]["image"].replace(".us-east-1.", ".eu-west-1.")

    cfg, recording = recorded("sandbox", move)
    section = finops_cost.cost_section(recording, cfg)
    assert section["catalog"]["region"] == rates.RATES_REGION
    assert any(a.startswith("No price snapshot for region eu-west-1") for a in section["assumptions"])
