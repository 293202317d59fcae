"""Refresh the pack's vendored copy of the shared FinOps distribution (vendor/: pyproject.toml and
ai_platform_finops/).

``pulumi policy publish`` uploads only the pack directory, so the pack carries its own copy of
``finops/``, installed into the pack's virtualenv by its requirements.txt (``./vendor``); reinstall it there after a refresh; a test
fails whenever the copy differs from the source. Run it after changing the FinOps package:

    .venv/bin/python policypacks/ai-governance/tools/vendor_finops.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
ROOT = PACK_DIR.parent.parent
SOURCE = ROOT / "finops"
VENDORED = PACK_DIR / "vendor"
BUILD_OUTPUT = ("__pycache__", "build", "dist")
"""Directories pip and setuptools write beside the sources (with ``*.egg-info``): never copied."""


def package_files(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every source file of the distribution (build output left out)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and path.suffix != ".pyc"
            and not any(part in BUILD_OUTPUT or part.endswith(".egg-info") for part in path.relative_to(root).parts)}


def _copy(source: Path, target: Path) -> None:
    """Atomically, with the source's mode: a running pack sees the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
        os.chmod(temp, source.stat().st_mode & 0o777)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def sync() -> list[str]:
    """Make the vendored copy equal to the source; the relative paths that changed."""
    source, vendored = package_files(SOURCE), package_files(VENDORED) if VENDORED.is_dir() else {}
    changed = []
    for name, data in source.items():
        if vendored.get(name) != data:
            _copy(SOURCE / name, VENDORED / name)
            changed.append(name)
    for name in sorted(set(vendored) - set(source)):
        (VENDORED / name).unlink()
        changed.append(name)
    return changed


if __name__ == "__main__":
    changed = sync()
    print(f"vendor/: {len(changed)} file(s) updated" + "".join(f"\n  {n}" for n in changed))
