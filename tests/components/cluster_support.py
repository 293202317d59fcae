"""Shared, cached recordings of the unedited stacks for the cluster-side component tests.

Each ``preview()`` runs the whole program (~0.5 s); the cluster, node pool, network and add-on
tests read the same four recordings, so they are taken once per test session.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pytest

from components.config import ConfigError, StackConfig, validate_flat_config
from preflight.engine import Recording, RecordedResource
from tests.support import ConfigEdit, recorded, stack_source  # noqa: F401 (recorded: re-exported)

P = "ai-platform:"


@lru_cache(maxsize=None)
def config(stack: str) -> StackConfig:
    source = stack_source(stack)
    return validate_flat_config(source.config, source.project, source.source)


def errors(stack: str, edit: ConfigEdit) -> list[str]:
    """The lines of the ConfigError ``edit`` causes (preflight and the program share the validator)."""
    source = stack_source(stack, edit)
    with pytest.raises(ConfigError) as caught:
        validate_flat_config(source.config, source.project, source.source)
    return str(caught.value).splitlines()


def of_type(recording: Recording, type_: str) -> list[RecordedResource]:
    return [r for r in recording.resources if r.type == type_]


def by_name(recording: Recording, type_: str) -> dict[str, RecordedResource]:
    return {r.name: r for r in of_type(recording, type_)}


def provider_urn(reference: str) -> str:
    """The URN part of a provider reference (``<urn>::<id>``)."""
    urn, _, _ = reference.rpartition("::")
    return urn


def pool(config_dict: dict[str, Any], name: str) -> dict[str, Any]:
    """The stack-file dict of node pool ``name`` (for edits)."""
    return next(p for p in config_dict[P + "nodePools"] if p["name"] == name)
