"""``python -m preflight``: the offline preview of a stack.

Exit codes: 0 success; 1 mandatory policy violations; 2 bad config or usage (with a clear
message, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from pulumi import RunError

from ai_platform_finops.org import conflict_message, org_settings, pin_conflicts
from components.config import ConfigError, validate_flat_config
from components.config import reference as config_reference

from . import cost as finops_cost, prices
from . import policy as policy_report
from .advise.arguments import add_arguments as add_advise_arguments
from .analyzer import (
    PolicyAnalyzer,
    PolicyPackError,
    hold_signal_while_spawning,
    load_policy_config,
    stop_all_packs,
)
from .bounded import CONFIG_LIMIT, BoundedReadError, read_text, same_file
from .engine import run_program
from .init import InitError, add_init_arguments, run_init
from .markdown import render_comment
from .report import build_report, render_plan
from .safe_io import atomic_write_text
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
    # FinOps: the PR comment and the cost change against an earlier report.
    preview.add_argument("--markdown", metavar="PATH", help="write the pull-request comment (Markdown) to PATH ('-' for stdout)")
    preview.add_argument("--baseline", metavar="PATH", help="an earlier --json report: show the monthly cost change against it")
    # Policy pack: run through the Analyzer gRPC protocol, as `pulumi preview --policy-pack` does.
    preview.add_argument("--policy-pack", metavar="DIR", type=Path,
                         help="policy pack directory (default: policypacks/ai-governance)")
    preview.add_argument("--policy-pack-config", metavar="FILE", type=Path,
                         help="policy config JSON (default: <pack>/config/<stack>.json)")
    preview.add_argument("--no-policy", action="store_true", help="skip the policy pack")

    policies = commands.add_parser("policies", help="list the policy pack's policies and their level per environment")
    policies.add_argument("--policy-pack", metavar="DIR", type=Path, help="policy pack directory")
    policies.add_argument("--markdown", action="store_true", help="print the policy table (Markdown)")
    policies.add_argument("--json", action="store_true", help="print the pack's metadata as JSON")
    policies.add_argument("--update", "--update-readme", dest="update_readme", metavar="DOC", type=Path,
                          help="rewrite the generated policy table in DOC (docs/policies.md)")
    policies.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)

    reference = commands.add_parser("reference", help="the stack config reference, generated from the config models")
    reference.add_argument("--update", metavar="DOC", type=Path,
                           help="rewrite the generated block in DOC (docs/config.md) instead of printing it")
    reference.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)

    init = commands.add_parser("init", help="write new stack files and pack configs with your organisation's settings")
    add_init_arguments(init)

    advise = commands.add_parser("advise", help="recommend stack changes from measured GPU use and actual spend")
    add_advise_arguments(advise, PROJECT_DIR)

    price_cmd = commands.add_parser("prices", help="the EC2 price catalog")
    price_sub = price_cmd.add_subparsers(dest="prices_command", required=True, parser_class=_Parser)
    refresh = price_sub.add_parser("refresh", help="fetch a dated on-demand price snapshot from the AWS Pricing API")
    refresh.add_argument("--region", required=True, help="AWS region code to price, e.g. eu-west-1")
    refresh.add_argument("--out", metavar="PATH", help="where to write it (default: the catalog's data directory)")
    refresh.add_argument("--instance-type", action="append", default=[], metavar="TYPE",
                         help="refresh only this type (repeatable), merged into the existing snapshot")
    refresh.add_argument("--allow-shrink", action="store_true",
                         help=f"allow a full refresh to drop more than {prices.MAX_DROPPED_FRACTION:.0%} of the snapshot's rows")
    return parser


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def check_outputs(outputs: Sequence[tuple[str, str | None]], inputs: Sequence[Path]) -> None:
    """Refuse (exit 2) outputs that would destroy an input or each other, before anything runs.

    ``outputs`` are (flag, path) pairs; ``-`` (stdout) is allowed for at most one of them.
    """
    given = [(flag, path) for flag, path in outputs if path]
    to_stdout = [flag for flag, path in given if path == "-"]
    if len(to_stdout) > 1:
        raise UsageError(f"{' and '.join(to_stdout)} both write to stdout ('-'); send all but one to a file")
    files = [(flag, Path(path)) for flag, path in given if path != "-"]
    for index, (flag, path) in enumerate(files):
        for other_flag, other in files[:index]:
            if same_file(path, other):
                raise UsageError(f"{path}: both {other_flag} and {flag} would write it; give each its own file")
        for source in inputs:
            if same_file(path, source):
                raise UsageError(f"{path}: {flag} would overwrite an input of this run ({source}); "
                                 "write the output somewhere else")


def _protected_inputs(project_dir: Path, source: Any, args: argparse.Namespace) -> list[Path]:
    """Files an output must never replace: the project file, every stack file beside this one, the
    baseline, the policy pack's project file and configs."""
    inputs = [project_dir / "Pulumi.yaml"]
    stack_path: Path | None = getattr(source, "path", None)
    if stack_path is not None:
        inputs += [stack_path, *sorted(stack_path.parent.glob("Pulumi.*.yaml"))]
    if args.baseline:
        inputs.append(Path(args.baseline))
    pack_dir = (args.policy_pack or project_dir / "policypacks" / "ai-governance")
    inputs += [pack_dir / "PulumiPolicy.yaml", *sorted((pack_dir / "config").glob("*.json"))]
    if args.policy_pack_config is not None:
        inputs.append(args.policy_pack_config)
    return inputs


