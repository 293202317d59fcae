"""What a policy pack reports and how preflight holds it: levels and severities, each policy's metadata,
the pack's info, the reconciled config entries, violations, remediations and a run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


def engine_level(value: Any) -> str:
    """A diagnostic's level as the engine shows it: a violation left after remediation, or of a stack
    policy at ``remediate``, is mandatory (pulumi/pulumi pkg/resource/deploy/analyze_snapshot.go
    ``analyzeResource``, step_generator.go ``AnalyzeResources``)."""
    level = LEVELS.get(value, "advisory")
    return "mandatory" if level == "remediate" else level


class PolicyPackError(Exception):
    """The pack cannot run (missing, broken, bad config): one clear message, no traceback."""


@dataclass
class PolicyConfig:
    level: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyMeta:
    name: str
    description: str
    level: str
    severity: str
    kind: str
    """'resource' or 'stack'."""
    remediation: str
    framework: dict[str, str]
    tags: tuple[str, ...]
    config_schema: dict[str, Any]
    required: tuple[str, ...] = ()
    display_name: str = ""


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyMeta, ...]
    initial_config: dict[str, PolicyConfig]
    reported_version: str = ""
    """The version the pack itself reports (pulumi-policy's Python SDK always says 0.0.1)."""

    def policy(self, name: str) -> PolicyMeta | None:
        return next((p for p in self.policies if p.name == name), None)

    def shown(self, message: str) -> str:
        """A message as the CLI shows it: the SDK's "can't run policy ... from policy pack
        'name@v0.0.1'" names the version PulumiPolicy.yaml gives."""
        if self.reported_version and self.reported_version != self.version:
            return message.replace(f"@v{self.reported_version}'", f"@v{self.version}'")
        return message


@dataclass(frozen=True)
class Violation:
    pack: str
    version: str
    policy: str
    level: str
    urn: str
    message: str
    severity: str = ""

    def as_json(self) -> dict[str, str]:
        return {"pack": self.pack, "policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


@dataclass(frozen=True)
class Remediation:
    """One remediation of one resource: the policy and what it changed (secrets shown as ``[secret]``)."""

    pack: str
    version: str
    policy: str
    urn: str
    changes: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {"pack": self.pack, "policy": self.policy, "urn": self.urn, "changes": list(self.changes)}


@dataclass
class PolicyRun:
    pack: PackInfo
    config: dict[str, PolicyConfig]
    violations: list[Violation] = field(default_factory=list)
    not_applicable: list[dict[str, str]] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    """In the order the pack made them (a resource's remediations apply one after another)."""
    logs: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def collect(self, response: Any, default_urn: str) -> None:
        """An ``Analyze`` or ``AnalyzeStack`` response: its diagnostics (``default_urn`` when one names
        no resource) and its not-applicable answers, each once."""
        info = self.pack
        for d in response.diagnostics:
            message = d.message
            if d.description and message.startswith(d.description + "\n"):
                message = message[len(d.description) + 1:]
            self.violations.append(Violation(
                pack=d.policyPackName or info.name, version=info.version, policy=d.policyName,
                level=engine_level(d.enforcementLevel), urn=d.urn or default_urn, message=info.shown(message),
                severity=SEVERITIES.get(d.severity, "") or (info.policy(d.policyName) or NO_META).severity))
        for item in response.not_applicable:
            entry = {"policy": item.policy_name, "reason": item.reason}
            if entry not in self.not_applicable:
                self.not_applicable.append(entry)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level != "mandatory"]


NO_META = PolicyMeta(name="", description="", level="", severity="", kind="", remediation="", framework={}, tags=(),
                      config_schema={})


def pack_info(response: Any, yaml_version: str) -> PackInfo:
    policies = []
    for p in response.policies:
        framework = {k: getattr(p.framework, k) for k in ("name", "version", "reference", "specification")
                     if getattr(p.framework, k)}
        policies.append(PolicyMeta(
            name=p.name, description=p.description, level=LEVELS.get(p.enforcementLevel, "advisory"),
            severity=SEVERITIES.get(p.severity, ""),
            kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            remediation=p.remediation_steps, framework=framework, tags=tuple(p.tags),
            config_schema=json_format.MessageToDict(p.configSchema.properties),
            required=tuple(p.configSchema.required), display_name=p.displayName,
        ))
    initial = {name: PolicyConfig(level=LEVELS.get(cfg.enforcementLevel), properties=json_format.MessageToDict(cfg.properties))
               for name, cfg in response.initialConfig.items()}
    return PackInfo(name=response.name, version=yaml_version or response.version, description=response.description,
                    policies=tuple(policies), initial_config=initial, reported_version=response.version)
