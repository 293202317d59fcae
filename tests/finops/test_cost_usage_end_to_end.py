"""Usage assumptions and Helm-declared load balancers, end to end: the stack config's ``finops.usage``
reaches preflight's figures and the policy pack's budget gate alike, and a load balancer shown only by
a Helm release's values is priced by the recorded estimate and by the declared-config output. The
stacks are the tests' own (sandbox is dev, preprod staging).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from tests.policypacks.conftest import AS_OF
from tests.support import edited_project


@pytest.fixture(autouse=True)
def _pack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PACK_PYTHON_ENV, sys.executable)
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", AS_OF)


def test_a_nat_usage_assumption_is_priced_by_preflight_and_gated_by_the_pack(tmp_path, capsys):
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:finops"]["usage"] = {"natGbPerMonth": 10000}

    project = edited_project(tmp_path, "sandbox", edit)
    out = tmp_path / "sandbox.json"
    code = main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--json", str(out)])
    report = json.loads(out.read_text())
    line = next(i for i in report["cost"]["items"] if i["type"] == "usage:vpc:NatDataProcessing")
    # 10,000 GB x 0.045 $/GB = 450.00, on top of dev's 357.17 expected: 807.17 > the 800 budget.
    assert line["expected"] == 450.0 and line["lines"][0]["setting"] == "finops.usage.natGbPerMonth"
    assert report["cost"]["usage"]["assumptions"]["finops.usage.natGbPerMonth"] == 10000
    assert report["cost"]["by_project"]["project-nova"]["expected"] == pytest.approx(357.17 + 450.0)
    found = [v for v in report["policy"]["violations"] if v["policy"] == "cost-within-budget"]
    assert code == 1 and found and "estimated $807.17/month (expected" in found[0]["message"]
    assert "nat-gateway-data-processing $450.00" in found[0]["message"]
    capsys.readouterr()


def test_an_argocd_alb_ingress_in_helm_values_is_priced_in_the_report_and_the_output(tmp_path, capsys):
    def edit(config: dict[str, Any]) -> None:
        config["ai-platform:argocd"]["ingress"] = {"host": "argocd.staging.apexlogic.com", "tlsSecretName": "argocd-tls",
                                                   "ingressClass": "alb"}

    project = edited_project(tmp_path, "preprod", edit)
    out = tmp_path / "preprod.json"
    main(["preview", "--stack", "preprod", "--project-dir", str(project), "--no-policy", "--json", str(out)])
    report = json.loads(out.read_text())
    lb = next(i for i in report["cost"]["items"] if i["type"] == "kubernetes:helm.sh/v3:Release")
    # An ALB, internal (no scheme annotation: the controller's default): 730 h x 0.0225 = 16.425, 0 LCU assumed.
    assert lb["attributes"] == {"load balancer": "ALB", "scheme": "internal"} and lb["expected"] == pytest.approx(16.43)
    assert "Helm release values server.ingress (chart argo-cd)" in lb["basis"]
    # The declared-config output prices the same Ingress, so the two still agree.
    assert report["outputs"]["costEstimateUsd"]["total"] == report["cost"]["total"]
    capsys.readouterr()
