"""A real Prometheus on localhost holding the synthetic history, and a project holding the test stack."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.preflight.advise import synthetic
from tests.support import own_project

DATA = Path(__file__).parent / "data"
READY_DEADLINE_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory) -> Iterator[str]:
    """``prometheus`` (Debian package) started on the backfilled TSDB; stopped at the end of the session."""
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.fail("the Debian package 'prometheus' is not installed (.ci/run installs it: apt-get install -y prometheus)")
    base = tmp_path_factory.mktemp("prometheus")
    source, data = base / "history.om", base / "data"
    with open(source, "w", encoding="utf-8") as out:
        out.writelines(synthetic.openmetrics())
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h",
                    str(source), str(data)],
                   check=True, capture_output=True, timeout=600)
    config = base / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    port = _free_port()
    log = open(base / "prometheus.log", "wb")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited {process.returncode}: {(base / 'prometheus.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus not ready within {READY_DEADLINE_SECONDS:g} s")
            time.sleep(0.1)  # a readiness poll, bounded by the deadline above
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project holding copies of the fixture stacks and their pack config (everything else linked), with
    the test stack."""
    project = own_project(tmp_path)
    (project / "stacks" / "Pulumi.advise.yaml").write_text((DATA / "Pulumi.advise.yaml").read_text())
    return project


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
