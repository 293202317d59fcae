"""bench's CPU clock for another process: /proc's user + system ticks of a running process."""

from __future__ import annotations

import os
import time

from bench.measure import process_cpu_s


def test_process_cpu_agrees_with_the_process_own_clock():
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn CPU so both clocks move well past /proc's tick
        pass
    before_own, before_proc = time.process_time(), process_cpu_s(os.getpid())
    assert abs(before_proc - before_own) < 0.1  # both count every thread; /proc rounds to ticks
    deadline = before_own + 0.3
    while time.process_time() < deadline:
        pass
    assert process_cpu_s(os.getpid()) - before_proc > 0.2