def preview(args: argparse.Namespace) -> int:
    project_dir: Path = args.project_dir.resolve()
    source = read_stack_config(project_dir, args.stack)
    check_outputs([("--json", args.json), ("--markdown", args.markdown)], _protected_inputs(project_dir, source, args))
    # Validate before any mock is set: a broken stack registers nothing.
    cfg = validate_flat_config(source.config, source.project, source.source, source.secret_keys)
    baseline = _load_baseline(args.baseline)  # FinOps: a bad baseline fails before the program runs

    # Policy pack: started before the program so its start-up overlaps the program's run.
    analyzer, config_file = (None, None) if args.no_policy else _start_policy_pack(args, project_dir, source)
    try:
        if analyzer is not None:
            analyzer.stream()  # Analyze each resource as the program registers it, as the engine does
        recording = run_program(project_dir, source, on_register=analyzer.add if analyzer is not None else None)
        policy_run = analyzer.run(recording.resources) if analyzer is not None else None
    except PolicyPackError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if analyzer is not None:
            analyzer.close()
    report = build_report(recording)
    human = render_plan(recording)
    # FinOps: cost section, cost table, change against the baseline, PR comment. "% of budget" uses the
    # figure the stack's budget gate uses, read from the pack config the CLI would apply.
    gate_config = args.policy_pack_config or (args.policy_pack or project_dir / "policypacks" / "ai-governance") \
        / "config" / f"{args.stack}.json"
    budget_basis = finops_cost.gate_basis(gate_config, _display_path(gate_config, project_dir))
    report["cost"] = finops_cost.cost_section(recording, cfg, budget_basis=budget_basis)
    diff = finops_cost.cost_diff(baseline, report) if baseline is not None else None
    if diff is not None:
        report["cost_diff"] = diff
    human += "\n" + finops_cost.render_cost(report["cost"], diff)
    if policy_run is not None:
        report["policy"] = policy_report.policy_section(policy_run, _display_path(config_file, project_dir))
        human += "\n" + policy_report.render_policy(report["policy"])

    to_stdout = args.json == "-"
    # With --json -, stdout carries only the JSON document; the human view goes to stderr.
    print(human, file=sys.stderr if to_stdout else sys.stdout)
    if args.json:
        # allow_nan=False: the report is strict JSON, so it can always be read back as a baseline.
        _write(args.json, json.dumps(report, indent=2, sort_keys=False, allow_nan=False) + "\n")
    if args.markdown:
        _write(args.markdown, render_comment(report, diff))
    return EXIT_POLICY if policy_report.has_mandatory(report.get("policy")) else EXIT_OK


