"""``--patch``: the stack file edited in place, comments and layout kept, only the intended keys changed,
and the patched stack previews green with its policy pack. The stacks are the tests' own (sandbox is dev,
live is prod)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from preflight.advise import edits
from preflight.advise.edits import Edit, EditError
from preflight.cli import main
from tests.preflight.advise import synthetic

END = "2026-11-30T00:00:00Z"


def saved_metrics(path: Path, responses: dict[str, list[tuple[int, float]]]) -> Path:
    """A --metrics file whose queries answer with the given samples (one series each)."""
    document = {"schema": "preflight-advise-metrics/v1",
                "window": {"start": synthetic.START, "end": synthetic.END, "step": synthetic.STEP},
                "responses": {q: {"status": "success", "data": {"resultType": "matrix", "result": (
                    [{"metric": {}, "values": [[t, f"{v:g}"] for t, v in samples]}] if samples else [])}}
                    for q, samples in responses.items()}}
    path.write_text(json.dumps(document))
    return path


def dev_metrics(path: Path) -> Path:
    """dev's gpu-a10g busy 09:00-17:00 UTC on weekdays; its service at low use."""
    from preflight.advise import queries

    pool = {q.key: q.promql for q in queries.pool_queries("gpu-a10g")}
    svc = {q.key: q.promql for q in queries.service_queries("project-nova", "multimodal-inference-service")}
    times = list(synthetic.times())
    busy = [(t, 60.0 if synthetic.business(t) else 0.0) for t in times]
    return saved_metrics(path, {
        pool["pool_util"]: busy, pool["pool_fb_used"]: [(t, 9000.0) for t in times],
        pool["pool_fb_total"]: [(t, 23028.0) for t in times], pool["pool_nodes"]: [(t, 1.0) for t in times],
        svc["service_util_sum"]: busy, svc["service_gpus"]: [(t, 1.0) for t in times],
    })


