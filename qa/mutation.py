"""Mutation testing per area with cosmic-ray: does the suite fail when the code is wrong?

    python -m qa.mutation list                      # the areas (qa/mutation.toml)
    python -m qa.mutation run estimator             # a seeded sample of the area's mutants
    python -m qa.mutation run estimator --all       # every mutant (slow: the scheduled workflow)
    python -m qa.mutation run pack-rules --sample 20 --seed 7
    python -m qa.mutation run pack-rules --all --shard 2/4   # a quarter of them, for parallel jobs

Each run works in a scratch copy of the repository (``mutation-runs/<area>/``, never the checkout
itself), because cosmic-ray mutates files on disk: that is also why it was chosen over mutmut, whose
mutants are switched on inside the test process and so never reach the policy pack, which preflight
runs in its own process. The session itself is driven by ``qa.cosmic``. Every mutant gets the area's tests only (``-x``: the first failure kills
it). Mutants judged equivalent (``qa/equivalent-mutants.toml``, each with its reason) are left out
before sampling. The run prints the kill rate, killed / (killed + survived), and every survivor with
its diff, writes ``mutation-runs/<area>/report.json``, and exits 1 below the area's target.
"""


from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from preflight.safe_io import atomic_write_text
from qa.mutants import RUNS_DIR, Area, Mutant, Tally, load_areas

def report(area: Area, result: Tally, mutants: Sequence[Mutant], *, sample: int | None, seed: int) -> str:
    mode = f"sample of {sample} (seed {seed})" if sample is not None else "every mutant"
    lines = [f"{area.name}: kill rate {result.rate:.1%} ({result.killed} killed / {result.killed + result.survived}; "
             f"{mode}; target {area.target:.0%}); {result.equivalent} equivalent left out"
             + "".join(f"; {count} {what}" for what, count in sorted(result.other.items()))]
    for m in mutants:
        if m.outcome == "survived":
            lines.append(f"  survived: {m.module}:{m.line}:{m.column} {m.operator}: {m.source}")
            lines += [f"    {d}" for d in m.diff.splitlines() if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    return "\n".join(lines)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        number, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, e.g. 2/4") from None
    if not 1 <= number <= count:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return number, count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.mutation", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the areas and their tests")
    go = sub.add_parser("run", help="mutate one area and run its tests against each mutant")
    go.add_argument("area")
    go.add_argument("--sample", type=int, help="mutants to draw (default: the area's sample)")
    go.add_argument("--all", action="store_true", help="every mutant of the area")
    go.add_argument("--seed", type=int, default=1)
    go.add_argument("--shard", type=parse_shard, help="K/N: only the K-th of N equal parts (for parallel jobs)")
    go.add_argument("--workdir", type=Path, help="scratch copy (default mutation-runs/<area>)")
    args = parser.parse_args(argv)
    areas = load_areas()
    if args.command == "list":
        for area in areas.values():
            print(f"{area.name}: {', '.join(area.modules)} (sample {area.sample}, target {area.target:.0%})")
        return 0
    area = areas.get(args.area)
    if area is None:
        print(f"qa.mutation: unknown area {args.area!r}; one of {', '.join(areas)}", file=sys.stderr)
        return 2
    sample = None if args.all else (args.sample if args.sample is not None else area.sample)
    workdir = (args.workdir or RUNS_DIR / area.name).resolve()
    from qa.cosmic import run

    result, mutants = run(area, sample=sample, seed=args.seed, workdir=workdir, shard=args.shard)
    text = report(area, result, mutants, sample=sample, seed=args.seed)
    print(text)
    atomic_write_text(workdir / "report.json", json.dumps({
        "area": area.name, "sample": sample, "seed": args.seed, "target": area.target, "kill_rate": result.rate,
        "killed": result.killed, "survived": result.survived, "equivalent": result.equivalent, "other": result.other,
        "tests": list(area.tests),
        "mutants": [m.__dict__ for m in mutants if m.outcome not in ("unsampled", "out-of-scope")],
    }, indent=1))
    return 0 if result.rate >= area.target else 1


if __name__ == "__main__":
    sys.exit(main())
