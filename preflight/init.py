"""``python -m preflight init``: new stack files and pack configs with your organisation's settings.

The same answers ``pulumi new <repo-url>`` asks for (Pulumi.yaml's ``template`` section): region,
FinOps tag prefix, cost center, admin role, alert emails and the CIDRs your runners reach the
cluster API from. Each comes from a flag, from a stack file ``pulumi new`` wrote, or from a prompt
when the terminal is interactive. The shipped stack of the chosen environment is the starting
point (its comments kept); every example value is replaced, and the result must pass the checks a
real deployment runs before anything is written. Existing files are never overwritten, except a
stack file that holds only ``pulumi new``'s answers, which is completed in place.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai_platform_finops.tags import dns_subdomain_problem, tag_value_problem
from components.config import ConfigError, validate_flat_config
from components.config.examples import EXAMPLE_ACCOUNT
from components.config.loader import PROJECT, TEMPLATE_ANSWER_KEYS, stack_file

from .safe_io import atomic_write_text

if TYPE_CHECKING:
    from ruamel.yaml import YAML

ENVIRONMENTS = ("dev", "staging", "prod")
"""The shipped AWS stacks a new stack can start from (local is a kind cluster, not an org's)."""


class InitError(Exception):
    """A user error: one message, exit 2, nothing written."""


def _region(value: str) -> str | None:
    return None if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value) else "is not an AWS region code such as us-east-1"


def _arn(value: str) -> str | None:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+", value):
        return "is not an IAM role or user ARN such as arn:aws:iam::210987654321:role/platform-admin"
    return None


def _emails(values: list[str]) -> str | None:
    bad = [v for v in values if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v)]
    return f"{', '.join(bad)}: not an email address" if bad else ("needs at least one address" if not values else None)


def _cidrs(values: list[str]) -> str | None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            return f"{value}: {exc}"
    return None


@dataclass(frozen=True)
class Question:
    name: str
    """The argparse destination."""
    template_key: str
    """Its key in Pulumi.yaml's template section (and in a stack file `pulumi new` wrote)."""
    prompt: str
    check: Callable[[Any], str | None]
    many: bool = False


QUESTIONS = (
    Question("region", "aws:region", "AWS region", _region),
    Question("tag_prefix", "orgTagPrefix", "FinOps tag prefix (your domain, e.g. finops.acme.io)", dns_subdomain_problem),
    Question("cost_center", "orgCostCenter", "Cost center of the platform's own resources", tag_value_problem),
    Question("admin_role", "orgAdminRoleArn", "IAM role ARN given cluster-admin", _arn),
    Question("alert_email", "orgAlertEmails", "Budget alert emails (comma-separated)", _emails, many=True),
    Question("runner_cidr", "orgRunnerCidrs", "CIDRs your CI runners reach the cluster API from (comma-separated)",
             _cidrs, many=True),
)
assert {q.template_key for q in QUESTIONS} - {"aws:region"} == set(TEMPLATE_ANSWER_KEYS)


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="the new stack's name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--environment", choices=ENVIRONMENTS, help="the shipped stack to start from (default: prompt)")
    parser.add_argument("--region", help="AWS region, e.g. us-east-1")
    parser.add_argument("--tag-prefix", help="FinOps tag prefix, e.g. finops.acme.io")
    parser.add_argument("--cost-center", help="cost center of the platform's own resources")
    parser.add_argument("--admin-role", help="IAM role ARN given cluster-admin")
    parser.add_argument("--alert-email", action="append", help="budget alert email (repeatable)")
    parser.add_argument("--runner-cidr", action="append", help="CIDR your CI runners reach the cluster API from (repeatable)")
    parser.add_argument("--project-dir", type=Path, default=Path(__file__).resolve().parent.parent, help=argparse.SUPPRESS)


