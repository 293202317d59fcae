"""Regenerate ai_governance/data/aws-taggable-types.txt from the installed pulumi-aws SDK.

A resource type is taggable when its SDK class takes a ``tags`` input. Run it with the project's
virtualenv (which has pulumi-aws) after upgrading pulumi-aws:

    .venv/bin/python policypacks/ai-governance/tools/gen_taggable_types.py
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ai_governance" / "data" / "aws-taggable-types.txt"
_TYPE = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")
_TAGS = re.compile(r"__props__\.__dict__\[\"tags\"\] = tags\b")


def taggable_types() -> tuple[str, list[str]]:
    import importlib.metadata

    import pulumi_aws

    root = Path(pulumi_aws.__file__).parent
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if path.name.startswith(("_", "get_")):
            continue
        source = path.read_text(encoding="utf-8")
        match = _TYPE.search(source)
        if match and _TAGS.search(source):
            found.add(match.group(1))
    return importlib.metadata.version("pulumi-aws"), sorted(found)


def render(version: str, types: list[str], date: str) -> str:
    header = [
        f"# pulumi-aws: {version}",
        f"# date: {date}",
        "# source: resource classes of the pulumi-aws Python SDK that take a `tags` input",
        "# regenerate: .venv/bin/python policypacks/ai-governance/tools/gen_taggable_types.py",
    ]
    return "\n".join(header + types) + "\n"


def main() -> int:
    version, types = taggable_types()
    OUT.write_text(render(version, types, dt.date.today().isoformat()), encoding="utf-8")
    print(f"{OUT}: {len(types)} taggable types from pulumi-aws {version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
