"""The rule framework: a rule is a check function plus its metadata; ``resource_rule`` and
``stack_rule`` turn one into the SDK's policy.

- **Unknown values.** When a field a rule needs is unknown, the rule records "cannot verify
  <field> at preview". ``Check.finish`` then applies the pack-wide ``unknownValues`` setting:
  ``mandatory`` reports it as a violation of the rule (at the rule's level: it blocks wherever the
  rule blocks), ``advisory`` reports an advisory note whatever the rule's level (the SDK's one
  advisory channel, used deliberately with the rule's own message), ``disabled`` drops it. No rule
  lets an unknown escape into the SDK's catch-all, which would downgrade it to advisory even in prod.
- **Settings.** Every rule setting has a default here and in its ``config_schema``; a rule's own
  config may override ``unknownValues``.
- **Fail closed.** A bug in a rule never breaks the gRPC call: it becomes a violation naming the
  error, at the rule's level.
- **One description shape.** Each description ends with the rule's severity, written from its
  ``severity`` field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceRemediation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from . import sdk_hooks
from .pack_settings import ENVIRONMENTS, UNKNOWN_LEVELS, PackSettings, settings
from .props import UNKNOWN
from .resources import Res, Stack, res_from_args, res_from_stack

# --- rule settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One rule setting: its JSON schema, its default and what it means."""

    name: str
    schema: dict[str, Any]
    default: Any
    description: str

    def json_schema(self) -> dict[str, Any]:
        return {**self.schema, "description": self.description, "default": self.default}


