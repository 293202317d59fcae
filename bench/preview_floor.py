"""The prod preview's SDK floor: a fresh interpreter that imports the Pulumi SDK modules the prod
program loads and registers the prod program's resources through them, bare (``bench.floor``), under
the same mocks, and does nothing else: no config validation, components, policy pack, pricing or
report.

A preview of this program cannot start faster than that. For the prod stack the floor is most of the
preview: a generated package's ``__init__`` imports every module of the package (``pulumi_aws.ec2`` is
hundreds of classes), each generated class evaluates its type annotations when it is defined, and the
SDK reads each resource class's output types again at its first registration. So the preview's wall
time is judged against this floor measured in the same run, not against a fixed number of seconds
that a slower or busier machine would miss whatever the code does.

``python -m bench.preview_floor`` records the prod program, then prints the floor's wall and CPU time.
"""

from __future__ import annotations

import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_kubernetes")
STACK = "prod"


def sdk_modules_loaded(modules: Mapping[str, object]) -> list[str]:
    """The SDK modules among ``modules`` (``sys.modules``), sorted so parents come first."""
    return sorted(name for name, module in modules.items()
                  if module is not None and name.split(".", 1)[0] in SDK_PACKAGES)


def _record(path: Path) -> None:
    """Run the prod program under preflight's engine in this process; pickle its resources to ``path``
    and print the SDK modules it loaded."""
    from preflight.engine import run_program
    from preflight.stackfile import read_stack_config

    recording = run_program(ROOT, read_stack_config(ROOT, STACK))
    path.write_bytes(pickle.dumps(recording.resources))
    print(json.dumps(sdk_modules_loaded(dict(sys.modules))))


def _floor(path: Path, modules: list[str]) -> None:
    """The floor itself, in a fresh interpreter: the imports, then the bare registrations; it fails if
    the floor did not send the program's requests."""
    import gc
    import importlib

    gc.disable()  # as preflight runs (preflight/__main__.py): the lowest the same work goes
    for name in modules:
        importlib.import_module(name)
    from bench.floor import register_bare, same_requests
    from preflight.engine import Recording, run_program
    from preflight.stackfile import read_stack_config

    resources = pickle.loads(path.read_bytes())
    floor = run_program(ROOT, read_stack_config(ROOT, STACK), program=lambda: register_bare(resources))
    if problems := same_requests(Recording(floor.project, floor.stack, resources), floor):
        raise SystemExit(f"the preview floor did not send the program's requests: {problems[:5]}")


def prepare(workdir: Path) -> tuple[list[str], Path]:
    """Record the prod program in a child process: the SDK modules it loaded, and its resources' file."""
    path = workdir / "prod-resources.pickle"
    result = subprocess.run([sys.executable, "-m", "bench.preview_floor", "--record", str(path)], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bench.preview_floor --record exited {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1]), path


def preview_floor(modules: list[str], path: Path) -> tuple[float, float]:
    """One run of the floor in a fresh interpreter: its wall time, and its CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "bench.preview_floor", "--floor", str(path), *modules],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"bench.preview_floor --floor exited {result.returncode}:\n{result.stderr[-3000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--record"] and len(argv) == 2:
        _record(Path(argv[1]))
        return 0
    if argv[:1] == ["--floor"] and len(argv) >= 2:
        _floor(Path(argv[1]), argv[2:])
        return 0
    with tempfile.TemporaryDirectory() as workdir:
        modules, path = prepare(Path(workdir))
        wall, cpu = preview_floor(modules, path)
    print(f"prod preview floor ({len(modules)} SDK modules): {wall:.3f} s wall, {cpu:.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
