"""The inference workloads responsible-AI rules judge, each with its governance facts (annotations
under the governance prefix) and containers."""

from __future__ import annotations

import re
from typing import Any

from ai_platform_finops.governance import EVAL_DATE, EVAL_METRIC_PREFIX

from . import k8s
from .framework import Check
from .props import MISSING, UNKNOWN
from .resources import Res, Stack

RISK_TIERS = ("minimal", "limited", "high")
CLASSIFICATIONS = ("public", "internal", "confidential", "pii")
HTTPS_URL = re.compile(r"^https://[^\s/$.?#][^\s]*$")
CONTACT = re.compile(r"^([^@\s]+@[^@\s]+\.[^@\s]+|[a-z0-9][a-z0-9._-]{2,})$", re.IGNORECASE)


class Model:
    """One inference workload's governance facts, read from its annotations and containers."""

    def __init__(self, res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
        self.res = res
        self.tpl = tpl
        self.c = c
        self.annotations, self.unknown_keys = k8s.governance_annotations(res, tpl)

    def key(self, name: str) -> str:
        return self.c.settings.governance_key(name)

    @property
    def label(self) -> str:
        return self.res.label if self.tpl.values_path is None else f"{self.res.label} ({self.tpl.values_path})"

    def fact(self, name: str) -> Any:
        """The annotation's value, UNKNOWN (recorded) or MISSING; a Patch that leaves it out keeps
        the live object's, which is UNKNOWN here (not recorded: the Patch does not change it)."""
        key = self.key(name)
        if key in self.annotations:
            return self.annotations[key]
        if key in self.unknown_keys or "*" in self.unknown_keys:
            self.c.unknown(f"annotation {key}")
            return UNKNOWN
        return UNKNOWN if self.tpl.partial else MISSING

    def metrics(self) -> dict[str, str]:
        prefix = self.key(EVAL_METRIC_PREFIX)
        date_key, report_key = self.key(EVAL_DATE), self.key("eval-report")
        return {k[len(prefix):]: v for k, v in self.annotations.items()
                if k.startswith(prefix) and k not in (date_key, report_key)}


def inference_models(res: Res, c: Check) -> list[Model]:
    """The inference workloads a resource carries (every shape, through ``k8s.rule_templates``:
    an unknown kind with a pod template fails closed; a Patch that may change a model's
    containers without saying whether it serves one cannot be verified)."""
    models = []
    for tpl in k8s.rule_templates(res, c):
        if k8s.inference_unknown(res, tpl, c.settings):
            c.unknown(f"whether {res.label} serves a model (a Patch setting containers without "
                      f"{tpl.field('metadata', 'labels')} app.kubernetes.io/component)")
        elif k8s.is_inference(res, tpl, c.settings):
            models.append(Model(res, tpl, c))
    return models


def stack_models(stack: Stack, c: Check) -> list[Model]:
    """Every inference workload of the stack (stack rules; kinds the pack cannot read are reported by
    the resource rules)."""
    return [Model(res, tpl, c) for res, tpl in k8s.stack_templates(stack) if k8s.is_inference(res, tpl, c.settings)]


INFERENCE_TYPES = k8s.may_carry_pods


_IMAGE = re.compile(
    r"^(?P<repo>(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def parse_image(image: str) -> tuple[str, str | None, str | None] | None:
    """(fully qualified repository, tag, digest); docker.io/library is filled in as Docker does."""
    match = _IMAGE.match(image.strip())
    if not match:
        return None
    repo = match.group("repo")
    first = repo.split("/", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif not ("." in first or ":" in first or first == "localhost"):
        repo = f"docker.io/{repo}"
    return repo, match.group("tag"), match.group("digest")


__all__ = ["CLASSIFICATIONS", "CONTACT", "HTTPS_URL", "INFERENCE_TYPES", "RISK_TIERS", "Model", "inference_models",
           "parse_image", "stack_models"]
