"""The generated Alertmanager config: ``amtool check-config`` for every stack, and a real ``alertmanager`` on
localhost with a localhost webhook receiver taking a burst of related alerts.

The burst: one pool incident (GpuPoolPodsPending on gpu-a10g, critical) and 50 per-service alerts it causes
(SloErrorBudgetBurnFast of 50 services on that pool, 25 in each of two projects). Inhibition should leave
exactly one notification, to the platform receiver. Without the pool incident the same 50 alerts are 50
notifications, 25 to each project's owner. Timing: only ``group_wait``/``group_interval`` are shortened for
the test; nothing sleeps, every wait is an event or a poll with a deadline.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from components.config.observability import ObservabilityConfig
from components.observability.alertmanager import (
    PLATFORM,
    alertmanager_config,
    project_receiver,
)
from tests.support.fixtures import AWS_STACKS
from tests.support.prometheus import config, tool

TOPIC = "arn:aws:sns:us-east-1:123456789012:ai-platform-prod-cost-alerts"
DEADLINE = 30.0


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_stack_alertmanager_config_passes_amtool(stack, tmp_path):
    cfg = config(stack)
    am = alertmanager_config(cfg.observability, is_prod=cfg.is_prod, projects=[p.name for p in cfg.projects],
                             sns_topic_arn=TOPIC, region=cfg.region)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(am))
    done = subprocess.run([tool("amtool"), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and "3 inhibit rules" in done.stdout


def test_prod_routes_each_project_to_its_owner_and_warnings_stay_with_them():
    cfg = config("live")
    am = alertmanager_config(cfg.observability, is_prod=True, projects=[p.name for p in cfg.projects],
                             sns_topic_arn=TOPIC, region=cfg.region)
    routes = am["route"]["routes"]
    assert [r["receiver"] for r in routes] == ["project-project-nova", "project-project-atlas"]
    nova = next(r for r in am["receivers"] if r["name"] == "project-project-nova")
    assert nova["email_configs"] == [{"to": "ml-oversight@apexlogic.com", "send_resolved": True}]
    assert nova["sns_configs"][0]["topic_arn"] == TOPIC and nova["sns_configs"][0]["sigv4"] == {"region": "us-east-1"}
    assert am["global"]["smtp_auth_password_file"] == "/etc/alertmanager/secrets/alertmanager-smtp/password"
    assert am["route"]["group_by"] == ["project", "service", "alertname"]


def test_outside_prod_warnings_go_to_the_low_noise_receiver_first():
    cfg = config("sandbox")
    am = alertmanager_config(cfg.observability, is_prod=False, projects=[p.name for p in cfg.projects])
    first = am["route"]["routes"][0]
    assert first["receiver"] == "low-noise" and first["matchers"] == ['severity="warning"']


# --- a real Alertmanager ------------------------------------------------------------------------

class Inbox:
    """What the webhook receiver got: (receiver path, alert count) per notification."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, int, str]] = []
        self.lock = threading.Condition()

    def add(self, path: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.notifications.append((path.strip("/"), len(body.get("alerts", [])), body.get("groupKey", "")))
            self.lock.notify_all()

    def wait_for(self, predicate, timeout: float = DEADLINE) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: predicate(self.notifications), timeout), self.notifications


