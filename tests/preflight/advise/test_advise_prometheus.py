"""``python -m preflight advise --prometheus``, end to end against a real Prometheus holding the synthetic
history (conftest.py), with the known answers of synthetic.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai_platform_finops import rates
from ai_platform_finops.catalog import price_table
from preflight.cli import main
from tests.preflight.advise import synthetic
from tests.support import ROOT

END = "2026-11-30T00:00:00Z"


def advise(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it."""
    return subprocess.run([sys.executable, "-m", "preflight", "advise", "--stack", "advise", "--project-dir",
                           str(project), "--end", END, *argv], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def live(prometheus_url, tmp_path_factory) -> dict:
    """One run against the live server: its report, its saved metrics, its Markdown and its output."""
    from tests.preflight.advise.conftest import DATA

    base = tmp_path_factory.mktemp("live")
    project = base / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "components", "finops", "policypacks"):
        (project / name).symlink_to(ROOT / name)
    (project / "stacks" / "Pulumi.advise.yaml").write_text((DATA / "Pulumi.advise.yaml").read_text())
    result = advise(project, "--prometheus", prometheus_url, "--json", str(base / "report.json"),
                    "--save-metrics", str(base / "metrics.json"), "--markdown", str(base / "report.md"))
    assert result.returncode == 0, result.stderr
    return {"project": project, "report": json.loads((base / "report.json").read_text()), "stdout": result.stdout,
            "metrics": base / "metrics.json", "markdown": (base / "report.md").read_text()}


def recs(report: dict, target: str) -> dict[str, dict]:
    return {r["kind"]: r for r in report["recommendations"] if r["target"] == target}


def test_a_pool_idle_nights_and_weekends_gets_a_schedule_whose_saving_matches_a_hand_calculation(live):
    rec = recs(live["report"], "pool:gpu-day")["schedule"]
    assert rec["changes"] == [{"path": "nodePools[gpu-day].offPeak", "from": None,
                               "to": {"scaleDown": "0 17 * * MON-FRI", "scaleUp": "0 8 * * MON-FRI", "timeZone": "UTC"}}]
    # By hand: one spot g5.xlarge and its 200 GiB gp3 disk, up 08:00-17:00 on 5 days: 45 of 168 hours a week.
    node_month = price_table("us-east-1").price("g5.xlarge") * 0.35 * rates.HOURS_PER_MONTH + 200 * 0.08
    assert rec["monthly_usd"]["saving"] == pytest.approx(node_month * (1 - 45 / 168), abs=0.02)
    assert rec["confidence"] == "high"  # the same busy window both weeks
    evidence = rec["evidence"][0]
    assert evidence["percentile"] == 95 and "DCGM_FI_DEV_GPU_UTIL" in evidence["query"]
    assert evidence["window"] == {"start": "2026-11-16T00:00:00Z", "end": "2026-11-30T00:00:00Z", "step_seconds": 300}


def test_a_service_at_low_gpu_use_gets_fewer_replicas_and_its_pool_fewer_nodes(live):
    rec = recs(live["report"], "service:project-nova/chat-svc")["min-replicas"]
    assert {c["path"]: (c["from"], c["to"]) for c in rec["changes"]} == {
        "services[chat-svc].replicas.min": (3, 1),
        "nodePools[gpu-chat].minSize": (3, 1),
        "nodePools[gpu-chat].desiredSize": (3, 1),
    }
    assert rec["evidence"][0]["value"] == pytest.approx(50.0)  # p95 of 20 + 15 + 15
    node_month = price_table("us-east-1").price("g5.xlarge") * 0.35 * rates.HOURS_PER_MONTH + 200 * 0.08
    assert rec["monthly_usd"]["saving"] == pytest.approx(2 * node_month, abs=0.02)


def test_a_pool_whose_frame_buffer_fits_the_smaller_type_gets_it(live):
    rec = recs(live["report"], "pool:gpu-big")["smaller-instance"]
    assert rec["changes"] == [{"path": "nodePools[gpu-big].instanceTypes", "from": ["p4de.24xlarge"], "to": ["p4d.24xlarge"]}]
    assert rec["evidence"][0]["value"] == pytest.approx(30 * 1024)
    prices = price_table("us-east-1")
    assert rec["monthly_usd"]["saving"] == pytest.approx(
        (prices.price("p4de.24xlarge") - prices.price("p4d.24xlarge")) * 0.35 * rates.HOURS_PER_MONTH, abs=0.02)


def test_a_busy_pool_and_its_service_get_no_change(live):
    assert recs(live["report"], "pool:gpu-busy") == {}
    assert recs(live["report"], "service:project-nova/busy-svc") == {}
    assert recs(live["report"], "service:project-nova/big-svc") == {}


def test_an_idle_on_demand_pool_without_services_gets_spot_and_scale_to_zero(live):
    assert set(recs(live["report"], "pool:gpu-spare")) == {"spot", "scale-to-zero"}


def test_a_pool_without_metrics_is_not_judged_and_an_ignored_pool_is_left_alone(live):
    report = live["report"]
    assert {e["target"] for e in report["not_judged"]} == {"pool:gpu-dark"}
    assert report["ignored"] == [{"target": "pool:gpu-pinned", "reason": "reserved capacity for a customer demo"}]
    assert recs(report, "pool:gpu-pinned") == {}


def test_the_total_is_the_estimator_on_the_combined_change_and_the_markdown_carries_it(live):
    report = live["report"]
    diff = report["cost_diff"]
    assert diff["total"]["change"] == pytest.approx(-report["total_saving_usd"], abs=0.01)
    changed = {item["urn"].rsplit("::", 1)[-1] for item in diff["items"]}
    assert any("gpu-big" in name for name in changed) and any("gpu-chat" in name for name in changed)
    assert "## Advisor: `advise`" in live["markdown"] and "```diff" in live["markdown"]
    assert "--patch would change stacks/Pulumi.advise.yaml" in live["stdout"]


def test_saved_metrics_give_the_same_report_offline(live, tmp_path):
    result = advise(live["project"], "--metrics", str(live["metrics"]), "--json", str(tmp_path / "offline.json"))
    assert result.returncode == 0, result.stderr
    offline = json.loads((tmp_path / "offline.json").read_text())
    online = dict(live["report"])
    assert offline["sources"]["metrics"] == str(live["metrics"])
    for key in ("recommendations", "not_judged", "ignored", "held", "total_saving_usd", "cost_diff"):
        assert offline[key] == online[key]


def test_a_window_with_no_data_is_one_message_and_nothing_is_written(prometheus_url, project, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--prometheus", prometheus_url,
                 "--end", "2025-01-01T00:00:00Z", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.startswith(f"preflight: {prometheus_url}: no series for any of the") and "Traceback" not in err


def test_an_api_error_is_one_message(prometheus_url, project, capsys):
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--prometheus",
                 prometheus_url + "/not-the-api", "--end", END])
    err = capsys.readouterr().err
    assert code == 2 and "query_range answered HTTP 404" in err and "Traceback" not in err


def test_an_unreachable_prometheus_is_one_message_and_nothing_is_written(project, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "metrics.json"
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--prometheus",
                 f"http://127.0.0.1:{port}", "--save-metrics", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.strip().startswith(f"preflight: http://127.0.0.1:{port}: unreachable:")


def test_the_synthetic_history_is_what_the_answers_assume():
    assert synthetic.business(synthetic.START + 9 * 3600) and not synthetic.business(synthetic.START + 5 * 86400 + 10 * 3600)
