"""``python -m bench.profile N [program|floor|raw-floor] [--html PATH]``: where one phase spends its time.

Runs the phase of ``python -m bench.measure N`` once to warm up, then profiles a second run with
pyinstrument and prints its call tree (``--html`` also writes the interactive page). Time spent in
the cyclic garbage collector is reported apart, from ``gc.callbacks``: a sampling profiler charges
it to whatever frame happened to allocate when a collection started.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any, Callable

from pyinstrument import Profiler

from bench.floor import register_bare
from bench.synthetic import synthetic_source
from preflight.engine import run_program

ROOT = Path(__file__).resolve().parent.parent


class GcTimer:
    """Collections per generation and the time they took, while installed."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.counts[info["generation"]] += 1
            self.seconds[info["generation"]] += time.perf_counter() - self._started

    def __str__(self) -> str:
        return ", ".join(f"gen{g}: {n} collections {s:.2f}s" for g, (n, s) in enumerate(zip(self.counts, self.seconds)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description="Where one bench phase spends its time.")
    parser.add_argument("n", type=int, help="inference services in the synthetic stack (bench uses 10, 50, 200, 800)")
    parser.add_argument("phase", nargs="?", choices=("program", "floor", "raw-floor"), default="program")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML page here")
    parser.add_argument("--interval", type=float, default=0.001, help="sampling interval in seconds")
    args = parser.parse_args(argv)

    source = synthetic_source(ROOT, args.n)
    recording = run_program(ROOT, source)
    run: Callable[[], object] = lambda: run_program(ROOT, source)  # noqa: E731
    if args.phase != "program":
        typed = args.phase == "floor"
        run = lambda: run_program(ROOT, source, program=lambda: register_bare(recording.resources, typed=typed))  # noqa: E731
        run()  # the floor's own warm-up
    gc.collect()

    timer = GcTimer()
    profiler = Profiler(interval=args.interval, async_mode="disabled")
    gc.callbacks.append(timer)
    started = time.perf_counter()
    profiler.start()
    try:
        run()
    finally:
        profiler.stop()
        gc.callbacks.remove(timer)
    elapsed = time.perf_counter() - started

    print(profiler.output_text(unicode=True, color=sys.stdout.isatty()))
    print(f"{args.phase} N={args.n} ({len(recording.resources)} resources): {elapsed:.2f}s under the profiler; "
          f"garbage collection {sum(timer.seconds):.2f}s ({timer})")
    if args.html is not None:
        args.html.write_text(profiler.output_html())
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
