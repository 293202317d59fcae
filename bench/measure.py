"""One benchmark point, measured in its own process so its peak RSS is its own.

``python -m bench.measure N`` prints one JSON object:
``{"n", "resources", "program_s", "program_cpu_s", "floor_s", "floor_cpu_s", "floor_raw_s", "policy_s",
"policy_cpu_s", "policy_start_s", "estimate_s", "rss_mb"}``.

- program: the real ``__main__.py`` on a synthetic stack of N services, under preflight's engine,
  timed on a second run (the first pays for imports, as a long-lived tool would only once);
- floor: the same resources registered bare through the SDK's class for each type (``bench.floor``),
  under the same mocks, checked to send the program's requests; ``floor_raw_s``: the same, as raw
  ``pulumi.CustomResource`` objects (no aliases, typed inputs/outputs or stack traces), for comparison;
- each timed phase starts after a ``gc.collect()`` of the previous one's garbage (not timed);
- policy: ``Analyze`` for every resource plus ``AnalyzeStack`` through the Analyzer gRPC path, the
  fastest of ``POLICY_RUNS`` runs on one pack process (the pack's start-up is reported apart as
  ``policy_start_s``); ``policy_cpu_s`` is the CPU time the
  pack process itself spent on them (user + system, from /proc), so a busy machine does not skew it;
  ``program_cpu_s`` and ``floor_cpu_s`` are the program's and the floor's CPU time
  (``time.process_time``, every thread): program/floor is their ratio;
- estimate: the shared estimator on the recorded resources (CPU time: milliseconds, which wall time
  on a shared machine scatters);
- rss: peak RSS of this process and of the policy pack process, whichever is larger.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ai_platform_finops.estimator import estimate

from bench.floor import register_bare, same_requests
from bench.synthetic import synthetic_policy_config, synthetic_source
from components.config import validate_flat_config
from preflight.analyzer import PolicyAnalyzer
from preflight.cost import estimator_resources
from preflight.engine import run_program

ROOT = Path(__file__).resolve().parent.parent


POLICY_RUNS = 3
"""The policy phase runs this many times on the same pack process and the fastest counts: on a shared
machine other work only ever adds CPU time (cache and memory contention), and in single runs minutes
apart the same N=200 phase took 7.4 s and 11.1 s of CPU."""


def _same_or_exit(name: str, program: Any, floor: Any) -> None:
    if problems := same_requests(program, floor):
        raise SystemExit(f"the {name} did not send the program's requests: {problems[:5]}")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, every thread included (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(n: int) -> dict[str, float | int]:
    source = synthetic_source(ROOT, n)
    cfg = validate_flat_config(source.config, source.project, source.source)

    run_program(ROOT, source)  # warm-up: module imports and first-use caches
    gc.collect()  # each timed phase starts with the previous phase's garbage collected (not timed)
    started, cpu_started = time.perf_counter(), time.process_time()
    recording = run_program(ROOT, source)
    program_s, program_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started

    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    floor = run_program(ROOT, source, program=lambda: register_bare(recording.resources))
    floor_s, floor_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    _same_or_exit("floor", recording, floor)
    del floor  # each floor's recording is checked and dropped, so the peak RSS is the program's, not the bench's

    gc.collect()
    started = time.perf_counter()
    floor_raw = run_program(ROOT, source, program=lambda: register_bare(recording.resources, typed=False))
    floor_raw_s = time.perf_counter() - started
    _same_or_exit("raw floor", recording, floor_raw)
    del floor_raw

    resources = estimator_resources(recording)
    gc.collect()
    started = time.process_time()
    estimate(resources, region=cfg.region or "us-east-1", project_tag_key=cfg.tags.key("project"),
             default_project=cfg.finops.project, spot_fraction=cfg.finops.spot_price_fraction)
    estimate_s = time.process_time() - started

    pack = ROOT / "policypacks" / "ai-governance"
    policy_config = synthetic_policy_config(pack, Path(tempfile.mkdtemp()) / "bench.json", source)
    gc.collect()
    started = time.perf_counter()
    with PolicyAnalyzer(pack, project=source.project, stack="prod", config_file=policy_config,
                        stack_config=source.config, secret_keys=source.secret_keys) as analyzer:
        policy_start_s = time.perf_counter() - started
        assert analyzer.pid is not None
        timings: list[tuple[float, float]] = []
        runs = []
        for _ in range(POLICY_RUNS):
            started, cpu_started = time.perf_counter(), process_cpu_s(analyzer.pid)
            runs.append(analyzer.run(recording.resources))
            timings.append((process_cpu_s(analyzer.pid) - cpu_started, time.perf_counter() - started))
        run = runs[-1]
        policy_cpu_s, policy_s = min(timings)
    if run.mandatory:
        raise SystemExit(f"synthetic stack N={n} has mandatory violations: {[v.as_json() for v in run.mandatory][:3]}")

    rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {
        "n": n,
        "resources": len(recording.resources),
        "program_s": program_s,
        "program_cpu_s": program_cpu_s,
        "floor_s": floor_s,
        "floor_cpu_s": floor_cpu_s,
        "floor_raw_s": floor_raw_s,
        "policy_s": policy_s,
        "policy_cpu_s": policy_cpu_s,
        "policy_start_s": policy_start_s,
        "estimate_s": estimate_s,
        "rss_mb": rss_kb / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
