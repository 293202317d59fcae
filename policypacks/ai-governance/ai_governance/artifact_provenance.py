"""artifact-provenance: an inference workload's image and evaluation report come from its own
project's stores, when the stack creates them.

A store belongs to the project of its FinOps project tag; a workload to the project of its FinOps
project label (``artifact_access.workload_project``).

- **Image.** When the stack creates ECR repositories for the workload's project, every model
  container's image (init containers aside: they fetch weights, they do not serve) must be in one of
  them: ``<registry>/<repository name>`` with the registry an ECR host, and equal to the repository's
  ``repositoryUrl`` once that is known. An image from another project's repository names it.
- **Evaluation report.** When the stack creates buckets for the project, the evaluation report
  annotation must be an ``s3://`` URI into one of them.

A project the stack creates no repository (or bucket) for is not judged here: ``model-provenance``'s
registry allowlist (and its tag, digest and version checks, which apply to every image) stays the
rule for it. This rule is a stack rule because it needs the stack's stores; ``model-provenance`` and
``evaluation-gate`` stay resource rules so that ``pulumi up`` still stops a bad image or a failing
evaluation before the workload is created.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.governance import EVAL_REPORT

from .artifact_stores import project_key, stores
from .framework import Check, eu_ai_act, stack_rule
from .props import MISSING, UNKNOWN, get, short
from .resources import Stack
from .ai_models import parse_image, stack_models
from .workload_identity import workload_project

_ECR_HOST = re.compile(r"^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.*)$")


def _repository_verdict(image: str, own: list[tuple[Any, Any]], others: dict[str, str]) -> str | None:
    """Why ``image`` is not from one of ``own`` ((name, repositoryUrl) pairs), or None."""
    parsed = parse_image(image)
    if parsed is None:
        return None  # model-provenance reports what is not an image reference
    repo = parsed[0]
    host, _, path = repo.partition("/")
    for name, url in own:
        if path == name and _ECR_HOST.match(host):
            if not isinstance(url, str) or url == repo:
                return None
            return f"{short(image)} names the project's repository {name} but not its URL {url}"
    if path in others and _ECR_HOST.match(host):
        return f"{short(image)} is from project '{others[path]}''s repository {path}"
    names = ", ".join(str(n) for n, _ in own)
    return f"{short(image)} is not from the project's own ECR repository ({names})"


def _check(stack: Stack, c: Check) -> None:
    key = project_key(c)
    found = stores(stack, c)
    if not found.repositories and not found.buckets:
        c.not_applicable("the stack creates no ECR repository and no S3 bucket")
    others = {str(r.name): str(r.project) for r in found.repositories
              if isinstance(r.name, str) and isinstance(r.project, str)}
    for model in stack_models(stack, c):
        res, tpl = model.res, model.tpl
        project = workload_project(res, tpl, key)
        if project is None:
            continue
        repos = found.repositories_of(project)
        own = [(r.name, get(r.res.props, "repositoryUrl")) for r in repos]
        if any(name is UNKNOWN for name, _ in own):
            c.unknown(f"the repository name of project '{project}'", res.urn)
        elif own:
            for container in tpl.containers:
                image = get(container.value, "image")
                if container.init or image is MISSING:
                    continue
                if not c.known(image, f"{container.path}.image of {res.label}", res.urn) or not isinstance(image, str):
                    continue
                problem = _repository_verdict(image, own, others)
                if problem:
                    c.violation(f"{model.label}: {container.path} ({container.name}): image {problem}; project "
                                f"'{project}' images come from its own repository", res.urn)
        buckets = [b.name for b in found.buckets_of(project)]
        if not buckets:
            continue
        if UNKNOWN in buckets:
            c.unknown(f"the bucket name of project '{project}'", res.urn)
            continue
        report = model.fact(EVAL_REPORT)
        if report is UNKNOWN:
            continue
        names = ", ".join(str(b) for b in buckets if b is not MISSING)
        match = _S3_URI.match(report) if isinstance(report, str) else None
        if report is MISSING or match is None:
            c.violation(f"{model.label}: the evaluation report ({model.key(EVAL_REPORT)}: "
                        f"{short(report) if report is not MISSING else 'none'}) is not an s3:// URI in project "
                        f"'{project}''s bucket ({names})", res.urn)
        elif match.group("bucket") not in buckets:
            c.violation(f"{model.label}: the evaluation report {short(report)} is not in project '{project}''s bucket "
                        f"({names})", res.urn)


ARTIFACT_PROVENANCE = stack_rule(
    name="artifact-provenance",
    description="Where the stack creates a project's model stores, its inference images come from its own ECR "
                "repository and its evaluation reports lie in its own S3 bucket.",
    severity=Severity.HIGH,
    remediation="Push the image to the project's repository (<account>.dkr.ecr.<region>.amazonaws.com/<cluster>/"
                "<project>) and set services[].model.image to it; upload the evaluation report under reports/ in the "
                "project's bucket and set services[].ethics.evaluation.reportUri (docs/ship-a-model.md).",
    check=_check,
    framework=eu_ai_act("Article 12 - Record-keeping (traceability of the deployed model)"),
    tags=["responsible-ai", "supply-chain"],
)

POLICIES = [ARTIFACT_PROVENANCE]

__all__ = ["ARTIFACT_PROVENANCE", "POLICIES"]
