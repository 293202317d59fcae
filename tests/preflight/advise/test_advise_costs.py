"""Cost Explorer through botocore's Stubber (paginated, throttled, denied), the saved-costs file, and the
forecast and anomaly sections they feed."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest
from botocore.stub import Stubber

from preflight.advise import costexplorer
from preflight.advise.costexplorer import CostsError
from preflight.cli import main
from tests.preflight.advise import synthetic

TAG = synthetic.TAG_KEY
START, END = date(2026, 11, 2), date(2026, 11, 30)


def client():
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def stubbed(pages=None, error: str | None = None):
    ce = client()
    stub = Stubber(ce)
    expected = costexplorer.request(TAG, START, END)
    for index, page in enumerate(pages or []):
        params = dict(expected, **({"NextPageToken": f"page-{index}"} if index else {}))
        stub.add_response("get_cost_and_usage", page, params)
    if error:
        stub.add_client_error("get_cost_and_usage", service_error_code=error, service_message="no", http_status_code=400)
    stub.activate()
    return ce, stub


def test_every_page_is_read_and_spend_is_split_by_project_and_service():
    pages = synthetic.daily_spend()
    ce, stub = stubbed(pages)
    costs = costexplorer.fetch(ce, TAG, START, END)
    stub.assert_no_pending_responses()
    assert len(costs.days) == 28 and costs.days[0] == START
    assert set(costs.by_project) == {"project-nova", "project-atlas", costexplorer.UNTAGGED}
    assert costs.by_project["project-atlas"][START] == pytest.approx(120.0)
    assert costs.by_service["project-nova"][synthetic.EKS][START] == pytest.approx(2.4)
    assert len(costs.estimated) == 2


@pytest.mark.parametrize("code, text", [
    ("ThrottlingException", "throttled by Cost Explorer"),
    ("LimitExceededException", "request limit was exceeded"),
    ("AccessDeniedException", "needs ce:GetCostAndUsage"),
])
def test_throttled_and_denied_answers_are_one_message(code, text):
    ce, _ = stubbed(error=code)
    with pytest.raises(CostsError) as exc:
        costexplorer.fetch(ce, TAG, START, END)
    assert str(exc.value).startswith(f"--cost-explorer: GetCostAndUsage: {code}: ") and text in str(exc.value)


def test_a_throttled_second_page_writes_nothing(project, tmp_path, capsys, monkeypatch):
    pages = synthetic.daily_spend()
    ce = client()
    stub = Stubber(ce)
    stub.add_response("get_cost_and_usage", pages[0])
    stub.add_client_error("get_cost_and_usage", service_error_code="ThrottlingException", service_message="Rate exceeded")
    stub.activate()
    monkeypatch.setattr(costexplorer, "make_client", lambda: ce)
    out = tmp_path / "costs.json"
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--cost-explorer", "--days", "28",
                 "--end", "2026-11-30T00:00:00Z", "--save-costs", str(out), "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists() and not (tmp_path / "r.json").exists()
    assert err == "preflight: --cost-explorer: GetCostAndUsage: ThrottlingException: throttled by Cost Explorer " \
                  "(retries exhausted); run again later\n"


def test_cost_explorer_run_saves_its_answers_and_reports_forecast_and_the_planted_spike(project, tmp_path, capsys, monkeypatch):
    pages = synthetic.daily_spend()
    ce, stub = stubbed(pages)
    monkeypatch.setattr(costexplorer, "make_client", lambda: ce)
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--cost-explorer", "--days", "28",
                 "--end", "2026-11-30T00:00:00Z", "--save-costs", str(tmp_path / "costs.json"),
                 "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    stub.assert_no_pending_responses()
    report = json.loads((tmp_path / "r.json").read_text())
    nova = report["forecast"]["projects"]["project-nova"]
    assert nova["budget"] == 30000 and nova["status"] == "within" and nova["days_left"] == 1
    assert "Holt-Winters" in nova["method"] and nova["lower"] <= nova["forecast"] <= nova["upper"]
    assert [(a["project"], a["date"]) for a in report["anomalies"]] == [("project-nova", "2026-11-22")]
    assert report["anomalies"][0]["drivers"][0]["service"] == synthetic.EC2
    # The saved file reads back to the same report.
    capsys.readouterr()
    assert main(["advise", "--stack", "advise", "--project-dir", str(project), "--costs", str(tmp_path / "costs.json"),
                 "--json", str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["forecast"] == report["forecast"] and again["anomalies"] == report["anomalies"]


def test_a_budget_the_forecast_crosses_is_flagged(project, tmp_path, capsys):
    stack = project / "stacks" / "Pulumi.advise.yaml"
    stack.write_text(stack.read_text().replace("project-nova: 30000", "project-nova: 8200"))
    (tmp_path / "c.json").write_text(json.dumps(synthetic.daily_spend()))
    assert main(["advise", "--stack", "advise", "--project-dir", str(project), "--costs", str(tmp_path / "c.json"),
                 "--markdown", str(tmp_path / "r.md")]) == 0
    out = capsys.readouterr().out
    assert "vs budget 8,200.00 (" in out and "(within)" not in out.split("project-nova:")[1].splitlines()[0]
    assert "### Month-end forecast" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("mutate, problem", [
    (lambda p: p[0]["ResultsByTime"][3]["Groups"][1]["Metrics"]["UnblendedCost"].update(Amount="lots"),
     "[0].ResultsByTime[3].Groups[1].Metrics.UnblendedCost: needs Amount, a number as a string"),
    (lambda p: p[1]["ResultsByTime"][0]["TimePeriod"].update(Start="yesterday"),
     "[1].ResultsByTime[0].TimePeriod.Start: not an ISO date"),
    (lambda p: p[0]["ResultsByTime"][0]["Groups"][0].update(Keys=["Owner$x"]),
     "[0].ResultsByTime[0].Groups[0].Keys[0]: 'Owner$x' is not grouped by the tag"),
    (lambda p: p[0]["ResultsByTime"][0]["Groups"][0]["Metrics"]["UnblendedCost"].update(Unit="EUR"),
     "[0].ResultsByTime[0].Groups[0].Metrics.UnblendedCost.Unit: 'EUR'"),
    (lambda p: p.__setitem__(0, {"nope": 1}), "[0].ResultsByTime: missing"),
])
def test_a_bad_costs_file_is_one_message_naming_the_key(project, tmp_path, capsys, mutate, problem):
    pages = synthetic.daily_spend()
    mutate(pages)
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(pages))
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--costs", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"preflight: {path}: {problem}") and err.count("\n") == 1
