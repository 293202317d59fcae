"""The pull-request comment for four changes to the tests' own prod stack (``live``, given the shipped
stacks' model stores by ``with_model_store``), against golden files.

Each change is previewed as CI does (``preview --baseline prod.json --markdown``), with prod's own
pack config, so "% of budget" is on prod's gate basis, ``max``. Every figure a golden shows can be
recomputed by hand from two sources, and each test below does that arithmetic:

- the EC2 price table, ``finops/ai_platform_finops/data/ec2-ondemand-us-east-1.csv`` (us-east-1
  on-demand Linux, 2026-07-20): g5.2xlarge 1.212 $/h, g6e.2xlarge 2.24208, g6.xlarge 0.8048;
- the fixed rates in ``ai_platform_finops/rates.py``: gp3 0.08 $/GB-month, NLB 0.0225 $/h,
  NLCU 0.006 $/h, public IPv4 0.005 $/h, S3 Standard 0.023 and ECR 0.10 $/GB-month; a month is 730 h.

Each project's model store adds prod's assumed storage (finops.usage: 400 GB in its bucket, 120 GB of
images): 400 x 0.023 + 120 x 0.10 = 9.20 + 12.00 = 21.20 a month.

A node group costs nodes x $/h x 730; its launch template nodes x disk GiB x 0.08.

To accept an intended change of format: ``UPDATE_GOLDEN=1 python -m pytest tests/finops/test_cost_comment_goldens.py``
and review the diff of ``tests/finops/golden/prod_*.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest

from ai_platform_finops.catalog import price_table
from preflight.cli import main
from tests.support import ROOT, edited_project
from tests.support.fixtures import with_model_store

GOLDEN = Path(__file__).parent / "golden"
HOURS = 730
STORE = 400 * 0.023 + 120 * 0.10
"""A project's model store storage a month in prod (finops.usage)."""
PROD_STORES = with_model_store(400, 120, 20, scanning="enhanced")
PRICES = price_table("us-east-1")
assert PRICES is not None


def price(instance_type: str) -> float:
    value = PRICES.price(instance_type)  # type: ignore[union-attr]
    assert value is not None
    return value


def usd(value: float) -> str:
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("base")
    path = tmp / "prod.json"
    project = edited_project(tmp, "live", PROD_STORES)
    assert main(["preview", "--stack", "live", "--project-dir", str(project), "--no-policy", "--json", str(path)]) == 0
    return path


def comment(tmp_path: Path, baseline: Path, edit: Callable[[dict[str, Any]], None], program_extra: str = "") -> str:
    def with_stores(config: dict[str, Any]) -> None:
        PROD_STORES(config)
        edit(config)

    project = edited_project(tmp_path, "live", with_stores)
    if program_extra:
        (project / "__main__.py").unlink()
        (project / "__main__.py").write_text((ROOT / "__main__.py").read_text() + program_extra)
    out = tmp_path / "comment.md"
    code = main(["preview", "--stack", "live", "--project-dir", str(project), "--no-policy",
                 "--baseline", str(baseline), "--markdown", str(out)])
    assert code == 0
    return out.read_text(encoding="utf-8")


def golden(name: str, text: str) -> None:
    path = GOLDEN / f"prod_{name}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def pool(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in config["ai-platform:nodePools"] if p["name"] == name)


def test_max_only(tmp_path, baseline):
    text = comment(tmp_path, baseline, lambda c: pool(c, "gpu-a10g").update(maxSize=12))
    golden("max_only", text)
    # Expected does not move; max rises by 6 nodes x (1.212 $/h x 730 h + 200 GiB x 0.08) = 6 x 900.76 = 5,404.56:
    # the node group's 6 x 884.76 = 5,308.56 and its launch template's 6 x 16.00 = 96.00.
    per_node = price("g5.2xlarge") * HOURS
    rise = 6 * per_node + 6 * 200 * 0.08
    assert rise == pytest.approx(5404.56)
    # Both projects' stores: 6,606.58 for the rest + 2 x 21.20 = 6,648.98.
    assert usd(6606.58 + 2 * STORE) == "$6,648.98"
    assert "**Monthly cost will not change: $6,648.98** expected" in text
    assert f"> :warning: project-nova: worst case rises by {usd(rise)}/month" in text
    assert f"gpu-a10g-ng maxSize 6 → 12 (+{usd(6 * per_node)})" not in text  # causes name the change, not a sum
    assert "gpu-a10g-ng maxSize 6 → 12" in text
    # nova's max: 6,497.94 (its 6,468.42 plus the monitoring stack's volumes, (100 + 2 x 2) GiB x 0.08 = 8.32,
    # billed to the stack's project, plus its store's 21.20) + 5,404.56 = 11,902.50 of its 9,000 budget: 72% → 132%
    # on prod's basis, max.
    assert usd(6468.42 + 8.32 + STORE) == "$6,497.94"
    assert "| $9,000.00 | 72% → 132% |" in text and "% of budget (max)" in text