def test_patch_keeps_comments_changes_only_the_intended_keys_and_previews_green(project, tmp_path, capsys):
    stack = project / "stacks" / "Pulumi.sandbox.yaml"
    before = stack.read_text()
    code = main(["advise", "--stack", "sandbox", "--project-dir", str(project), "--metrics",
                 str(dev_metrics(tmp_path / "m.json")), "--end", END, "--patch", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0
    after = stack.read_text()
    assert "Patched stacks/Pulumi.sandbox.yaml" in out and "-        scaleDown: \"0 20 * * MON-FRI\"" in out
    # Every comment line survives, in order.
    assert [line for line in before.splitlines() if line.strip().startswith("#")] == \
           [line for line in after.splitlines() if line.strip().startswith("#")]
    old, new = yaml.safe_load(before)["config"], yaml.safe_load(after)["config"]
    old_pool = old["ai-platform:nodePools"][1]
    new_pool = new["ai-platform:nodePools"][1]
    assert new_pool.pop("offPeak") == {"scaleDown": "0 17 * * MON-FRI", "scaleUp": "0 8 * * MON-FRI", "timeZone": "UTC"}
    old_pool.pop("offPeak")
    assert new_pool == old_pool
    assert {k: v for k, v in new.items() if k != "ai-platform:nodePools"} == \
           {k: v for k, v in old.items() if k != "ai-platform:nodePools"}
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r["kind"] for r in report["recommendations"]] == ["schedule-adjust"]
    assert report["recommendations"][0]["patched"] is True
    # The dev floor (1 replica) already holds the service: nothing held, nothing lowered.
    assert report["held"] == []
    # The pull request's gate: the patched stack previews green with its pack, and the cost diff shows the saving.
    capsys.readouterr()
    code = main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--json", str(tmp_path / "p.json")])
    assert code == 0, capsys.readouterr()
    preview = json.loads((tmp_path / "p.json").read_text())
    assert preview["cost"]["total"]["expected"] == pytest.approx(
        report["cost_diff"]["total"]["new"], abs=0.01)


def test_prod_replicas_stay_at_the_policy_floor_and_no_schedule_is_proposed(project, tmp_path, capsys):
    from preflight.advise import queries

    times = list(synthetic.times())
    responses = {}
    for pool in ("gpu-a10g", "gpu-a10g-x4"):
        p = {q.key: q.promql for q in queries.pool_queries(pool)}
        responses[p["pool_util"]] = [(t, 40.0 if synthetic.business(t) else 0.0) for t in times]
    for name in ("multimodal-inference-service", "claims-triage-assistant"):
        project_name = "project-nova" if name.startswith("multi") else "project-atlas"
        s = {q.key: q.promql for q in queries.service_queries(project_name, name)}
        responses[s["service_util_sum"]] = [(t, 3.0) for t in times]
    code = main(["advise", "--stack", "live", "--project-dir", str(project), "--end", END, "--metrics",
                 str(saved_metrics(tmp_path / "m.json", responses)), "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["recommendations"] == []
    held = " ".join(e["reason"] for e in report["held"])
    assert "inference-availability requires 2 in prod" in held
    assert "off-peak schedule would take" in held


def test_governance_budgets_and_tags_are_out_of_reach():
    for section, path in (("services", ("model", "image")), ("services", ("ethics", "policyId")),
                          ("services", ("replicas", "max")), ("nodePools", ("project",)), ("budgets", ("x",))):
        with pytest.raises(EditError, match="never edits"):
            edits.check(Edit(section, "x", path, 1))


def test_an_ignored_service_gets_nothing_and_says_why(project, tmp_path, capsys):
    stack = project / "stacks" / "Pulumi.sandbox.yaml"
    text = stack.read_text().replace("      port: 8080\n", "      port: 8080\n      advisor:\n        ignore: true\n"
                                     "        reason: launch week, sized by hand\n", 1)
    stack.write_text(text)
    code = main(["advise", "--stack", "sandbox", "--project-dir", str(project), "--end", END,
                 "--metrics", str(dev_metrics(tmp_path / "m.json")), "--json", str(tmp_path / "r.json")])
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert {"target": "service:project-nova/multimodal-inference-service",
            "reason": "launch week, sized by hand"} in report["ignored"]
    assert not any(r["target"].startswith("service:") for r in report["recommendations"])


def test_ignore_without_a_reason_is_a_config_error(project, capsys):
    stack = project / "stacks" / "Pulumi.sandbox.yaml"
    stack.write_text(stack.read_text().replace("      port: 8080\n", "      port: 8080\n      advisor:\n        ignore: true\n", 1))
    code = main(["advise", "--stack", "sandbox", "--project-dir", str(project), "--costs", "unused.json"])
    err = capsys.readouterr().err
    assert code == 2 and "services[0].advisor" in err and "needs a reason" in err


def test_round_trip_inserts_a_missing_key_where_the_shipped_stacks_put_it():
    text = ("config:\n  ai-platform:nodePools:\n    - name: a\n      role: gpu  # gpu pool\n      instanceTypes: [g5.xlarge]\n"
            "      minSize: 1\n      maxSize: 2\n    # the next pool\n    - name: b\n      role: gpu\n"
            "      instanceTypes: [g5.xlarge, g5.2xlarge]\n      maxSize: 1\n")
    out = edits.patch_text(text, "ai-platform", [Edit("nodePools", "a", ("capacityType",), "SPOT"),
                                                 Edit("nodePools", "a", ("offPeak",), {"scaleDown": "0 20 * * *"}),
                                                 Edit("nodePools", "b", ("instanceTypes",), ["g5.xlarge"])])
    assert out == ("config:\n  ai-platform:nodePools:\n    - name: a\n      role: gpu  # gpu pool\n      instanceTypes: [g5.xlarge]\n"
                   "      capacityType: SPOT\n      minSize: 1\n      maxSize: 2\n      offPeak:\n"
                   "        scaleDown: \"0 20 * * *\"\n    # the next pool\n    - name: b\n      role: gpu\n"
                   "      instanceTypes: [g5.xlarge]\n      maxSize: 1\n")
