"""``python -m bench.same_output save|check DIR``: does a change leave every shipped stack's preview as it was?

``save`` runs ``python -m preflight preview --stack S --json --markdown`` for every
``stacks/Pulumi.<S>.yaml`` and keeps the JSON report, the Markdown comment and the human view in DIR
(keep DIR outside the repository); ``check`` runs them again and compares. Exit 1 on a difference.

Every part must be byte-identical: preflight records resources in URN order, so two runs of the same
code give the same bytes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("json", "md", "txt")


def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def preview(stack: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "preflight", "preview", "--stack", stack,
         "--json", str(out / f"{stack}.json"), "--markdown", str(out / f"{stack}.md")],
        cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):  # 1: mandatory violations, still a report
        raise SystemExit(f"preview --stack {stack} exited {result.returncode}:\n{result.stderr[-2000:]}")
    (out / f"{stack}.txt").write_text(result.stdout, encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print("usage: python -m bench.same_output save|check DIR", file=sys.stderr)
        return 2
    command, saved = argv[0], Path(argv[1])
    if command == "save":
        for stack in stacks():
            preview(stack, saved)
        print(f"saved {', '.join(stacks())} to {saved}")
        return 0
    fresh = saved / "check"
    differ = []
    for stack in stacks():
        preview(stack, fresh)
        for part in PARTS:
            if (saved / f"{stack}.{part}").read_bytes() != (fresh / f"{stack}.{part}").read_bytes():
                differ.append(f"{stack}.{part}")
    print(f"differ: {', '.join(differ)}" if differ else f"same: {', '.join(stacks())} (json, md, txt)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
