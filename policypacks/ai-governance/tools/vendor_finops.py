"""Refresh the pack's vendored copy of the shared FinOps package (vendor/ai_platform_finops).

``pulumi policy publish`` uploads only the pack directory, so the pack carries its own copy of
``finops/ai_platform_finops``; a test fails whenever the copy differs from the source. Run it from
the repository root with the project's virtualenv after changing the FinOps package:

    .venv/bin/python policypacks/ai-governance/tools/vendor_finops.py
"""

from __future__ import annotations

import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent
ROOT = PACK_DIR.parent.parent
SOURCE = ROOT / "finops" / "ai_platform_finops"
VENDORED = PACK_DIR / "vendor" / "ai_platform_finops"


def package_files(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every file of the package (caches left out)."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


def sync() -> list[str]:
    """Make the vendored copy equal to the source; the relative paths that changed."""
    sys.path.insert(0, str(ROOT))
    from preflight.safe_io import atomic_write_bytes

    source, vendored = package_files(SOURCE), package_files(VENDORED) if VENDORED.is_dir() else {}
    changed = []
    for name, data in source.items():
        if vendored.get(name) != data:
            target = VENDORED / name
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, data)
            changed.append(name)
    for name in sorted(set(vendored) - set(source)):
        (VENDORED / name).unlink()
        changed.append(name)
    return changed


if __name__ == "__main__":
    changed = sync()
    print(f"vendor/ai_platform_finops: {len(changed)} file(s) updated" + "".join(f"\n  {n}" for n in changed))
