"""Shared building blocks of the stack config contract: the model base and reusable field types."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from ai_platform_finops.quantity import quantity
from ai_platform_finops.tags import label_key_problem, label_value_problem


class ConfigModel(BaseModel):
    """Stack files use Pulumi's camelCase keys; unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=False,
        # A field's docstring is its description: the generated reference (docs/config.md) reads it.
        use_attribute_docstrings=True,
    )


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    LOCAL = "local"


_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name; use 1-63 lowercase letters, digits or '-', "
            "starting and ending alphanumeric (a Kubernetes DNS-1123 label)"
        )
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    problems = [p for k, v in value.items() for p in (label_key_problem(k), label_value_problem(v)) if p]
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _quantity(value: str) -> str:
    number = quantity(value)
    if number is None or number < 0 or value != value.strip():
        raise ValueError(
            f"{value!r} is not a Kubernetes quantity; use e.g. '500m', '2', '16Gi'"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
"""A Kubernetes object name: also used for node pools, projects and services."""

K8sLabels = Annotated[dict[str, str], AfterValidator(_labels)]
"""A label map Kubernetes would accept."""

Quantity = Annotated[str, AfterValidator(_quantity)]
"""A Kubernetes resource quantity such as '500m' or '16Gi'."""


def quantity_value(value: str) -> float:
    """The numeric value of a validated quantity (cpu in cores, memory in bytes)."""
    number = quantity(value)
    if number is None:
        raise ValueError(f"not a quantity: {value!r}")
    return number
