"""``Remediate`` as the engine calls it, and what each remediation changed.

The engine's step generator (pulumi/pulumi pkg/resource/deploy/step_generator.go, the "first pass"
before ``analyzeAll``) sends every registered resource to each pack's ``Remediate`` right after the
provider's ``Check`` and before ``Analyze``, with the same request as ``Analyze`` (inputs, options,
provider). Each remediation in the response, in order, replaces the resource's inputs with its
properties (``new.Inputs``): ``Analyze`` then judges those, the provider plans from them, and so the
outputs ``AnalyzeStack`` gets follow them. A remediation carrying a diagnostic changes nothing and is
shown as an advisory violation; a pack that does not implement ``Remediate`` (UNIMPLEMENTED) is
skipped (pkg/resource/plugin/analyzer_plugin.go). The display shows each remediation as a diff of
the properties before and after it (pkg/backend/display/diff.go ``renderDiffPolicyRemediationEvent``).

pulumi-policy's ``Remediate`` (sdk/python/lib/pulumi_policy/policy.py) runs only the resource policies
whose level is ``remediate``, so a pack configured without one answers every call with nothing: preflight
calls ``Remediate`` only when some policy is at ``remediate``, which gives the same result without a
round trip per resource. Its ``not_applicable`` answers reach only the policy summary the CLI sends to
Pulumi Cloud, never the display, so they are not reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from ..engine import REDACTED, SECRET_SIG, SIG_KEY, RecordedResource, redact_secrets
from .requests import struct
from .results import PackInfo, Remediation, Violation

_ABSENT = object()
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def _opens(value: Any) -> bool:
    """A non-empty object that is not a secret: its leaves are listed one by one."""
    return isinstance(value, dict) and bool(value) and not _secret(value)


def _path(parts: tuple[str | int, ...]) -> str:
    """A property path as Pulumi writes one: ``metadata.labels["ai-platform/owner"]``, ``tags[3]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _shown(value: Any) -> Any:
    return {SIG_KEY: SECRET_SIG, "value": REDACTED} if _secret(value) else redact_secrets(value)


def changes(before: Any, after: Any, parts: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """What changed from ``before`` to ``after``, leaf by leaf (an added object or list by each of its
    leaves): each ``{"path", "change": added | removed | changed, "before"?, "after"?}``. A secret is one
    leaf: its content is never shown."""
    if before is not _ABSENT and after is not _ABSENT and before == after:
        return []
    # An added or removed object or list counts as its leaves, so every key added is named.
    old = {} if before is _ABSENT and _opens(after) else [] if before is _ABSENT and isinstance(after, list) and after \
        else before
    new = {} if after is _ABSENT and _opens(before) else [] if after is _ABSENT and isinstance(before, list) and before \
        else after
    if isinstance(old, dict) and isinstance(new, dict) and not _secret(old) and not _secret(new):
        found: list[dict[str, Any]] = []
        for key in [*new, *(k for k in old if k not in new)]:
            found += changes(old.get(key, _ABSENT), new.get(key, _ABSENT), (*parts, key))
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            found += changes(old[index] if index < len(old) else _ABSENT,
                             new[index] if index < len(new) else _ABSENT, (*parts, index))
        return found
    entry: dict[str, Any] = {"path": _path(parts)}
    if before is _ABSENT:
        entry.update(change="added", after=_shown(after))
    elif after is _ABSENT:
        entry.update(change="removed", before=_shown(before))
    else:
        entry.update(change="changed", before=_shown(before), after=_shown(after))
    return [entry]


def rebase(current: Any, old: Any, new: Any) -> Any:
    """``current`` (outputs planned from the ``old`` inputs) as planned from the ``new`` inputs: where
    an output echoes its input it takes the new input; what the provider computed stays."""
    if current == old:
        return new
    if isinstance(current, dict) and isinstance(old, dict) and isinstance(new, dict) and not _secret(current):
        result = {k: rebase(v, old.get(k), new.get(k)) if k in new else v
                  for k, v in current.items() if k in new or k not in old or v != old[k]}
        result.update({k: v for k, v in new.items() if k not in current and (k not in old or v != old[k])})
        return result
    if isinstance(current, list) and isinstance(old, list) and isinstance(new, list) \
            and len(current) == len(old) == len(new):
        return [rebase(c, o, n) for c, o, n in zip(current, old, new)]
    return current


def apply(resource: RecordedResource, inputs: dict[str, Any]) -> None:
    """Make ``inputs`` the resource's inputs, as the engine records a remediation, and plan its
    outputs from them."""
    outputs = resource.output_properties
    old, resource.inputs = resource.inputs, inputs
    resource.outputs = None if resource.outputs is None else rebase(outputs, old, inputs)


@dataclass
class Remediator:
    """Calls ``Remediate`` for each resource before its ``Analyze``: ``call`` sends the request and
    returns the response, or None when the pack does not implement it."""

    info: PackInfo
    call: Callable[[Any], Any]
    remediations: list[Remediation] = field(default_factory=list)
    diagnostics: list[Violation] = field(default_factory=list)
    fixed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The remediated inputs by URN."""
    _implemented: bool = True

    def remediate(self, resource: RecordedResource, request: Any, structs: dict[str, Any] | None) -> None:
        """Remediate ``resource``; when something changed, its inputs, ``structs`` entry and the
        ``Analyze`` ``request`` (built for it) carry the remediated properties."""
        if not self._implemented:
            return
        response = self.call(request)
        if response is None:
            self._implemented = False
            return
        inputs = resource.inputs
        for item in response.remediations:
            if item.diagnostic:
                self.diagnostics.append(Violation(
                    pack=item.policyPackName or self.info.name, version=self.info.version, policy=item.policyName,
                    level="advisory", urn=resource.urn, message=self.info.shown(item.diagnostic)))
            elif item.HasField("properties"):
                after = redact_secrets(json_format.MessageToDict(item.properties))
                found = changes(inputs, after)
                if found:
                    self.remediations.append(Remediation(item.policyPackName or self.info.name, self.info.version,
                                                         item.policyName, resource.urn, tuple(found)))
                inputs = after
        if inputs is resource.inputs:
            return
        apply(resource, inputs)
        self.fixed[resource.urn] = inputs
        properties = struct(inputs)
        if structs is not None:
            structs[resource.urn] = properties
            structs.pop("provider:" + resource.urn, None)
        request.properties.CopyFrom(properties)

    def carry(self, resources: list[RecordedResource]) -> None:
        """Give remediated inputs to another record of the same resource (a default provider is built
        again for the stack's request)."""
        for resource in resources:
            inputs = self.fixed.get(resource.urn)
            if inputs is not None and resource.inputs is not inputs:
                apply(resource, inputs)


def remediates(config: Mapping[str, Any]) -> bool:
    """Whether any policy is configured at ``remediate`` (else the SDK remediates nothing)."""
    return any(getattr(item, "level", None) == "remediate" for item in config.values())


__all__ = ["Remediator", "apply", "changes", "rebase", "remediates"]