def test_desired_size_and_instance_type(tmp_path, baseline):
    def edit(config: dict[str, Any]) -> None:
        pool(config, "gpu-a10g").update(desiredSize=3, instanceTypes=["g6e.2xlarge"])

    text = comment(tmp_path, baseline, edit)
    golden("desired_and_type", text)
    old, new = price("g5.2xlarge"), price("g6e.2xlarge")
    # Node group expected: 2 x 1.212 x 730 = 1,769.52 → 3 x 2.24208 x 730 = 4,910.16; its disk 2 → 3 x 16.00.
    assert usd(2 * old * HOURS) == "$1,769.52" and usd(3 * new * HOURS) == "$4,910.16"
    assert "| ~ | gpu-a10g-ng | eks:NodeGroup | project-nova | instance type g5.2xlarge → g6e.2xlarge; desiredSize 2 → 3 |" in text
    assert f"{usd(2 * old * HOURS)} → {usd(3 * new * HOURS)} (+{usd(3 * new * HOURS - 2 * old * HOURS)})" in text
    # Max: 6 x 1.212 x 730 = 5,308.56 → 6 x 2.24208 x 730 = 9,820.31 (+4,511.75).
    assert f"worst case rises by {usd(6 * (new - old) * HOURS)}/month" in text
    assert "| ~ | gpu-a10g-lt | ec2:LaunchTemplate | project-nova | figures only | $32.00 | $32.00 → $48.00 (+$16.00) | $96.00 |" in text


SERVICE = '''
import pulumi_kubernetes as _k8s
_k8s.core.v1.Service("demo-public", metadata={"name": "demo-public", "namespace": "project-nova", "annotations": {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}},
    spec={"type": "LoadBalancer", "selector": {"app": "demo"}, "ports": [{"port": 443, "targetPort": 8443}]})
'''


def test_a_new_load_balancer_service(tmp_path, baseline):
    text = comment(tmp_path, baseline, lambda c: None, SERVICE)
    golden("lb_service", text)
    # An NLB made by the AWS Load Balancer Controller, internet-facing: 730 h x 0.0225 = 16.425, 0 NLCU assumed
    # (finops.usage.lcuPerLoadBalancer), 2 AZs (finops.usage.loadBalancerZones) x 730 h x 0.005 = 7.30: 23.73.
    assert HOURS * 0.0225 + 0 * HOURS * 0.006 + 2 * HOURS * 0.005 == pytest.approx(23.725)
    assert "| + | demo-public | core:Service | project-nova | added: load balancer NLB, scheme internet-facing |" in text
    assert ("| demo-public (core:Service) | project-nova | 730 h; 0 NLCU an hour each (finops.usage.lcuPerLoadBalancer); "
            "2 AZs (a public IPv4 address each) (finops.usage.loadBalancerZones) | $0.0225/h + $0.006/NLCU-h + "
            "$0.005/IPv4 address-h | $23.73 |") in text
    # The fixed small charges now count 3 NAT Elastic IPs + 2 addresses of the NLB: 5 x 730 x 0.005 = 18.25.
    assert "5 public IPv4 address(es) x 730 h x $0.005 = $18.25" in text


def test_an_added_project(tmp_path, baseline):
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:projects"].append({"name": "team-orion", "quota": {"gpus": 2, "cpu": "16", "memory": "64Gi"},
                                               "sourceRepos": ["https://github.com/apexlogic/ai-platform-gitops.git"]})
        config["ai-platform:nodePools"].append({"name": "gpu-l4", "role": "gpu", "instanceTypes": ["g6.xlarge"],
                                                "capacityType": "ON_DEMAND", "minSize": 1, "maxSize": 2, "desiredSize": 1,
                                                "diskSizeGib": 100, "project": "team-orion"})
        config["ai-platform:budgets"]["monthlyLimitsUsd"]["team-orion"] = 2000

    text = comment(tmp_path, baseline, edit)
    golden("added_project", text)
    # team-orion: 1 node of g6.xlarge, 0.8048 x 730 = 587.50, plus 100 GiB x 0.08 = 8.00, plus its new model
    # store's 21.20: 616.70 expected; at max, 2 nodes: 1,191.01 + 21.20 = 1,212.21 of a 2,000 budget = 61%.
    node = price("g6.xlarge") * HOURS
    expected, worst = node + 8 + STORE, 2 * (node + 8) + STORE
    assert usd(expected) == "$616.70" and usd(worst) == "$1,212.21"
    assert f"| team-orion | {usd(expected)} (new) | {usd(expected)} (new) | {usd(worst)} (new) | $2,000.00 | 61% |" in text
    assert "> :warning: team-orion: worst case rises by $1,212.21/month (max $0.00 → $1,212.21)" in text
