"""The FinOps tag contract: one source for AWS tags and Kubernetes labels.

Every billable thing ai-platform creates carries the same five keys under one prefix
(``<prefix>/cost-center``, ``/project``, ``/environment``, ``/tier``, ``/owner``). The same
builder yields the AWS tag map and the Kubernetes label map, so the bill and the cluster never
disagree. The syntax checks follow the published limits:

- AWS tags: key 1-128 and value 0-256 Unicode characters of letters, digits, spaces and
  ``_ . : / = + - @``; keys may not start with ``aws:``
  (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
- Kubernetes labels: ``[prefix/]name``, name 1-63 characters ``[A-Za-z0-9._-]`` with alphanumeric
  ends, prefix a DNS subdomain of at most 253 characters; value 0-63 characters, same charset,
  alphanumeric ends (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

STANDARD_KEYS: tuple[str, ...] = ("cost-center", "project", "environment", "tier", "owner")
DEFAULT_PREFIX = "finops.example.com"

# Always used with fullmatch: `$` would also match before a trailing newline.
_AWS_TAG_CHARS = re.compile(r"[\w .:/=+\-@]*", re.UNICODE)
_K8S_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?")
_K8S_VALUE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?")
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def aws_tag_key_problem(key: str) -> str | None:
    """Why AWS would reject ``key`` as a tag key, or None when it is valid."""
    if not 1 <= len(key) <= 128:
        return f"tag key {key!r} must be 1-128 characters"
    if key.lower().startswith("aws:"):
        return f"tag key {key!r} may not start with 'aws:' (reserved by AWS)"
    if not _AWS_TAG_CHARS.fullmatch(key):
        return f"tag key {key!r} may only hold letters, digits, spaces and _ . : / = + - @"
    return None


def aws_tag_value_problem(value: str) -> str | None:
    """Why AWS would reject ``value`` as a tag value, or None when it is valid."""
    if len(value) > 256:
        return f"tag value {value[:40]!r}... is longer than 256 characters"
    if not _AWS_TAG_CHARS.fullmatch(value):
        return f"tag value {value!r} may only hold letters, digits, spaces and _ . : / = + - @"
    return None


def dns_subdomain_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a DNS subdomain (RFC 1123), as a label-key prefix must be."""
    if not 1 <= len(prefix) <= 253:
        return f"{prefix!r} must be a DNS subdomain of 1-253 characters"
    for part in prefix.split("."):
        if not _DNS_LABEL.fullmatch(part):
            return (
                f"{prefix!r} is not a DNS subdomain: each dot-separated part must be 1-63 "
                "lowercase letters, digits or '-', starting and ending alphanumeric"
            )
    return None


def label_key_problem(key: str) -> str | None:
    """Why Kubernetes would reject ``key`` as a label key, or None when it is valid."""
    prefix, _, name = key.rpartition("/")
    if prefix:
        problem = dns_subdomain_problem(prefix)
        if problem:
            return f"label key {key!r}: prefix {problem}"
    if not _K8S_NAME.fullmatch(name):
        return (
            f"label key {key!r}: name must be 1-63 characters of letters, digits, '-', '_' or '.', "
            "starting and ending alphanumeric"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why Kubernetes would reject ``value`` as a label value, or None when it is valid."""
    if not _K8S_VALUE.fullmatch(value):
        return (
            f"label value {value!r} must be at most 63 characters of letters, digits, '-', '_' or "
            "'.', starting and ending alphanumeric"
        )
    return None


def tag_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a FinOps value (it is both an AWS tag value and a label value)."""
    if not value:
        return "must not be empty"
    return label_value_problem(value) or aws_tag_value_problem(value)


@dataclass(frozen=True)
class FinOpsTags:
    """The five FinOps facts of one resource, rendered as AWS tags or Kubernetes labels."""

    prefix: str
    cost_center: str
    project: str
    environment: str
    tier: str
    owner: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def values(self) -> dict[str, str]:
        return {
            "cost-center": self.cost_center,
            "project": self.project,
            "environment": self.environment,
            "tier": self.tier,
            "owner": self.owner,
        }

    def problems(self) -> list[tuple[str, str]]:
        """Every (field, reason) that would make AWS or Kubernetes reject these tags."""
        found: list[tuple[str, str]] = []
        problem = dns_subdomain_problem(self.prefix)
        if problem:
            found.append(("prefix", problem))
        for name, value in self.values().items():
            key = self.key(name)
            for check in (aws_tag_key_problem(key), label_key_problem(key)):
                if check and not problem:
                    found.append((name, check))
            check = tag_value_problem(value)
            if check:
                found.append((name, check))
        return found

    def aws_tags(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """AWS tags: the FinOps keys plus ``extra`` (extra never overrides a FinOps key)."""
        tags = dict(extra or {})
        tags.update({self.key(k): v for k, v in self.values().items()})
        return tags

    def k8s_labels(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Kubernetes labels: the FinOps keys plus ``extra`` (extra never overrides a FinOps key)."""
        labels = dict(extra or {})
        labels.update({self.key(k): v for k, v in self.values().items()})
        return labels

    def for_project(self, project: str, cost_center: str | None = None, owner: str | None = None) -> "FinOpsTags":
        """The same contract for another project (and optionally its own cost center/owner)."""
        return FinOpsTags(
            prefix=self.prefix,
            cost_center=cost_center or self.cost_center,
            project=project,
            environment=self.environment,
            tier=self.tier,
            owner=owner or self.owner,
        )


def required_keys(prefix: str) -> list[str]:
    """The full tag/label keys every billable resource must carry under ``prefix``."""
    return [f"{prefix}/{name}" for name in STANDARD_KEYS]