@contextmanager
def webhook() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            inbox.add(self.path, body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", inbox
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, payload: Any | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(base + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
    return json.loads(text) if text else None


def poll(check, what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError:
            last = None
        if last:
            return last
        threading.Event().wait(0.05)  # a bounded pause between polls of a live server, not a timed assertion
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def alertmanager(tmp_path: Path, am_config: dict[str, Any]) -> Iterator[str]:
    binary = tool("prometheus-alertmanager")
    config_file = tmp_path / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(am_config))
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={config_file}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: api(base, "/api/v2/status")["config"], "alertmanager to start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def burst_config(url: str) -> dict[str, Any]:
    """prod-like routing with every receiver a path of the localhost webhook; timing shortened for the test."""
    obs = ObservabilityConfig.model_validate({
        "enabled": True,
        "platformReceiver": {"webhookUrl": f"{url}/{PLATFORM}"},
        "lowNoiseReceiver": {"webhookUrl": f"{url}/low-noise"},
        "receivers": {p: {"webhookUrl": f"{url}/{project_receiver(p)}"} for p in ("team-a", "team-b")},
    })
    am = alertmanager_config(obs, is_prod=True, projects=["team-a", "team-b"])
    am["route"].update(group_wait="1s", group_interval="1m")
    return am


def alert(labels: dict[str, str]) -> dict[str, Any]:
    return {"labels": labels, "annotations": {"summary": labels["alertname"]}}


POOL_INCIDENT = alert({"alertname": "GpuPoolPodsPending", "node_pool": "gpu-a10g", "scope": "pool", "severity": "critical"})


def service_alerts(n: int = 50) -> list[dict[str, Any]]:
    return [alert({"alertname": "SloErrorBudgetBurnFast", "project": "team-a" if i % 2 == 0 else "team-b",
                   "service": f"svc-{i:02d}", "node_pool": "gpu-a10g", "scope": "service", "severity": "critical",
                   "slo": "availability", "window": "1h"}) for i in range(n)]


SENTINEL = alert({"alertname": "Sentinel", "scope": "cluster", "severity": "warning"})
"""Posted once the burst's first notification arrived: its own group flushes after every group of the burst
(all created earlier with the same group_wait), so when it arrives the burst's notifications are all in."""


def settle(base: str, inbox: Inbox) -> None:
    api(base, "/api/v2/alerts", [SENTINEL])
    inbox.wait_for(lambda got: any(n[0] == PLATFORM and "Sentinel" in n[2] for n in got))


def test_a_pool_incident_and_the_50_alerts_it_causes_are_one_notification(tmp_path):
    with webhook() as (url, inbox), alertmanager(tmp_path, burst_config(url)) as base:
        api(base, "/api/v2/alerts", [POOL_INCIDENT, *service_alerts()])
        inbox.wait_for(lambda got: any(path == PLATFORM for path, _, _ in got))
        settle(base, inbox)
        burst = [n for n in inbox.notifications if "Sentinel" not in n[2]]
        assert [(path, count) for path, count, _ in burst] == [(PLATFORM, 1)]
        # Alertmanager itself says why: every service alert is inhibited by the pool incident.
        alerts = api(base, "/api/v2/alerts")
        suppressed = [a for a in alerts if a["labels"].get("scope") == "service"]
        assert len(suppressed) == 50 and all(a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"]
                                             for a in suppressed)


def test_without_the_pool_incident_each_owner_gets_one_notification_per_service(tmp_path):
    with webhook() as (url, inbox), alertmanager(tmp_path, burst_config(url)) as base:
        api(base, "/api/v2/alerts", service_alerts())
        inbox.wait_for(lambda got: len(got) >= 50)
        settle(base, inbox)
        burst = [n for n in inbox.notifications if "Sentinel" not in n[2]]
        assert Counter(path for path, _, _ in burst) == {"project-team-a": 25, "project-team-b": 25}
        assert all(count == 1 for _, count, _ in burst)


def test_a_critical_alert_silences_the_same_services_warning_and_a_pool_incident_spares_other_pools(tmp_path):
    critical = alert({"alertname": "SloErrorBudgetBurnFast", "project": "team-a", "service": "svc-a",
                      "node_pool": "gpu-l4", "scope": "service", "severity": "critical"})
    warning = alert({"alertname": "ModelDriftHigh", "project": "team-a", "service": "svc-a",
                     "node_pool": "gpu-l4", "scope": "service", "severity": "warning"})
    with webhook() as (url, inbox), alertmanager(tmp_path, burst_config(url)) as base:
        api(base, "/api/v2/alerts", [POOL_INCIDENT, critical, warning])  # the incident is on gpu-a10g, not gpu-l4
        inbox.wait_for(lambda got: len(got) >= 2)
        settle(base, inbox)
        burst = sorted((path, count) for path, count, key in inbox.notifications if "Sentinel" not in key)
        assert burst == [(PLATFORM, 1), ("project-team-a", 1)]
        team_a = next(key for path, _, key in inbox.notifications if path == "project-team-a")
        assert "SloErrorBudgetBurnFast" in team_a and "ModelDriftHigh" not in team_a


# --- any accepted receiver config renders a config amtool accepts -------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EMAIL = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(io|org)", fullmatch=True)
RECEIVER = st.fixed_dictionaries({}, optional={
    "emails": st.lists(EMAIL, max_size=3), "sns": st.booleans(),
    "webhookUrl": st.from_regex(r"https://[a-z]{1,10}\.example\.org/[a-z]{0,8}", fullmatch=True)})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receivers=st.dictionaries(st.sampled_from(["team-a", "team-b", "team-c"]), RECEIVER, max_size=3),
       platform=RECEIVER, prod=st.booleans())
def test_any_accepted_receiver_config_passes_amtool(tmp_path, receivers, platform, prod):
    obs = ObservabilityConfig.model_validate({
        "enabled": True, "receivers": receivers, "platformReceiver": platform,
        "smtp": {"smarthost": "smtp.example.org:587", "sender": "am@example.org"}})
    am = alertmanager_config(obs, is_prod=prod, projects=["team-a", "team-b", "team-c"], sns_topic_arn=TOPIC,
                             region="us-east-1")
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(am))
    done = subprocess.run([tool("amtool"), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    routed = {r["matchers"][0] for r in am["route"]["routes"] if r["receiver"].startswith("project-")}
    assert routed == {f'project="{p}"' for p, spec in receivers.items() if spec.get("emails") or spec.get("sns")
                      or spec.get("webhookUrl")}
