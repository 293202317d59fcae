"""``python -m preflight``: the offline preview of a stack.

Exit codes: 0 success; 1 mandatory policy violations; 2 bad config or usage (with a clear
message, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from components.config import ConfigError, validate_flat_config

from .engine import run_program
from .report import build_report, render_plan
from .stackfile import read_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_POLICY, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user error preflight reports as one message and exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit 2 with usage; keep that, minus the noise
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m preflight", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    preview = commands.add_parser("preview", help="run a stack's program under mocks and show the plan")
    preview.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    preview.add_argument("--json", metavar="PATH", help="write the preflight/v1 report to PATH ('-' for stdout)")
    preview.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    return parser


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def preview(args: argparse.Namespace) -> int:
    project_dir: Path = args.project_dir.resolve()
    source = read_stack_config(project_dir, args.stack)
    # Validate before any mock is set: a broken stack registers nothing.
    validate_flat_config(source.config, source.project, source.source)

    recording = run_program(project_dir, source)
    report = build_report(recording)
    human = render_plan(recording)

    to_stdout = args.json == "-"
    # With --json -, stdout carries only the JSON document; the human view goes to stderr.
    print(human, file=sys.stderr if to_stdout else sys.stdout)
    if args.json:
        _write(args.json, json.dumps(report, indent=2, sort_keys=False) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "preview":
            return preview(args)
        raise UsageError(f"unknown command {args.command!r}")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return EXIT_USAGE