def _yaml() -> YAML:
    from ruamel.yaml import YAML  # only `init` edits YAML round-trip: preflight's other commands do not load it

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long value (digests) onto a new line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _stub_answers(doc: Any) -> dict[str, Any] | None:
    """The answers of a stack file `pulumi new` wrote (only its template keys), else None."""
    config = (doc or {}).get("config") or {}
    allowed = {"aws:region", f"{PROJECT}:environment", *(f"{PROJECT}:{k}" for k in TEMPLATE_ANSWER_KEYS)}
    if not set(map(str, config)) <= allowed:
        return None
    answers = {q.name: config[k] for q in QUESTIONS
               if (k := q.template_key if ":" in q.template_key else f"{PROJECT}:{q.template_key}") in config}
    if f"{PROJECT}:environment" in config:
        answers["environment"] = config[f"{PROJECT}:environment"]
    return answers


def collect(args: argparse.Namespace, found: dict[str, Any], ask: Callable[[str], str] | None) -> dict[str, Any]:
    """Every answer from the flags, then the stub file, then the prompt; checked."""
    answers: dict[str, Any] = {}
    problems: list[str] = []
    environment = args.environment or found.get("environment")
    if environment is None and args.stack in ENVIRONMENTS:
        environment = args.stack
    while environment not in ENVIRONMENTS and ask is not None:
        environment = ask(f"Environment to start from ({', '.join(ENVIRONMENTS)}): ").strip()
    if environment not in ENVIRONMENTS:
        problems.append(f"--environment: {'is required' if environment is None else repr(environment)}: "
                        f"one of {', '.join(ENVIRONMENTS)}")
    answers["environment"] = environment
    for q in QUESTIONS:
        flag = "--" + q.name.replace("_", "-")
        value = getattr(args, q.name)
        value = value if value else found.get(q.name)
        for _ in range(3):
            if value is None and ask is not None:
                value = ask(f"{q.prompt}: ").strip() or None
            if value is None:
                break
            value = _split(value) if q.many else str(value).strip()
            problem = q.check(value)
            if problem is None or ask is None:
                break
            print(f"  {problem}", file=sys.stderr)
            value = None
        if value is None:
            problems.append(f"{flag}: is required ({q.prompt})")
            continue
        problem = q.check(value)
        if problem is not None:
            problems.append(f"{flag}: {problem}")
        answers[q.name] = value
    if problems:
        raise InitError("init: " + "\n".join(problems))
    return answers


def _replace_strings(node: Any, old: str, new: str) -> Any:
    """Every string under ``node`` with ``old`` replaced, in place (ruamel keeps comments and style)."""
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _replace_strings(node[key], old, new)
    elif isinstance(node, list):
        for index in range(len(node)):
            node[index] = _replace_strings(node[index], old, new)
    elif isinstance(node, str) and old in node:
        return type(node)(node.replace(old, new)) if type(node) is not str else node.replace(old, new)
    return node


def _move_model_stores(config: Any, old_cluster: str, new_cluster: str, tag_prefix: str) -> None:
    """The stores are named after the cluster (and bucket names after the org): the services' images,
    weights and reports follow them. The org's label is the tag prefix's domain (finops.acme.io: acme)."""
    store = config.get(f"{PROJECT}:modelStore")
    if store is None:
        return
    labels = tag_prefix.split(".")
    old_prefix, store["namePrefix"] = store["namePrefix"], labels[-2] if len(labels) >= 2 else labels[0]
    services = config.get(f"{PROJECT}:services", [])
    _replace_strings(services, f"s3://{old_prefix}-{old_cluster}-", f"s3://{store['namePrefix']}-{new_cluster}-")
    _replace_strings(services, f".amazonaws.com/{old_cluster}/", f".amazonaws.com/{new_cluster}/")


