"""SIGTERM (a cancelled CI job) and SIGINT (Ctrl-C) stop the policy pack's whole process group and
exit 128+N, through the real command line."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import pytest

from tests.support import PROJECT, ROOT

FAKE_PACK = """#!/bin/sh
# Stands in for the pack's interpreter: starts a child, reports both pids, never serves.
sleep 600 &
echo "$$ $!" > "$PREFLIGHT_TEST_FIFO"
wait
"""


def gone(pid: int, within: float = 10.0) -> bool:
    """The process exits within ``within`` seconds (a zombie counts): SIGKILL is delivered
    asynchronously, so wait on a pidfd for the event rather than look once."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], within)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_pack_group_and_exits_128_plus_n(tmp_path, sig):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PACK)
    python.chmod(0o755)
    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    env = {**os.environ, "PREFLIGHT_POLICY_PYTHON": str(python), "PREFLIGHT_TEST_FIFO": str(fifo), "PYTHONPATH": ""}
    proc = subprocess.Popen([sys.executable, "-m", "preflight", "preview", "--stack", "kind", "--project-dir", str(PROJECT),
                             "--policy-pack", str(pack)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with open(fifo) as reader:  # blocks until the fake pack is up: no sleeping, no polling
            pack_pid, child_pid = map(int, reader.read().split())
        assert os.getpgid(pack_pid) == pack_pid  # the pack leads its own process group
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig
    assert err.strip().splitlines()[-1] == f"preflight: stopped by {signal.Signals(sig).name}"
    assert "Traceback" not in err
    assert gone(pack_pid) and gone(child_pid)
