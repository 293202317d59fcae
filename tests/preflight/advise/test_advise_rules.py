"""The recommendation rules on hand-made metrics, without a server or a program run."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import validate_flat_config
from preflight.advise import queries, rules
from preflight.advise.prometheus import Metrics, Window
from preflight.stackfile import read_stack_config
from tests.preflight.advise import synthetic
from tests.support import PROJECT


def config(project: Path, stack: str):
    source = read_stack_config(project, stack)
    return validate_flat_config(source.config, source.project, source.source, source.secret_keys)


def metrics(answers: dict[str, list[tuple[int, float]]], start: int = synthetic.START, end: int = synthetic.END) -> Metrics:
    responses = {q: {"status": "success", "data": {"resultType": "matrix", "result": (
        [{"metric": {}, "values": [[t, str(v)] for t, v in samples]}] if samples else [])}} for q, samples in answers.items()}
    return Metrics(Window(start, end, 300), "test", responses)


def pool_query(pool: str, key: str) -> str:
    return next(q.promql for q in queries.pool_queries(pool) if q.key == key)


def test_a_type_the_allowlist_lacks_is_held_not_proposed(project):
    cfg = config(project, "advise")
    times = synthetic.times()
    found = rules.findings(cfg, metrics({pool_query("gpu-big", "pool_fb_used"): [(t, 30 * 1024.0) for t in times]}),
                           rules.Policy("dev", rules.DEFAULT_FLOOR, frozenset({"p4de.24xlarge"})))
    assert not [r for r in found.recommendations if r.kind == "smaller-instance"]
    assert {"target": "pool:gpu-big", "reason": "p4d.24xlarge would fit but gpu-instance-allowlist does not list it"} in found.held


def test_memory_that_does_not_fit_keeps_the_type(project):
    cfg = config(project, "advise")
    found = rules.findings(cfg, metrics({pool_query("gpu-big", "pool_fb_used"): [(t, 36 * 1024.0) for t in synthetic.times()]}),
                           rules.Policy("dev", rules.DEFAULT_FLOOR, None))
    assert not [r for r in found.recommendations if r.kind == "smaller-instance"]  # 36 GiB x 1.2 > 40 GiB


def test_an_existing_schedule_is_adjusted_in_its_own_time_zone():
    cfg = config(PROJECT, "preprod")  # the tests' own staging stack; gpu-a10g: down 21:00, up 07:00 on weekdays, America/New_York
    from zoneinfo import ZoneInfo
    from datetime import datetime

    zone = ZoneInfo("America/New_York")

    def busy(ts: int) -> float:
        local = datetime.fromtimestamp(ts, tz=zone)
        return 50.0 if local.weekday() < 5 and 10 <= local.hour < 16 else 0.0

    found = rules.findings(cfg, metrics({pool_query("gpu-a10g", "pool_util"): [(t, busy(t)) for t in synthetic.times()]}),
                           rules.Policy("staging", rules.DEFAULT_FLOOR, None))
    rec = next(r for r in found.recommendations if r.target == "pool:gpu-a10g")
    assert rec.kind == "schedule-adjust" and rec.confidence == "high"
    assert rec.edits[0].value == {"scaleDown": "0 16 * * MON-FRI", "scaleUp": "0 9 * * MON-FRI", "timeZone": "America/New_York"}
    assert rec.edits[0].before == {"scaleDown": "0 21 * * MON-FRI", "scaleUp": "0 7 * * MON-FRI", "timeZone": "America/New_York"}


def test_three_days_give_a_low_confidence_schedule(project):
    cfg = config(project, "advise")
    start = synthetic.START
    end = start + 3 * 86400
    samples = [(t, 70.0 if 6 <= (t - start) // 3600 % 24 < 20 else 0.0) for t in range(start, end + 1, 300)]
    found = rules.findings(cfg, metrics({pool_query("gpu-day", "pool_util"): samples}, start, end),
                           rules.Policy("dev", rules.DEFAULT_FLOOR, None))
    rec = next(r for r in found.recommendations if r.target == "pool:gpu-day")
    assert rec.edits[0].value["scaleUp"] == "0 5 * * MON-FRI" and rec.confidence == "low"


def test_around_the_clock_use_gets_no_schedule(project):
    cfg = config(project, "advise")
    samples = [(t, 0.0 if (t // 3600) % 24 == 3 else 60.0) for t in synthetic.times()]  # idle one hour a night
    found = rules.findings(cfg, metrics({pool_query("gpu-day", "pool_util"): samples}), rules.Policy("dev", rules.DEFAULT_FLOOR, None))
    assert not [r for r in found.recommendations if r.target == "pool:gpu-day"]


@pytest.mark.parametrize("document, expected", [
    ({"all": {"environment": "prod"}, "inference-availability": {"minReplicas": 3}}, ("prod", 3)),
    ({"inference-availability": "mandatory"}, ("dev", 2)),
    (None, ("dev", 2)),
])
def test_policy_floors_come_from_the_pack_config(document, expected):
    policy = rules.Policy.from_pack_config(document, "dev")
    assert (policy.environment, policy.floors["inference-availability"][1]) == expected