def _display_path(path: Path | None, base: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(path.relative_to(base))  # as given under the project (a linked pack stays "policypacks/...")
    except ValueError:
        pass
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def _pack_dir(args: argparse.Namespace, project_dir: Path) -> Path:
    pack_dir = (args.policy_pack or project_dir / "policypacks" / "ai-governance").resolve()
    if not (pack_dir / "PulumiPolicy.yaml").is_file():
        raise UsageError(f"{pack_dir}: not a policy pack (no PulumiPolicy.yaml)")
    return pack_dir


def _start_policy_pack(args: argparse.Namespace, project_dir: Path, source: Any) -> tuple[PolicyAnalyzer, Path | None]:
    """Spawn the pack (creating its virtualenv on first use), the way the Pulumi CLI would."""
    pack_dir = _pack_dir(args, project_dir)
    config_file = args.policy_pack_config or pack_dir / "config" / f"{args.stack}.json"
    if not config_file.is_file():
        if args.policy_pack_config is not None:
            raise UsageError(f"{config_file}: policy pack config not found")
        print(f"preflight: no {config_file}; the pack's own default levels apply", file=sys.stderr)
        config_file = None
    if config_file is not None:
        _check_pins(config_file, project_dir, source)
    try:
        if config_file is not None:
            load_policy_config(config_file)  # a broken config fails now, not after the program ran
        analyzer = PolicyAnalyzer(pack_dir, project=source.project, stack=args.stack, config_file=config_file,
                                  stack_config=source.config, secret_keys=source.secret_keys)
    except PolicyPackError as exc:
        raise UsageError(str(exc)) from None
    try:
        analyzer.start()
    except PolicyPackError as exc:
        raise UsageError(str(exc)) from None
    return analyzer, config_file


def _check_pins(config_file: Path, project_dir: Path, source: Any) -> None:
    """A pack config may pin an org setting; one that disagrees with the stack file is a usage error
    naming both files (the pack itself refuses it too, for the real CLI)."""
    try:
        entry = load_policy_config(config_file).get("all")
    except PolicyPackError as exc:
        raise UsageError(str(exc)) from None
    conflicts = pin_conflicts(entry.properties if entry else {}, org_settings(source.config, source.project))
    if conflicts:
        raise UsageError(conflict_message(conflicts, _display_path(config_file, project_dir) or str(config_file),
                                          source.source, source.project))


def policies(args: argparse.Namespace) -> int:
    """``python -m preflight policies``: the pack's own metadata (GetAnalyzerInfo) and the level each
    environment's config gives every policy."""
    project_dir: Path = args.project_dir.resolve()
    pack_dir = _pack_dir(args, project_dir)
    try:
        with PolicyAnalyzer(pack_dir, project="ai-platform", stack="policies", config_file=None) as analyzer:
            info = analyzer.info()
        levels = policy_report.environment_levels(info, policy_report.load_environment_configs(info, pack_dir))
    except PolicyPackError as exc:
        raise UsageError(str(exc)) from None
    table = policy_report.policies_table(info, levels)
    if args.update_readme is not None:
        try:
            readme = read_text(args.update_readme, CONFIG_LIMIT)
            atomic_write_text(args.update_readme, policy_report.replace_table(readme, table))
        except BoundedReadError as exc:
            raise UsageError(str(exc)) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{args.update_readme}: {exc}") from None
    elif args.json:
        sys.stdout.write(policy_report.policies_json(info, levels))
    elif args.markdown:
        sys.stdout.write(table)
    else:
        width = max(len(p.name) for p in info.policies)
        print(f"{info.name}@{info.version}: {len(info.policies)} policies   (dev / staging / prod)")
        for p in info.policies:
            row = levels.get(p.name, {})
            print(f"  {p.name:<{width}}  {p.kind:<8} {p.severity:<8} "
                  + " / ".join(row.get(env, p.level) for env in policy_report.ENVIRONMENT_COLUMNS))
    return EXIT_OK


def _reference(args: argparse.Namespace) -> int:
    """``python -m preflight reference``: docs/config.md's tables, from the pydantic models."""
    text = config_reference.reference_markdown(args.project_dir.resolve())
    if args.update is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        doc = args.update.read_text(encoding="utf-8")
        atomic_write_text(args.update, config_reference.replace_block(doc, text))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{args.update}: {exc}") from None
    return EXIT_OK


def _load_baseline(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return finops_cost.load_baseline(path)
    except finops_cost.BaselineError as exc:
        raise UsageError(str(exc)) from None


def _advise(args: argparse.Namespace) -> int:
    from .advise import command as advise_command  # numpy and the sources: only this subcommand needs them

    source = read_stack_config(args.project_dir.resolve(), args.stack)
    check_outputs(advise_command.outputs(args), advise_command.inputs(args, source))
    try:
        return advise_command.run(args)
    except advise_command.AdviseError as exc:
        raise UsageError(str(exc)) from None


def _prices(args: argparse.Namespace) -> int:
    try:
        return prices.main(args.region, args.out, args.instance_type, args.allow_shrink)
    except prices.RefreshError as exc:
        raise UsageError(f"prices refresh: {exc}") from None


_HANDLED = (signal.SIGINT, signal.SIGTERM)


def _stop(signum: int, frame: Any) -> None:
    """SIGINT/SIGTERM: stop every running pack's process group, then exit 128+N at once.

    Exiting from the handler (rather than raising into whatever code was running, which may catch
    it) is what makes a cancelled CI job end promptly; outputs are written atomically, so nothing
    half-written is left.
    """
    if hold_signal_while_spawning(signum):
        return
    for sig in _HANDLED:
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
    stop_all_packs()
    sys.stderr.write(f"preflight: stopped by {signal.Signals(signum).name}\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = {sig: signal.signal(sig, _stop) for sig in _HANDLED}
    try:
        return _main(argv)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "preview":
            return preview(args)
        if args.command == "prices":
            return _prices(args)
        if args.command == "policies":
            return policies(args)
        if args.command == "reference":
            return _reference(args)
        if args.command == "init":
            return run_init(args)
        if args.command == "advise":
            return _advise(args)
        raise UsageError(f"unknown command {args.command!r}")
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except RunError as exc:
        # The program's own user errors (e.g. what the account's data sources answer cannot satisfy):
        # one message, as the Pulumi CLI shows a RunError, never a traceback.
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, InitError) as exc:
        print(f"preflight: {exc}", file=sys.stderr)
        return EXIT_USAGE
