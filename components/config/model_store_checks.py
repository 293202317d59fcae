"""Checks between modelStore and the services: weights, images and reports come from the project's own store."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .model_store import BUCKET_SUFFIX, MAX_BUCKET_NAME, REPORTS_PREFIX, key_prefix_problem, s3_uri, split_s3_uri
from .services import parse_image

if TYPE_CHECKING:
    from .stack import Problem, StackConfig


def ecr_registry_problem(registry: str, region: str | None) -> str | None:
    """Why ``registry`` is not a private ECR registry of ``region``, or None."""
    if not re.fullmatch(r"[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?", registry):
        return f"{registry!r} is not a private ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)"
    found = registry.split(".")[3]
    if region is not None and found != region:
        return f"registry {registry!r} is in {found}, not the stack's region {region}"
    return None


def image_problem(image: str, repository: str, region: str | None) -> str | None:
    """Why ``image`` is not from ``repository`` (a repository name in a private ECR registry), or None."""
    repo, _, _ = parse_image(image)
    registry, _, path = repo.partition("/")
    if not path or "." not in registry:
        return f"{image!r} names no registry; push it to the project's repository <account>.dkr.ecr.{region or '<region>'}.amazonaws.com/{repository}"
    problem = ecr_registry_problem(registry, region)
    if problem is not None:
        return f"{problem}; push the image to the project's repository {repository}"
    if path != repository:
        return f"repository {path!r} is not the project's repository {repository!r}; push the image there"
    return None


def artifact_problem(uri: str, bucket: str) -> str | None:
    """Why ``uri`` is not a weights prefix in ``bucket``, or None."""
    parts = split_s3_uri(uri)
    if parts is None:
        return f"{uri!r} is not s3://<bucket>/<prefix>/"
    found, key = parts
    if found != bucket:
        return f"bucket {found!r} is not the project's model store {bucket!r} (e.g. {s3_uri(bucket, 'weights/<model>/<version>/')})"
    problem = key_prefix_problem(key)
    return f"{uri!r} {problem}" if problem else None


def report_problem(uri: str, bucket: str) -> str | None:
    """Why ``uri`` is not a report in ``bucket`` under reports/, or None."""
    parts = split_s3_uri(uri)
    where = s3_uri(bucket, f"{REPORTS_PREFIX}<model>/<version>/report.json")
    if parts is None:
        return f"{uri!r} is not in the project's model store; put the report at {where}"
    found, key = parts
    if found != bucket:
        return f"bucket {found!r} is not the project's model store {bucket!r}; put the report at {where}"
    if not key.startswith(REPORTS_PREFIX) or key.endswith("/"):
        return f"{uri!r} is not an object under {REPORTS_PREFIX} (where the old-reports lifecycle rule applies); use {where}"
    return None


def model_store_problems(cfg: StackConfig) -> list[Problem]:
    problems: list[Problem] = []
    add = problems.append
    store = cfg.model_store
    if store is None:
        for i, svc in enumerate(cfg.services):
            if svc.model.artifact_uri is not None:
                add((f"services[{i}].model.artifactUri", "needs modelStore: the weights live in the project's model "
                                                          "store bucket, which the stack then creates"))
        return problems
    if cfg.is_local:
        add(("modelStore", "the local stack has no AWS account; remove it"))
        return problems
    for j, project in enumerate(cfg.projects):
        bucket = store.bucket(cfg.cluster.name, project.name)
        if len(bucket) > MAX_BUCKET_NAME:
            add(("modelStore.namePrefix", f"bucket name {bucket!r} (project {project.name!r}, projects[{j}]) is "
                                          f"{len(bucket)} characters; S3 allows {MAX_BUCKET_NAME}: shorten namePrefix "
                                          f"(buckets are <namePrefix>-<cluster.name>-<project>{BUCKET_SUFFIX})"))
    for i, svc in enumerate(cfg.services):
        if cfg.project(svc.project) is None:
            continue  # reported as an unknown project
        path = f"services[{i}]"
        bucket = store.bucket(cfg.cluster.name, svc.project)
        repository = store.repository(cfg.cluster.name, svc.project)
        problem = image_problem(svc.model.image, repository, cfg.region)
        if problem is not None:
            add((f"{path}.model.image", problem))
        if svc.model.artifact_uri is not None:
            problem = artifact_problem(svc.model.artifact_uri, bucket)
            if problem is not None:
                add((f"{path}.model.artifactUri", problem))
        problem = report_problem(svc.ethics.evaluation.report_uri, bucket)
        if problem is not None:
            add((f"{path}.ethics.evaluation.reportUri", problem))
    return problems
