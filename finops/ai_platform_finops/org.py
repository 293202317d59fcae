"""The org settings: where the FinOps tag prefix, the governance prefix and the environment live.

The stack's config is their one home (``<project>:finops.tagPrefix``, ``.governancePrefix`` and
``<project>:environment``). The program reads them there; the policy pack reads the same values
from ``PULUMI_CONFIG``, the stack config the Pulumi CLI (and preflight) hands every pack. A pack
config may still pin them in its ``"all"`` entry; a pin that disagrees with the stack is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .tags import DEFAULT_PREFIX

ORG_KEYS = ("tagPrefix", "governancePrefix", "environment")
"""The pack-config keys that may pin an org setting."""


def governance_prefix_for(tag_prefix: str) -> str:
    """``governance.<domain>``: finops.example.com -> governance.example.com."""
    domain = tag_prefix.split(".", 1)[1] if tag_prefix.startswith("finops.") and "." in tag_prefix else tag_prefix
    return f"governance.{domain}"


def decoded(value: Any) -> Any:
    """A flat config value as the program reads it: structured values are JSON text."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def org_settings(config: Mapping[str, Any], project: str) -> dict[str, str]:
    """The org settings a stack's flat config (``project:key`` -> string or value) sets or implies.

    A ``finops`` section without ``tagPrefix`` means the program's default prefix; a setting the
    config does not mention at all is left out (the caller decides).
    """
    found: dict[str, str] = {}
    environment = config.get(f"{project}:environment")
    if isinstance(environment, str) and environment:
        found["environment"] = environment
    finops = decoded(config.get(f"{project}:finops"))
    if isinstance(finops, Mapping):
        prefix = finops.get("tagPrefix")
        tag_prefix = prefix if isinstance(prefix, str) and prefix else DEFAULT_PREFIX
        governance = finops.get("governancePrefix")
        found["tagPrefix"] = tag_prefix
        found["governancePrefix"] = (governance if isinstance(governance, str) and governance
                                     else governance_prefix_for(tag_prefix))
    return found


STACK_KEYS = {"tagPrefix": "finops.tagPrefix", "governancePrefix": "finops.governancePrefix",
              "environment": "environment"}
"""Where each org setting sits in the stack config (under the project's namespace)."""


def pin_conflicts(pins: Mapping[str, Any], stack: Mapping[str, str]) -> list[tuple[str, Any, str]]:
    """(key, pinned value, stack value) for every pinned org setting the stack sets differently."""
    return [(key, pins[key], stack[key]) for key in ORG_KEYS
            if key in pins and key in stack and pins[key] != stack[key]]


def conflict_message(conflicts: list[tuple[str, Any, str]], pack_config: str, stack_file: str, project: str) -> str:
    """One error naming both files; the stack config is the source of truth."""
    lines = [f"{pack_config}: all.{key}: {pinned!r} disagrees with {stack_file}: {project}:{STACK_KEYS[key]} "
             f"{value!r}; the stack config is where org settings live: remove the pin or make them equal"
             for key, pinned, value in conflicts]
    return "\n".join(lines)