def _matches_schema_type(value: Any, schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "array":
        ok = isinstance(value, list)
    elif kind == "object":
        ok = isinstance(value, dict)
    else:
        ok = True
    if ok and "enum" in schema:
        ok = value in schema["enum"]
    return ok


class RuleConfig:
    """A rule's settings: the config's value when it has the declared type, else the default."""

    def __init__(self, declared: Sequence[Setting], given: Mapping[str, Any] | None) -> None:
        self._values: dict[str, Any] = {}
        given = given or {}
        for item in declared:
            value = given.get(item.name, item.default)
            self._values[item.name] = value if _matches_schema_type(value, item.schema) else item.default

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def strings(self, name: str) -> list[str]:
        return [v for v in self._values.get(name) or [] if isinstance(v, str)]

    def num(self, name: str) -> float:
        value = self._values[name]
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


ENVIRONMENTS_SETTING_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": list(ENVIRONMENTS)}}


def environments_setting(default: Sequence[str], what: str) -> Setting:
    return Setting("environments", ENVIRONMENTS_SETTING_SCHEMA, list(default),
                   f"Environments (pack setting 'environment') in which {what}.")


UNKNOWN_VALUES_SETTING = Setting(
    "unknownValues", {"type": "string", "enum": list(UNKNOWN_LEVELS)}, None,
    "Overrides the pack-wide unknownValues for this rule.",
)


# --- checks ---------------------------------------------------------------------------------------

class _NotApplicable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Check:
    """One evaluation of one rule: violations, unknowns and the settings it runs with."""

    def __init__(self, policy: str, report: ReportViolation, settings_: PackSettings, config: RuleConfig,
                 urn: str | None = None) -> None:
        self.policy = policy
        self.settings = settings_
        self.config = config
        self._report = report
        self._urn = urn
        self.unknowns: list[tuple[str, str | None]] = []
        self.advisories: list[str] = []
        self.violations = 0

    def violation(self, message: str, urn: str | None = None) -> None:
        self.violations += 1
        self._report(message, urn)

    def unknown(self, what: str, urn: str | None = None) -> None:
        """``what`` names the field, e.g. ``scalingConfig.maxSize`` or ``tags of LaunchTemplate x``."""
        item = (what, urn)
        if item not in self.unknowns:
            self.unknowns.append(item)

    def known(self, value: Any, what: str, urn: str | None = None) -> bool:
        """False (and the unknown recorded) when ``value`` is unknown."""
        if value is UNKNOWN:
            self.unknown(what, urn)
            return False
        return True

    def advise(self, message: str) -> None:
        """An advisory note whatever the rule's level: something the rule cannot look into (a Helm
        chart of unknown shape), said once, never a violation."""
        if message not in self.advisories:
            self.advisories.append(message)

    def not_applicable(self, reason: str) -> None:
        raise _NotApplicable(reason)

    def applies_in(self, environments: Sequence[str]) -> None:
        """Stop here (not applicable) outside ``environments``."""
        if self.settings.environment not in environments:
            raise _NotApplicable(f"applies only in {', '.join(environments)} (environment is {self.settings.environment})")

    def finish(self) -> None:
        notes = list(self.advisories)
        mode = self.settings.unknown_values
        if self.unknowns and mode == "mandatory":
            for what, urn in self.unknowns:
                self._report(f"cannot verify {what} at preview", urn)
        elif self.unknowns and mode == "advisory":
            notes = [f"cannot verify {what} at preview" for what, _ in self.unknowns] + notes
        if notes:
            # The one advisory channel the SDK offers a rule, used deliberately with our text.
            error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
            error.message = "; ".join(notes)
            raise error


def finops_framework(capability: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="FinOps Framework", version="2025", reference="https://www.finops.org/framework/capabilities/",
        specification=f"Capability: {capability}")


def eu_ai_act(article: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="EU AI Act", version="Regulation (EU) 2024/1689",
        reference="https://eur-lex.europa.eu/eli/reg/2024/1689/oj", specification=article)


def aws_config_rules(rules: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="AWS Config managed rules", reference="https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html",
        specification=rules)


ResourceCheck = Callable[[Res, Check], None]
StackCheck = Callable[[Stack, Check], None]
ResourceFix = Callable[[Res, Check], "Mapping[str, Any] | None"]
"""A remediation: the top-level properties to replace (plain values), or None for no change."""


def _schema(declared: Sequence[Setting]) -> PolicyConfigSchema:
    props = {s.name: s.json_schema() for s in declared}
    props[UNKNOWN_VALUES_SETTING.name] = {**UNKNOWN_VALUES_SETTING.schema, "description": UNKNOWN_VALUES_SETTING.description}
    return PolicyConfigSchema(properties=props)


def described(description: str, severity: Severity) -> str:
    """A rule's description as the engine shows it: ending with its severity."""
    return f"{description} Severity: {severity.value}."


def _internal_error(policy: str, error: BaseException) -> str:
    return f"internal error in rule {policy} ({type(error).__name__}: {str(error)[:200]}); treated as a violation"


def _run(policy: str, declared: Sequence[Setting], given: Mapping[str, Any], report: ReportViolation,
         urn: str | None, body: Callable[[Check], None], not_applicable: Callable[[str], None]) -> None:
    config = RuleConfig(declared, given)
    check = Check(policy, report, settings(given), config, urn)
    try:
        body(check)
    except _NotApplicable as exc:
        not_applicable(exc.reason)
        return
    except UnknownValueError as exc:
        # A rule read an unknown through the proxy: record it like any other unknown.
        check.unknown(".".join(str(p) for p in getattr(exc, "props", [])) or "a value")
    except Exception as exc:  # noqa: BLE001 - fail closed, never break the gRPC call
        check.violation(_internal_error(policy, exc), urn)
    check.finish()


def resource_rule(*, name: str, description: str, severity: Severity, remediation: str,
                  types: Sequence[str] | Callable[[str], bool] | None,
                  check: ResourceCheck, settings_: Sequence[Setting] = (),
                  framework: PolicyComplianceFramework | None = None, tags: Sequence[str] = (),
                  level: EnforcementLevel = EnforcementLevel.MANDATORY,
                  fix: ResourceFix | None = None) -> ResourceValidationPolicy:
    """A resource rule that runs ``check`` on resources of ``types`` only (anything else returns at
    once); ``types`` may be a predicate on the type token; ``types=None`` runs it on every resource.
    With ``fix``, the rule also remediates: under enforcement level ``remediate`` the engine calls it
    first and analyzes what it returns."""
    if callable(types):
        wanted: Callable[[str], bool] | None = types
    else:
        wanted = frozenset(types).__contains__ if types is not None else None
    declared = tuple(settings_)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if wanted is not None and not wanted(args.resource_type):
            return
        given = args.get_config() or {}
        _run(name, declared, given, report, None, lambda c: check(res_from_args(args), c), args.not_applicable)

    def remediate(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        if fix is None or (wanted is not None and not wanted(args.resource_type)):
            return None
        given = args.get_config() or {}
        check_ = Check(name, _no_report, settings(given), RuleConfig(declared, given))
        try:
            changes = fix(res_from_args(args), check_)
        except (_NotApplicable, UnknownValueError):
            return None
        if not changes:
            return None
        # The SDK's public remediation contract: write into args.props (its proxies keep a secret
        # property secret) and return it; the engine analyzes the result.
        props: Any = args.props
        for key, value in changes.items():
            props[key] = value
        return props

    return ResourceValidationPolicy(
        name=name, description=described(description, severity), validate=validate, enforcement_level=level,
        config_schema=_schema(declared), severity=severity, framework=framework, tags=list(tags),
        # The SDK's annotation says Awaitable, but its Remediate takes a plain return too (1.21).
        remediation_steps=remediation, remediate=cast(ResourceRemediation, remediate) if fix is not None else None,
    )


def _no_report(message: str, urn: str | None = None) -> None:
    """A remediation reports nothing: the Analyze that follows it does."""


def _call_stack(args: StackValidationArgs) -> Stack:
    """The indexed stack, built once per AnalyzeStack call and shared by every stack rule (read-only)."""
    entries = getattr(sdk_hooks.CALL, "entries", None)
    if entries is None:
        return Stack([res_from_stack(r) for r in args.resources])
    stack = entries.get(_STACK_KEY)
    if stack is None:
        stack = entries[_STACK_KEY] = Stack([res_from_stack(r) for r in args.resources])
    return stack


_STACK_KEY = ("stack",)


def stack_rule(*, name: str, description: str, severity: Severity, remediation: str, check: StackCheck,
               settings_: Sequence[Setting] = (), framework: PolicyComplianceFramework | None = None,
               tags: Sequence[str] = (), level: EnforcementLevel = EnforcementLevel.MANDATORY) -> StackValidationPolicy:
    declared = tuple(settings_)

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        given = args.get_config() or {}

        def body(c: Check) -> None:
            check(_call_stack(args), c)

        _run(name, declared, given, report, None, body, args.not_applicable)

    return StackValidationPolicy(
        name=name, description=described(description, severity), validate=validate, enforcement_level=level,
        config_schema=_schema(declared), severity=severity, framework=framework, tags=list(tags),
        remediation_steps=remediation,
    )
