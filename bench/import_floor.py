"""The prod preview's import floor: a fresh interpreter importing only the Pulumi SDK modules that
the prod program loads, and nothing of ai-platform.

A preview cannot start faster than its program can import the SDK classes it registers, and for
the prod stack that import is most of the preview: a generated package's ``__init__`` imports every
module of the package (``pulumi_aws.ec2`` is hundreds of classes), and each generated class
evaluates its type annotations when it is defined. So the preview's wall time is judged against
this floor measured in the same run, not against a fixed number of seconds that a slower or busier
machine would miss whatever the code does.

``python -m bench.import_floor`` prints the modules, one per line, then the floor's wall and CPU time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
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


def _list_modules() -> None:
    """Run the prod program under preflight's engine in this process and print the SDK modules it loaded."""
    from preflight.engine import run_program
    from preflight.stackfile import read_stack_config

    run_program(ROOT, read_stack_config(ROOT, STACK))
    print(json.dumps(sdk_modules_loaded(dict(sys.modules))))


def prod_sdk_modules() -> list[str]:
    """The SDK modules the prod program loads, listed by a child process that runs it."""
    result = subprocess.run([sys.executable, "-m", "bench.import_floor", "--list"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"bench.import_floor --list exited {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_floor(modules: list[str]) -> tuple[float, float]:
    """A fresh interpreter (this one's, with its site-packages) importing ``modules``: its wall time,
    and its CPU time."""
    # With the collector off, as preflight imports (preflight/__main__.py): the lowest the imports go.
    code = "import gc\ngc.disable()\nimport importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *modules], cwd=ROOT, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        _list_modules()
        return 0
    modules = prod_sdk_modules()
    print("\n".join(modules))
    wall, cpu = import_floor(modules)
    print(f"{len(modules)} modules: {wall:.3f} s wall, {cpu:.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
