"""The stack's model artifact stores: ECR repositories and S3 buckets, each with its project and, for a
bucket, the configuration resources that belong to it.

A bucket's public-access block, encryption, versioning, policy and lifecycle are separate resources
that name the bucket in their ``bucket`` input. One belongs to a bucket only when that is certain:
its ``bucket`` input depends on exactly one resource and that resource is a bucket of the stack, or
(no dependency) it is a literal name that one bucket of the stack has. Anything else (an unknown
name from elsewhere) is *unlinked*: it may configure any bucket, so a bucket that lacks one of its
kind cannot be verified rather than failed. Nothing is linked by guess.

A store's project is its FinOps project tag (the provider's default tags included), the same tag
budgets filter on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ai_platform_finops.resource_types import ECR_REPOSITORY, S3_BUCKET, S3_BUCKET_V2
from ai_platform_finops.tags import STANDARD_KEYS, required_keys

from . import aws
from .framework import Check
from .props import MISSING, UNKNOWN, get, text
from .resources import Res, Stack
ECR_REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
BUCKETS = (S3_BUCKET, S3_BUCKET_V2)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")

SATELLITES: dict[str, tuple[str, ...]] = {
    "public-access-block": (PUBLIC_ACCESS_BLOCK,),
    "encryption": ENCRYPTION,
    "versioning": VERSIONING,
    "policy": (BUCKET_POLICY,),
    "lifecycle": LIFECYCLE,
}
"""Kind -> the types that configure one bucket through their ``bucket`` input."""
_KIND_OF = {t: kind for kind, types in SATELLITES.items() for t in types}


@dataclass(eq=False)
class Bucket:
    res: Res
    name: Any
    """The ``bucket`` input: a string, UNKNOWN or MISSING (autonamed)."""
    project: Any
    """The project tag: a string, UNKNOWN or MISSING."""
    satellites: dict[str, list[Res]] = field(default_factory=dict)

    def linked(self, kind: str) -> list[Res]:
        return self.satellites.get(kind, [])


@dataclass(eq=False)
class Repository:
    res: Res
    name: Any
    project: Any


@dataclass
class Stores:
    buckets: list[Bucket]
    repositories: list[Repository]
    unlinked: dict[str, list[Res]]
    """Kind -> configuration resources whose bucket is not certain."""
    scanning: list[Res]
    """Registry scanning configurations."""
    account_blocks: list[Res]
    _projects: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def buckets_of(self, project: str) -> list[Bucket]:
        return self._by_project("buckets", self.buckets).get(project, [])

    def repositories_of(self, project: str) -> list[Repository]:
        return self._by_project("repositories", self.repositories).get(project, [])

    def _by_project(self, name: str, items: list[Any]) -> dict[str, list[Any]]:
        if name not in self._projects:
            found: dict[str, list[Any]] = {}
            for item in items:
                if isinstance(item.project, str):
                    found.setdefault(item.project, []).append(item)
            self._projects[name] = found
        return self._projects[name]


def project_key(c: Check) -> str:
    """The FinOps project tag/label key under the stack's prefix."""
    return required_keys(c.settings.tag_prefix)[STANDARD_KEYS.index("project")]


def project_of(res: Res, key: str) -> Any:
    tags, unknown, whole = aws.effective_tags(res)
    if key in tags:
        return tags[key]
    return UNKNOWN if whole or key in unknown else MISSING


def _name(res: Res, key: str) -> Any:
    value = get(res.props, key)
    return value if value is UNKNOWN or value is MISSING or isinstance(value, str) else MISSING


def _link(res: Res, by_urn: dict[str, Bucket], by_name: dict[str, list[Bucket]]) -> Bucket | None:
    deps = set(res.property_dependencies.get("bucket") or [])
    if len(deps) == 1:
        return by_urn.get(next(iter(deps)))
    if not deps:
        literal = text(get(res.props, "bucket"))
        found = by_name.get(literal or "", [])
        if len(found) == 1:
            return found[0]
    return None


def _build(stack: Stack, key: str) -> Stores:
    buckets = [Bucket(r, _name(r, "bucket"), project_of(r, key)) for r in stack.of_type(*BUCKETS)]
    by_urn = {b.res.urn: b for b in buckets}
    by_name: dict[str, list[Bucket]] = {}
    for b in buckets:
        if isinstance(b.name, str):
            by_name.setdefault(b.name, []).append(b)
    unlinked: dict[str, list[Res]] = {}
    for res in stack.of_type(*_KIND_OF):
        kind = _KIND_OF[res.type]
        bucket = _link(res, by_urn, by_name)
        if bucket is None:
            unlinked.setdefault(kind, []).append(res)
        else:
            bucket.satellites.setdefault(kind, []).append(res)
    repositories = [Repository(r, _name(r, "name"), project_of(r, key)) for r in stack.of_type(ECR_REPOSITORY)]
    return Stores(buckets, repositories, unlinked, list(stack.of_type(ECR_REGISTRY_SCANNING)),
                  list(stack.of_type(ACCOUNT_PUBLIC_ACCESS_BLOCK)))


def stores(stack: Stack, c: Check) -> Stores:
    """The stack's stores, indexed once per stack (and tag key)."""
    key = project_key(c)
    return stack.index(f"artifact-stores:{key}", lambda s: _build(s, key))


__all__ = ["BUCKETS", "ECR_REPOSITORY", "Bucket", "Repository", "Stores", "project_key", "project_of", "stores"]
