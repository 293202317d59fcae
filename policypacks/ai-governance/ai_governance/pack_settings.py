"""The pack-wide settings every rule runs with.

The org settings (environment, FinOps tag prefix, governance annotation prefix) come from the
stack's own config, which the CLI passes to every pack as ``PULUMI_CONFIG``. The policy config's
``"all"`` entry holds ``unknownValues`` and the reference date, and may pin an org setting; a pin
that disagrees with the stack stops ``Configure`` with one error (``install_sdk_hooks``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ai_platform_finops.org import conflict_message, decoded, governance_prefix_for, org_settings, pin_conflicts
from ai_platform_finops.tags import DEFAULT_PREFIX

from . import sdk_hooks
from .props import Marker
from .sdk_hooks import PACK_CONFIG

PACK_NAME = "ai-governance"

ENVIRONMENTS = ("dev", "staging", "prod", "local")
UNKNOWN_LEVELS = ("advisory", "mandatory", "disabled")

AS_OF_ENV = "AI_GOVERNANCE_AS_OF"
"""Pins the reference date when the config has no ``asOf`` (reproducible runs: tests, re-run CI jobs)."""

PACK_SETTINGS_SCHEMA: dict[str, dict[str, Any]] = {
    "environment": {"type": "string", "enum": list(ENVIRONMENTS),
                    "description": "Pins the stack's environment ('outside prod' and 'in prod' rules key on it); the stack's environment is the source."},
    "unknownValues": {"type": "string", "enum": list(UNKNOWN_LEVELS),
                      "description": "What a value unknown at preview means for a rule that needs it."},
    "tagPrefix": {"type": "string", "description": "Pins the FinOps tag/label prefix; the stack's finops.tagPrefix is the source."},
    "governancePrefix": {"type": "string",
                         "description": "Pins the governance annotation prefix; the stack's finops.governancePrefix (default governance.<domain of tagPrefix>) is the source."},
    "asOf": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
             "description": "The date expiry and age checks use (default: $AI_GOVERNANCE_AS_OF, else today, UTC)."},
}
"""The pack-wide settings of the policy config's top-level ``"all"`` entry."""


@dataclass(frozen=True)
class PackSettings:
    environment: str
    unknown_values: str
    tag_prefix: str
    governance_prefix: str
    as_of: dt.date

    def governance_key(self, name: str) -> str:
        return f"{self.governance_prefix}/{name}"


@functools.lru_cache(maxsize=4)
def _stack_config(raw: str) -> dict[str, Any]:
    try:
        config = json.loads(raw or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def stack_config() -> dict[str, Any]:
    """The stack's own config as the CLI passes it to packs (``PULUMI_CONFIG``: ``project:key`` -> string)."""
    return _stack_config(os.environ.get("PULUMI_CONFIG") or "")


def stack_config_value(key: str) -> Any:
    """One value of the stack's config, structured values decoded; None when absent."""
    return decoded(stack_config().get(key))


def stack_org_settings() -> dict[str, str]:
    """The org settings the stack's config sets (tag prefix, governance prefix, environment)."""
    return org_settings(stack_config(), os.environ.get("PULUMI_PROJECT", ""))


def pin_problem(pins: Mapping[str, Any]) -> str | None:
    """Why the policy config's ``"all"`` entry cannot be used with this stack: a pinned org setting
    that disagrees with the stack's config (one message naming both), or None."""
    conflicts = pin_conflicts(pins, stack_org_settings())
    if not conflicts:
        return None
    stack = os.environ.get("PULUMI_STACK", "<stack>")
    return conflict_message(conflicts, "the policy pack config (--policy-pack-config)",
                            f"the stack config (Pulumi.{stack}.yaml)", os.environ.get("PULUMI_PROJECT", ""))


def pack_config_file() -> str:
    """This stack's policy config by the repository's convention (the CLI does not tell a pack its file)."""
    return f"policypacks/ai-governance/config/{os.environ.get('PULUMI_STACK') or '<stack>'}.json"


def install_sdk_hooks() -> None:
    """Install the pack's pinned pulumi-policy hooks (``sdk_hooks``); SystemExit when they cannot."""
    sdk_hooks.install(pin_problem)


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def finops_stack_setting(name: str) -> Any:
    """A value of the stack's own ``<project>:finops`` config (the CLI passes stack config to packs)."""
    finops = stack_config_value(f"{os.environ.get('PULUMI_PROJECT', '')}:finops")
    return finops.get(name) if isinstance(finops, dict) else None


def settings(policy_config: Mapping[str, Any] | None = None) -> PackSettings:
    """The pack-wide settings, with the rule's own ``unknownValues`` override applied.

    The org settings come from the stack's config; a pin in the ``"all"`` entry only fills in what
    the stack does not set (``Configure`` has already refused a pin that disagrees). Within one
    gRPC call they cannot change, so every rule of the call shares one computation per override.
    """
    override = (policy_config or {}).get("unknownValues", _NO_OVERRIDE)
    entries = getattr(sdk_hooks.CALL, "entries", None)
    if entries is None or not isinstance(override, (str, Marker)):
        return _settings(override)
    key = ("settings", override)
    found = entries.get(key)
    if found is None:
        found = entries[key] = _settings(override)
    return found


_NO_OVERRIDE: Any = Marker("<no override>")


def _settings(override: Any) -> PackSettings:
    raw = PACK_CONFIG.all()
    org = stack_org_settings()
    environment = org.get("environment") or raw.get("environment")
    if environment not in ENVIRONMENTS:
        stack = os.environ.get("PULUMI_STACK", "")
        environment = stack if stack in ENVIRONMENTS else "prod"  # unknown environment: the strictest rules
    unknown_values = raw.get("unknownValues") if override is _NO_OVERRIDE else override
    if unknown_values not in UNKNOWN_LEVELS:
        unknown_values = "mandatory"  # fail closed
    pinned_prefix = raw.get("tagPrefix")
    tag_prefix = org.get("tagPrefix") or (pinned_prefix if isinstance(pinned_prefix, str) and pinned_prefix
                                          else DEFAULT_PREFIX)
    pinned_governance = raw.get("governancePrefix")
    governance_prefix = org.get("governancePrefix") or (
        pinned_governance if isinstance(pinned_governance, str) and pinned_governance
        else governance_prefix_for(tag_prefix))
    as_of = (_parse_date(raw.get("asOf")) or _parse_date(os.environ.get(AS_OF_ENV))
             or dt.datetime.now(dt.timezone.utc).date())
    return PackSettings(str(environment), str(unknown_values), tag_prefix, governance_prefix, as_of)
