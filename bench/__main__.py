"""``python -m bench``: speed and memory of the program, policy pack and estimator at N = 10, 50, 200, 800.

Every figure comes from one run on this machine; the targets are ratios between figures of that
same run, so they hold on a slower or faster machine alike. The ratios are of CPU time (the program's
and the floor's ``time.process_time``, the policy pack's own process from /proc), so a busy machine
does not flip them; only the prod preview's target is of wall time, a user's wait: its median over
three runs against the median of three runs of its SDK floor, interleaved with them
(``bench/preview_floor.py``: a fresh interpreter importing only the Pulumi SDK modules the prod
program loads and registering its resources bare, below which no preview of this program can go). The absolute wall time, the CPU
time of the preview and its pack and the machine's load average are reported beside it.
Results go to ``bench/results.json``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.preview_floor import prepare, preview_floor
from preflight.safe_io import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 50, 200, 800)
PREFLIGHT_RUNS = 3
PREVIEW_OVER_FLOOR = 1.3
"""The prod preview's wall time over its SDK floor's (``bench/preview_floor.py``), medians of three
interleaved runs: what preflight, the program's own logic and the policy pack may add to what the
SDK costs for the same resources (the same bound as program/floor)."""


def point(n: int) -> dict:
    result = subprocess.run([sys.executable, "-m", "bench.measure", str(n)], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bench N={n} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def preflight_wall() -> tuple[float, float]:
    """One ``preflight preview --stack prod`` as a user runs it: its wall time, and the CPU time of it and
    its policy pack together (what a busy machine does not change)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "preflight", "preview", "--stack", "prod"], cwd=ROOT,
                            capture_output=True, text=True, check=False, env={**os.environ})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"preflight preview --stack prod exited {result.returncode}:\n{result.stderr[-3000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> int:
    preflight_wall()  # first run creates the policy pack's virtualenv if missing; not timed
    # Timed before the points: right after the N=800 point (a minute-long, 1 GB process) the first
    # previews ran 0.4-0.6 s slower than the third, whatever the code.
    workdir = tempfile.TemporaryDirectory()
    modules, recorded = prepare(Path(workdir.name))
    load = os.getloadavg()[0]  # other work on the machine: the wall times below are only as quiet as this
    # Interleaved, so a preview and its floor see the same machine.
    prod_runs, floor_runs = [], []
    for _ in range(PREFLIGHT_RUNS):
        prod_runs.append(preflight_wall())
        floor_runs.append(preview_floor(modules, recorded))
    workdir.cleanup()
    prod_walls = [wall for wall, _ in prod_runs]
    floor_walls = [wall for wall, _ in floor_runs]
    points = [point(n) for n in SIZES]
    by_n = {p["n"]: p for p in points}
    prod_wall = statistics.median(prod_walls)
    floor_wall = statistics.median(floor_walls)
    big, mid, huge = by_n[200], by_n[50], by_n[800]
    per_resource_ms = {p["n"]: 1000 * p["policy_cpu_s"] / p["resources"] for p in points}
    results = {
        "n": [p["n"] for p in points],
        "resources": [p["resources"] for p in points],
        "program_s": [round(p["program_s"], 4) for p in points],
        "program_cpu_s": [round(p["program_cpu_s"], 4) for p in points],
        "floor_s": [round(p["floor_s"], 4) for p in points],
        "floor_cpu_s": [round(p["floor_cpu_s"], 4) for p in points],
        "floor_raw_s": [round(p["floor_raw_s"], 4) for p in points],
        "policy_s": [round(p["policy_s"], 4) for p in points],
        "policy_cpu_s": [round(p["policy_cpu_s"], 4) for p in points],
        "policy_cpu_ms_per_resource": [round(per_resource_ms[p["n"]], 4) for p in points],
        "policy_start_s": [round(p["policy_start_s"], 4) for p in points],
        "estimate_s": [round(p["estimate_s"], 5) for p in points],
        "rss_mb": [round(p["rss_mb"], 1) for p in points],
        "ratios": {
            "program_over_floor": round(big["program_cpu_s"] / big["floor_cpu_s"], 3),
            "program_over_floor_raw": round(big["program_s"] / big["floor_raw_s"], 3),
            "policy_over_program": round(big["policy_s"] / big["program_s"], 3),
            "policy_cpu_over_program_cpu": round(big["policy_cpu_s"] / big["program_cpu_s"], 3),
            "policy_cpu_800_over_200": round(huge["policy_cpu_s"] / big["policy_cpu_s"], 3),
            "resources_800_over_200": round(huge["resources"] / big["resources"], 3),
            "estimate_over_program": round(big["estimate_s"] / big["program_s"], 4),
            "scaling_200_over_50": {
                "program": round(big["program_cpu_s"] / mid["program_cpu_s"], 3),
                "policy": round(big["policy_cpu_s"] / mid["policy_cpu_s"], 3),
                "estimate": round(big["estimate_s"] / mid["estimate_s"], 3),
            },
        },
        "preflight_prod_wall_s": round(prod_wall, 3),
        "preflight_prod_walls_s": [round(w, 3) for w in prod_walls],
        "preflight_prod_min_wall_s": round(min(prod_walls), 3),
        "preflight_prod_cpu_s": [round(c, 3) for _, c in prod_runs],
        "preview_floor_sdk_modules": len(modules),
        "preview_floor_walls_s": [round(w, 3) for w in floor_walls],
        "preview_floor_cpu_s": [round(c, 3) for _, c in floor_runs],
        "preflight_prod_over_preview_floor": round(prod_wall / floor_wall, 3),
        "load_average_1m": round(load, 2),
    }
    atomic_write_text(ROOT / "bench" / "results.json", json.dumps(results, indent=2) + "\n")

    print(f"{'N':>5} {'resources':>9} {'program s':>10} {'prog CPU s':>10} {'floor s':>8} {'flr CPU s':>9} {'raw floor s':>12} "
          f"{'policy s':>9} {'pol CPU s':>9} {'pol CPU ms/res':>14} {'estimate s':>11} {'RSS MB':>7}")
    for p in points:
        print(f"{p['n']:>5} {p['resources']:>9} {p['program_s']:>10.3f} {p['program_cpu_s']:>10.3f} {p['floor_s']:>8.3f} "
              f"{p['floor_cpu_s']:>9.3f} "
              f"{p['floor_raw_s']:>12.3f} {p['policy_s']:>9.3f} {p['policy_cpu_s']:>9.3f} "
              f"{per_resource_ms[p['n']]:>14.3f} {p['estimate_s']:>11.4f} {p['rss_mb']:>7.1f}")
    ratios = results["ratios"]
    checks = [
        ("program/floor CPU at N=200", ratios["program_over_floor"], 1.3),
        ("policy/program CPU at N=200", ratios["policy_cpu_over_program_cpu"], 0.5),
        ("program CPU t(200)/t(50)", ratios["scaling_200_over_50"]["program"], 4.6),
        ("policy CPU t(800)/t(200)", ratios["policy_cpu_800_over_200"], 4.4),
        ("estimate t(200)/t(50)", ratios["scaling_200_over_50"]["estimate"], 4.6),
        ("preview --stack prod / its SDK floor, wall", results["preflight_prod_over_preview_floor"],
         PREVIEW_OVER_FLOOR),
        ("peak RSS MB at N=200", big["rss_mb"], 600.0),
    ]
    print()
    failed = 0
    for name, value, limit in checks:
        ok = value <= limit
        failed += not ok
        print(f"  {'ok  ' if ok else 'MISS'} {name:<44} {value:>8.3f}  (target <= {limit})")
    print(f"  info preflight --stack prod walls s {', '.join(f'{w:.2f}' for w in prod_walls)}; CPU s (with its pack) "
          f"{', '.join(f'{c:.2f}' for _, c in prod_runs)}; 1-min load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"  info prod preview SDK floor ({len(modules)} modules) walls s {', '.join(f'{w:.2f}' for w in floor_walls)}; "
          f"CPU s {', '.join(f'{c:.2f}' for _, c in floor_runs)}")
    print(f"  info preflight --stack prod median wall s      {prod_wall:>8.3f}  (2.5 s where the floor is "
          f"{2.5 / PREVIEW_OVER_FLOOR:.2f} s or less)")
    print(f"  info resources N=800 / N=200                   {ratios['resources_800_over_200']:>8.3f}")
    print(f"  info peak RSS MB at N=800                      {huge['rss_mb']:>8.3f}")
    print(f"  info program/raw floor at N=200                {ratios['program_over_floor_raw']:>8.3f}  "
          "(raw CustomResource floor: no aliases, typed classes or stack traces; see bench/floor.py)")
    print(f"\nwrote {ROOT / 'bench' / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