def stack_document(template_text: str, stack: str, answers: dict[str, Any]) -> Any:
    """The template stack with the answers written in and the example account replaced."""
    yaml = _yaml()
    doc = yaml.load(template_text)
    config = doc["config"]
    account = answers["admin_role"].split(":")[4]
    _replace_strings(config, f"{EXAMPLE_ACCOUNT}.dkr.ecr.{config['aws:region']}.", f"{EXAMPLE_ACCOUNT}.dkr.ecr.{answers['region']}.")
    _replace_strings(config, EXAMPLE_ACCOUNT, account)
    config["aws:region"] = answers["region"]
    finops, cluster = config[f"{PROJECT}:finops"], config[f"{PROJECT}:cluster"]
    finops["tagPrefix"] = answers["tag_prefix"]
    finops["costCenter"] = answers["cost_center"]
    old_cluster, cluster["name"] = cluster["name"], f"ai-platform-{stack}"
    _move_model_stores(config, old_cluster, cluster["name"], answers["tag_prefix"])
    cluster["adminPrincipalArn"] = answers["admin_role"]
    # Where `pulumi up` runs from: the endpoint (public, bootstrap or private) admits these. The
    # example's office ranges go; an office CIDR can be added to publicAccessCidrs later.
    cluster["runnerCidrs"] = answers["runner_cidr"]
    cluster.pop("publicAccessCidrs", None)
    config[f"{PROJECT}:budgets"]["alertEmails"] = answers["alert_email"]
    first = template_text.splitlines()[0] if template_text.startswith("#") else ""
    shape = f"\n{first.lstrip('# ').split(':', 1)[-1].strip()}" if first else ""
    doc.yaml_set_start_comment(f"{stack}: written by `python -m preflight init` from "
                               f"{stack_file(answers['environment'])}.{shape}")
    return doc


def pack_config_text(template_text: str, template_region: str, answers: dict[str, Any]) -> str:
    """The environment's pack config with the ECR registry moved to the org's account and region."""
    account = answers["admin_role"].split(":")[4]
    text = template_text.replace(f"{EXAMPLE_ACCOUNT}.dkr.ecr.{template_region}.", f"{account}.dkr.ecr.{answers['region']}.")
    return text.replace(EXAMPLE_ACCOUNT, account)


def _flat(doc: Any) -> dict[str, str]:
    plain = json.loads(json.dumps(doc["config"], default=str))
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in plain.items()}


def run_init(args: argparse.Namespace, ask: Callable[[str], str] | None = None) -> int:
    project_dir: Path = args.project_dir.resolve()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.stack):
        raise InitError(f"init: --stack: {args.stack!r} is not a stack name (letters, digits, '-', '_', '.')")
    target = project_dir / stack_file(args.stack)
    pack_target = project_dir / "policypacks" / "ai-governance" / "config" / f"{args.stack}.json"
    found: dict[str, Any] = {}
    header: dict[str, Any] = {}
    if target.exists():
        existing = _yaml().load(target.read_text(encoding="utf-8"))
        stub = _stub_answers(existing)
        if stub is None:
            raise InitError(f"init: {stack_file(args.stack)} already exists; pick another --stack "
                            "(init never overwrites a stack)")
        found = stub
        header = {k: v for k, v in existing.items() if k != "config"}  # encryptionsalt, secretsprovider
    if pack_target.exists():
        raise InitError(f"init: {pack_target.relative_to(project_dir)} already exists; pick another --stack")
    if ask is None and sys.stdin.isatty():
        ask = input
    answers = collect(args, found, ask)
    environment = answers["environment"]
    template_text = (project_dir / stack_file(environment)).read_text(encoding="utf-8")
    doc = stack_document(template_text, args.stack, answers)
    for key, value in header.items():
        doc[key] = value
    try:
        validate_flat_config(_flat(doc), PROJECT, stack_file(args.stack), for_real=True)
    except ConfigError as exc:
        raise InitError(f"init: the new stack would not pass its checks:\n{exc}") from None
    template_region = str(_yaml().load(template_text)["config"]["aws:region"])
    pack_template = project_dir / "policypacks" / "ai-governance" / "config" / f"{environment}.json"
    out = io.StringIO()
    _yaml().dump(doc, out)
    atomic_write_text(target, out.getvalue())
    atomic_write_text(pack_target, pack_config_text(pack_template.read_text(encoding="utf-8"), template_region, answers))
    print(f"wrote {stack_file(args.stack)} and {pack_target.relative_to(project_dir)} (from the {environment} stack)\n"
          f"next: python -m preflight preview --stack {args.stack}")
    return 0
