"""artifact-store-hardening: model images and weights are stored immutable, scanned, encrypted,
private and reachable over TLS only.

Repositories (``aws:ecr/repository``):

- tags immutable (``imageTagMutability: IMMUTABLE``; ``IMMUTABLE_WITH_EXCLUSION`` leaves the excluded
  tags movable, so it fails): a pinned version can never be pushed over;
- scanned: ``scanOnPush``, or a registry scanning configuration of the stack whose rule (scan on push
  or continuous) has a filter matching the repository. With an ``ENHANCED`` registry configuration
  AWS ignores the repository's own ``scanOnPush``, so then only a matching rule counts;
- encrypted at rest with KMS (``repositoryEncryption: KMS``, the default); ECR encrypts every
  repository with AES256 anyway, so ``AES256`` accepts that default.

Buckets (``aws:s3/bucket``), through their configuration resources (``artifact_stores``):

- default encryption SSE-KMS (``aws:kms`` or ``aws:kms:dsse``) with the bucket key on (it cuts the KMS
  request charges by orders of magnitude). S3 encrypts new objects with SSE-S3 (AES256) when nothing
  is configured; ``bucketEncryption: AES256`` accepts that, the default ``aws:kms`` does not;
- a public-access block with all four switches on (the bucket's own, or the account's in the stack);
- a bucket policy denying every request without TLS (``Deny``, principal ``*``, every S3 action, the
  bucket and its objects, ``Bool aws:SecureTransport false``);
- versioning ``Enabled`` (``requireVersioning``, on by default): an overwritten or deleted weights file
  or report can be recovered and the exact evaluated bytes stay retrievable.

The bucket's own deprecated inline settings (``serverSideEncryptionConfiguration``, ``policy``,
``versioning``) count only where no configuration resource of that kind is linked: the resource is
what AWS ends up with, while the bucket's recorded outputs keep what AWS reported when the bucket was
created (SSE-S3, versioning off) until a refresh.

A configuration resource whose bucket is not certain leaves a bucket lacking that kind "cannot
verify" (the ``unknownValues`` setting decides), never a pass or a fail.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Severity

from . import iam_policy
from .artifact_stores import Bucket, Repository, Stores, stores
from .framework import Check, Setting, aws_config_rules, stack_rule
from .props import MISSING, UNKNOWN, elements, flag, get, matches_any, short
from .resources import Stack

IMMUTABLE = "IMMUTABLE"
KMS_TYPES = ("KMS", "KMS_DSSE")
SSE_KMS = ("aws:kms", "aws:kms:dsse")
SCANNING_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")
PUBLIC_ACCESS_SWITCHES = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SECURE_TRANSPORT = "aws:SecureTransport"


# --- repositories -----------------------------------------------------------------------------------

def _registry_scans(repo: Repository, s: Stores, c: Check) -> tuple[bool | None, bool]:
    """(whether a registry configuration scans the repository, None when unknown; whether an
    enhanced configuration overrides the repository's own setting)."""
    scanned: bool | None = False
    enhanced = False
    for config in s.scanning:
        scan_type = get(config.props, "scanType")
        if not c.known(scan_type, f"scanType of {config.label}", config.urn):
            return None, True
        enhanced = enhanced or scan_type == "ENHANCED"
        rules = get(config.props, "rules")
        if not c.known(rules, f"rules of {config.label}", config.urn):
            return None, enhanced
        for rule in elements(rules):
            if get(rule, "scanFrequency") not in SCANNING_FREQUENCIES:
                continue
            for item in elements(get(rule, "repositoryFilters")):
                pattern = get(item, "filter")
                if pattern is UNKNOWN or repo.name is UNKNOWN:
                    c.unknown(f"the repository filters of {config.label}", config.urn)
                    scanned = None
                elif isinstance(pattern, str) and isinstance(repo.name, str) and matches_any(repo.name, [pattern]):
                    return True, enhanced
    return scanned, enhanced


def _check_repository(repo: Repository, s: Stores, c: Check) -> None:
    res = repo.res
    problems = []
    mutability = get(res.props, "imageTagMutability")
    if c.known(mutability, f"imageTagMutability of {res.label}", res.urn) and mutability != IMMUTABLE:
        problems.append(f"image tags are {'MUTABLE (the default)' if mutability is MISSING else mutability}, "
                        f"so a pinned version can be pushed over (set imageTagMutability: {IMMUTABLE})")
    registry, enhanced = _registry_scans(repo, s, c)
    on_push = flag(get(res.props, "imageScanningConfiguration", "scanOnPush"))
    if get(res.props, "imageScanningConfiguration", "scanOnPush") is UNKNOWN and not enhanced and registry is not True:
        c.unknown(f"imageScanningConfiguration.scanOnPush of {res.label}", res.urn)
    elif registry is False and (enhanced or not on_push):
        problems.append("images are not scanned for vulnerabilities (no scanOnPush" + (
            ", and the stack's ENHANCED registry scanning, which overrides it, has no rule matching "
            f"{short(repo.name)}" if enhanced else ", no registry scanning rule matching it") + ")")
    wanted = c.config["repositoryEncryption"]
    configs = get(res.props, "encryptionConfigurations")
    if c.known(configs, f"encryptionConfigurations of {res.label}", res.urn):
        kind = get(configs, 0, "encryptionType")
        if c.known(kind, f"encryptionConfigurations[0].encryptionType of {res.label}", res.urn):
            kind = "AES256" if kind is MISSING else kind
            if wanted == "KMS" and kind not in KMS_TYPES:
                problems.append(f"encryption is {kind}, KMS is required (encryptionConfigurations: "
                                "[{encryptionType: KMS}])")
    if problems:
        c.violation(f"{res.label} ({short(repo.name)}): {'; '.join(problems)}", res.urn)


# --- buckets ----------------------------------------------------------------------------------------

def _missing(bucket: Bucket, kind: str, s: Stores, c: Check, what: str) -> str | None:
    """What to report for a bucket with no linked ``kind``: an unknown when an unlinked one might be
    it, else the problem ``what``."""
    unlinked = s.unlinked.get(kind, [])
    if unlinked:
        c.unknown(f"which bucket {unlinked[0].label} configures (its bucket input is not a name or a bucket of "
                  f"the stack), so {what} of {bucket.res.label}", bucket.res.urn)
        return None
    return what


def _sse(bucket: Bucket, s: Stores, c: Check) -> str | None:
    rules: list[tuple[Any, str]] = []
    for config in bucket.linked("encryption"):
        raw = get(config.props, "rules")
        if not c.known(raw, f"rules of {config.label}", config.urn):
            return None
        rules += [(r, config.label) for r in elements(raw)]
    inline = get(bucket.res.props, "serverSideEncryptionConfiguration", "rule")
    if inline is not MISSING and not rules:
        rules.append((inline, f"{bucket.res.label} serverSideEncryptionConfiguration"))
    wanted = c.config["bucketEncryption"]
    if not rules:
        if wanted != "aws:kms":
            return None  # S3's default SSE-S3 is accepted
        return _missing(bucket, "encryption", s, c, "no default encryption (S3 would use SSE-S3; SSE-KMS is "
                        "required)")
    for rule, where in rules:
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if not c.known(algorithm, f"sseAlgorithm of {where}", bucket.res.urn):
            return None
        if wanted == "aws:kms" and algorithm not in SSE_KMS:
            return f"default encryption is {short(algorithm)} in {where}, SSE-KMS (aws:kms) is required"
        key = get(rule, "bucketKeyEnabled")
        if algorithm in SSE_KMS and c.config["requireBucketKey"] and c.known(key, f"bucketKeyEnabled of {where}",
                                                                             bucket.res.urn) and flag(key) is not True:
            return f"SSE-KMS without the bucket key in {where} (bucketKeyEnabled: true cuts KMS request charges)"
    return None


def _blocked(block: Any, label: str, urn: str, c: Check) -> bool | None:
    values = [get(block.props, k) for k in PUBLIC_ACCESS_SWITCHES]
    if any(v is UNKNOWN for v in values):
        c.unknown(f"the public access switches of {label}", urn)
        return None
    return all(flag(v) is True for v in values)


def _public_access(bucket: Bucket, s: Stores, c: Check) -> str | None:
    verdicts = [_blocked(b, b.label, b.urn, c) for b in [*bucket.linked("public-access-block"), *s.account_blocks]]
    if any(v is True for v in verdicts) or None in verdicts:
        return None
    if verdicts:
        return f"the public access block does not set all of {', '.join(PUBLIC_ACCESS_SWITCHES)} to true"
    return _missing(bucket, "public-access-block", s, c, "no public access block (all four switches on)")


PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def _tls_only(document: str, bucket: Bucket) -> bool:
    """Does a statement deny every S3 action on the bucket and all its objects to everyone without TLS?"""
    name = bucket.name if isinstance(bucket.name, str) else "*"
    for st in iam_policy.parse(document):
        if st.allows or not st.principal_everyone or not st.covers_all_actions("s3:*"):
            continue
        values = st.condition("Bool", SECURE_TRANSPORT)
        if values is None or [v.lower() for v in values] != ["false"]:
            continue
        if any(st.reaches_all(f"arn:{p}:s3:::{name}") and st.reaches_all(f"arn:{p}:s3:::{name}/*")
               for p in PARTITIONS):
            return True
    return False


def _tls(bucket: Bucket, s: Stores, c: Check) -> str | None:
    policies: list[tuple[Any, str, str]] = [(get(p.props, "policy"), p.label, p.urn) for p in bucket.linked("policy")]
    inline = get(bucket.res.props, "policy")
    if inline is not MISSING and not policies:
        policies.append((inline, f"{bucket.res.label} policy", bucket.res.urn))
    if not policies:
        return _missing(bucket, "policy", s, c, "no bucket policy denying requests without TLS")
    problems = []
    for document, label, urn in policies:
        if not c.known(document, f"the policy of {label}", urn):
            return None
        if not isinstance(document, str):
            problems.append(f"{label} has no policy text")
            continue
        try:
            if _tls_only(document, bucket):
                return None
        except iam_policy.PolicyError as error:
            problems.append(f"{label}: {error}")
    return "no bucket policy statement denies requests without TLS (Deny, Principal *, s3:*, the bucket and " \
           f"its objects, Condition Bool {SECURE_TRANSPORT} false)" + (f"; {'; '.join(problems)}" if problems else "")


def _versioning(bucket: Bucket, s: Stores, c: Check) -> str | None:
    if not c.config["requireVersioning"]:
        return None
    statuses = []
    for config in bucket.linked("versioning"):
        status = get(config.props, "versioningConfiguration", "status")
        if not c.known(status, f"versioningConfiguration.status of {config.label}", config.urn):
            return None
        statuses.append(status)
    inline = get(bucket.res.props, "versioning", "enabled") if not statuses else MISSING
    if inline is UNKNOWN:
        c.unknown(f"versioning.enabled of {bucket.res.label}", bucket.res.urn)
        return None
    if "Enabled" in statuses or flag(inline) is True:
        return None
    if statuses:
        return f"versioning is {short(statuses[0])}, not Enabled"
    return _missing(bucket, "versioning", s, c, "versioning is off (add a BucketVersioning with status Enabled)")


def _check_bucket(bucket: Bucket, s: Stores, c: Check) -> None:
    problems = [p for p in (_sse(bucket, s, c), _public_access(bucket, s, c), _tls(bucket, s, c),
                            _versioning(bucket, s, c)) if p]
    if problems:
        c.violation(f"{bucket.res.label} ({short(bucket.name) if bucket.name is not MISSING else 'autonamed'}): "
                    f"{'; '.join(problems)}", bucket.res.urn)


def _check(stack: Stack, c: Check) -> None:
    found = stores(stack, c)
    if not found.buckets and not found.repositories:
        c.not_applicable("the stack creates no ECR repository and no S3 bucket")
    for repo in found.repositories:
        _check_repository(repo, found, c)
    for bucket in found.buckets:
        _check_bucket(bucket, found, c)


ARTIFACT_STORE_HARDENING = stack_rule(
    name="artifact-store-hardening",
    description="ECR repositories have immutable tags, scan images (on push or by a matching registry scanning rule) "
                "and encrypt with KMS; S3 buckets encrypt with SSE-KMS and the bucket key, block all public access, "
                "deny requests without TLS by bucket policy and keep versions.",
    severity=Severity.HIGH,
    remediation="Create model stores with the ModelStore component (modelStore in the stack config), which sets all "
                "of these; for a hand-made store set imageTagMutability IMMUTABLE, imageScanningConfiguration."
                "scanOnPush, encryptionConfigurations KMS, and give the bucket a BucketServerSideEncryptionConfiguration "
                "(aws:kms, bucketKeyEnabled), a BucketPublicAccessBlock (all four true), a BucketPolicy denying "
                "aws:SecureTransport false and a BucketVersioning (Enabled), each naming the bucket.",
    check=_check,
    settings_=(Setting("repositoryEncryption", {"type": "string", "enum": ["KMS", "AES256"]}, "KMS",
                       "The weakest accepted ECR encryption: KMS (KMS or KMS_DSSE), or AES256 (ECR's default)."),
               Setting("bucketEncryption", {"type": "string", "enum": ["aws:kms", "AES256"]}, "aws:kms",
                       "The weakest accepted S3 default encryption: aws:kms (SSE-KMS or DSSE-KMS), or AES256 "
                       "(SSE-S3, what S3 applies when nothing is configured)."),
               Setting("requireBucketKey", {"type": "boolean"}, True, "Require bucketKeyEnabled with SSE-KMS."),
               Setting("requireVersioning", {"type": "boolean"}, True, "Require bucket versioning Enabled.")),
    framework=aws_config_rules("ECR_PRIVATE_TAG_IMMUTABILITY_ENABLED, ECR_PRIVATE_IMAGE_SCANNING_ENABLED, "
                               "ECR_KMS_ENCRYPTION_1, S3_DEFAULT_ENCRYPTION_KMS, S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED, "
                               "S3_BUCKET_SSL_REQUESTS_ONLY, S3_BUCKET_VERSIONING_ENABLED"),
    tags=["security", "supply-chain"],
)

POLICIES = [ARTIFACT_STORE_HARDENING]

__all__ = ["ARTIFACT_STORE_HARDENING", "POLICIES"]
