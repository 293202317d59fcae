"""One area's mutation session with cosmic-ray, through its CLI and its session database (WorkDB).

Kept apart from qa.mutants and the qa.mutation CLI because it needs cosmic-ray (requirements-mutation.txt), which the test
environment does not install; the scheduled mutation workflow runs it, and .coveragerc leaves it out.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from cosmic_ray.work_db import WorkDB, use_db  # pyright: ignore[reportMissingImports]
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult  # pyright: ignore[reportMissingImports]

from preflight.safe_io import atomic_write_text
from qa.mutants import Area, Mutant, Tally, classify, copy_repository, load_equivalents, tally, test_command


def _cosmic_ray(workdir: Path, env: Mapping[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "cosmic_ray.cli", *args], cwd=workdir, env=dict(env), check=True)


def run(area: Area, *, sample: int | None, seed: int, workdir: Path, shard: tuple[int, int] | None = None,
        log: IO[str] = sys.stderr) -> tuple[Tally, list[Mutant]]:
    copy_repository(workdir)
    env = dict(os.environ)
    # The copy's finops first: the editable install points at the checkout, and the pack's own
    # process inherits this environment.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(workdir / "finops"), env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size within a second must never reuse a .pyc
    command = test_command(area)
    started = time.monotonic()
    baseline = subprocess.run(shlex.split(command), cwd=workdir, env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    if baseline.returncode != 0:
        raise SystemExit(f"qa.mutation: the area's tests fail without any mutant:\n{baseline.stdout[-3000:]}")
    timeout = max(60.0, 4 * took)
    atomic_write_text(workdir / "cosmic-ray.toml", (
        f"[cosmic-ray]\nmodule-path = {json.dumps(list(area.modules))}\ntimeout = {timeout:.0f}\n"
        f"excluded-modules = []\ntest-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'))
    session = str(workdir / "session.sqlite")
    _cosmic_ray(workdir, env, "init", "cosmic-ray.toml", "session.sqlite")

    mutants: list[Mutant] = []
    with use_db(session, WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            spec = item.mutations[0]
            line, column = spec.start_pos
            mutants.append(Mutant(item.job_id, Path(spec.module_path).as_posix(), line, column, spec.operator_name,
                                  "", occurrence=spec.occurrence))
    sources = {module: (workdir / module).read_text(encoding="utf-8") for module in area.modules}
    for m in mutants:
        lines = sources[m.module].splitlines()
        m.source = lines[m.line - 1].strip() if 0 < m.line <= len(lines) else ""
    classify(area, mutants, sources, load_equivalents(), sample, seed, shard)
    with use_db(session, WorkDB.Mode.open) as db:
        for m in mutants:
            if m.outcome:
                db.set_result(m.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=m.outcome))
    todo = sum(1 for m in mutants if not m.outcome)
    print(f"qa.mutation {area.name}: {len(mutants)} mutants, {todo} to run "
          f"({took:.1f} s of tests each, timeout {timeout:.0f} s)", file=log, flush=True)

    _cosmic_ray(workdir, env, "exec", "cosmic-ray.toml", "session.sqlite")
    by_id = {m.job_id: m for m in mutants}
    with use_db(session, WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            mutant = by_id.get(item.job_id)
            if mutant is None or mutant.outcome:
                continue
            if result.worker_outcome == WorkerOutcome.NO_TEST:
                mutant.outcome = "no-test"
            elif result.test_outcome == TestOutcome.SURVIVED:
                mutant.outcome = "survived"
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                mutant.outcome = "incompetent"
            else:
                mutant.outcome = "killed"  # a failing test or a timeout
            mutant.diff = result.diff or ""
    return tally(mutants), mutants
