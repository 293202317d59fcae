"""The machinery every ai-governance rule goes through.

- **Safe property access.** Policy ``props`` are the SDK's read-only proxies over the engine's
  camelCase inputs: numbers arrive as floats, a computed value is the engine's unknown marker and
  reading one through the proxy raises ``UnknownValueError``. ``get`` and friends never raise: they
  return the value, ``MISSING`` (absent, null or of the wrong shape) or ``UNKNOWN``. Rules read
  only the fields they need and decide themselves what an unknown means.
- **Unknown values.** When a field a rule needs is unknown, the rule records "cannot verify
  <field> at preview". ``Check.finish`` then applies the pack-wide ``unknownValues`` setting:
  ``mandatory`` reports it as a violation of the rule (at the rule's level: it blocks wherever the
  rule blocks), ``advisory`` reports an advisory note whatever the rule's level (the SDK's one
  advisory channel, used deliberately with the rule's own message), ``disabled`` drops it. No rule
  lets an unknown escape into the SDK's catch-all, which would downgrade it to advisory even in prod.
- **Settings.** The org settings (environment, FinOps tag prefix, governance annotation prefix)
  come from the stack's own config, which the CLI passes to every pack as ``PULUMI_CONFIG``. The
  policy config's ``"all"`` entry holds ``unknownValues`` and the reference date, and may pin an
  org setting; a pin that disagrees with the stack stops ``Configure`` with one error. A rule's
  own config may override ``unknownValues``. Every rule setting has a default here and in its
  ``config_schema``.
- **Fail closed.** A bug in a rule never breaks the gRPC call: it becomes a violation naming the
  error, at the rule's level.
- **Linear.** ``install_sdk_hooks`` (``sdk_hooks``, pinned to the tested pulumi-policy) lets every rule share one deserialized view of a resource per
  gRPC call, and stack rules index resources once (``Stack``), so the pack stays linear in the
  stack's size.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceRemediation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from ai_platform_finops.org import conflict_message, decoded, governance_prefix_for, org_settings, pin_conflicts
from ai_platform_finops.quantity import quantity  # noqa: F401 (re-exported to the rules)
from ai_platform_finops.resource_types import NODE_GROUP
from ai_platform_finops.stack_index import Node, StackIndex
from ai_platform_finops.tags import DEFAULT_PREFIX
from ai_platform_finops.values import number  # noqa: F401 (re-exported to the rules)

from . import sdk_hooks
from .sdk_hooks import PACK_CONFIG

T = TypeVar("T")

PACK_NAME = "ai-governance"

# --- the engine's markers -----------------------------------------------------------------------

UNKNOWN_MARKERS = frozenset({
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (the one the engine sends for any computed input)
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Marker("<unknown>")
"""A value the engine will only know at apply time."""
MISSING: Any = _Marker("<missing>")
"""Absent, null, or not the shape the rule asked for."""


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def child(container: Any, key: Any) -> Any:
    """``container[key]`` as a value, ``MISSING`` or ``UNKNOWN``; never raises."""
    if container is UNKNOWN:
        return UNKNOWN
    try:
        if isinstance(container, Mapping):
            if not isinstance(key, str):
                return MISSING
            value = container[key]
        elif _is_seq(container) and isinstance(key, int) and not isinstance(key, bool):
            if not -len(container) <= key < len(container):
                return MISSING
            value = container[key]
        else:
            return MISSING
    except UnknownValueError:
        return UNKNOWN
    except (KeyError, IndexError, TypeError, ValueError):
        return MISSING
    if isinstance(value, str) and value in UNKNOWN_MARKERS:
        return UNKNOWN
    if value is None:
        return MISSING
    return value


def get(obj: Any, *path: Any) -> Any:
    """Walk ``path`` (keys and list indexes); the first missing or unknown step decides."""
    value = obj
    for key in path:
        value = child(value, key)
        if value is MISSING or value is UNKNOWN:
            return value
    return value


def mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def entries(value: Any) -> list[tuple[str, Any]]:
    """A mapping's (key, value) pairs with unknown values as ``UNKNOWN``; [] for anything else."""
    if not isinstance(value, Mapping):
        return []
    result = []
    try:
        keys = list(value)
    except Exception:  # noqa: BLE001 - a hostile mapping is simply empty
        return []
    for key in keys:
        if isinstance(key, str):
            result.append((key, child(value, key)))
    return result


def elements(value: Any) -> list[Any]:
    """A list's elements with unknown ones as ``UNKNOWN``; [] for anything else."""
    if not _is_seq(value):
        return []
    return [child(value, i) for i in range(len(value))]


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def flag(value: Any) -> bool | None:
    """A boolean, also from the strings "true"/"false" (AWS launch templates spell it so)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def string_map(value: Any) -> tuple[dict[str, str], list[str]]:
    """A str->str map (non-strings dropped) and the keys whose value is unknown."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for key, item in entries(value):
        if item is UNKNOWN:
            unknown.append(key)
        elif isinstance(item, str):
            known[key] = item
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            known[key] = str(item)
    return known, unknown


def to_plain(value: Any, depth: int = 0) -> Any:
    """A plain dict/list copy of SDK proxies; unknown values become the engine's unknown marker."""
    if depth > 64:
        return None
    if value is UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if value is MISSING:
        return None
    if isinstance(value, Mapping):
        return {k: to_plain(v, depth + 1) for k, v in entries(value)}
    if _is_seq(value):
        return [to_plain(v, depth + 1) for v in elements(value)]
    return value


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    """Shell-style patterns: ``g5.*``, ``us-*``, ``*``."""
    return any(fnmatch.fnmatchcase(value, p) for p in patterns if isinstance(p, str))


def short(value: Any, limit: int = 80) -> str:
    """A value for a message, cut to ``limit`` characters."""
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


# --- settings -------------------------------------------------------------------------------------

ENVIRONMENTS = ("dev", "staging", "prod", "local")
UNKNOWN_LEVELS = ("advisory", "mandatory", "disabled")

# Governance annotation names: one definition, shared with components/metadata.py.
from ai_platform_finops.governance import (  # noqa: E402, F401 (re-exported)
    AUDIT_LOGGING,
    DATA_CLASSIFICATION,
    ENV_ETHICS_POLICY_ID,
    ENV_MODEL_VERSION,
    ETHICS_POLICY_ID,
    EVAL_DATE,
    EVAL_METRIC_PREFIX,
    EVAL_REPORT,
    EXPLAINABILITY,
    INTENDED_USE,
    MODEL_CARD,
    MODEL_NAME,
    MODEL_VERSION,
    OWNER,
    RISK_TIER,
)

APP_COMPONENT = "app.kubernetes.io/component"
INFERENCE_COMPONENT = "inference"

from ai_platform_finops.accelerators import GPU_PRESENT_LABEL, GPU_RESOURCE  # noqa: E402,F401 (one table)

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


def settings(policy_config: Mapping[str, Any] | None = None) -> PackSettings:
    """The pack-wide settings, with the rule's own ``unknownValues`` override applied.

    The org settings come from the stack's config; a pin in the ``"all"`` entry only fills in what
    the stack does not set (``Configure`` has already refused a pin that disagrees). Within one
    gRPC call they cannot change, so every rule of the call shares one computation per override.
    """
    override = (policy_config or {}).get("unknownValues", _NO_OVERRIDE)
    entries = getattr(sdk_hooks.CALL, "entries", None)
    if entries is None or not isinstance(override, (str, _Marker)):
        return _settings(override)
    key = ("settings", override)
    found = entries.get(key)
    if found is None:
        found = entries[key] = _settings(override)
    return found


_NO_OVERRIDE: Any = _Marker("<no override>")


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


# --- resources, as rules see them ------------------------------------------------------------------

@dataclass(eq=False)
class Res:
    """One resource, the same for resource rules and stack rules."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent_urn: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider_type: str = ""
    provider_props: Mapping[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"{self.type.rsplit(':', 1)[-1]} {self.name}"

    def all_dependencies(self) -> set[str]:
        deps = set(self.dependencies)
        for urns in self.property_dependencies.values():
            deps.update(urns)
        return deps


def res_from_args(args: ResourceValidationArgs) -> Res:
    opts = args.opts
    provider = args.provider
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        protect=bool(getattr(opts, "protect", False)),
        parent_urn=str(getattr(opts, "parent", None) or ""),
        provider_type=provider.resource_type if provider is not None else "",
        provider_props=provider.props if provider is not None else None,
    )


def res_from_stack(resource: PolicyResource) -> Res:
    opts = resource.opts
    provider = resource.provider
    parent = resource.parent.urn if resource.parent is not None else str(getattr(opts, "parent", None) or "")
    return Res(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        protect=bool(getattr(opts, "protect", False)),
        parent_urn=parent,
        dependencies=[d.urn for d in resource.dependencies],
        property_dependencies={k: [d.urn for d in v] for k, v in resource.property_dependencies.items()},
        provider_type=provider.resource_type if provider is not None else "",
        provider_props=provider.props if provider is not None else None,
    )


def _node(res: Res) -> Node[Res]:
    """The stack index's view of a resource; the links read only a node group's given inputs."""
    given = frozenset(k for k, v in entries(res.props) if v is not MISSING) if res.type == NODE_GROUP else frozenset()
    return Node(item=res, urn=res.urn, type=res.type, parent=res.parent_urn, dependencies=tuple(res.dependencies),
                property_dependencies={k: tuple(v) for k, v in res.property_dependencies.items()}, inputs_given=given)


class Stack(StackIndex[Res]):
    """All resources of a stack with O(1) lookups (the index ai_platform_finops.stack_index shares
    with the estimator): stack rules stay linear in the stack's size."""

    def __init__(self, resources: Sequence[Res]) -> None:
        super().__init__(_node(r) for r in resources)
        self._indexes: dict[str, Any] = {}

    def index(self, name: str, build: Callable[[Stack], T]) -> T:
        """The index ``build(self)``, built on first use and shared by every stack rule after it:
        a rule looks things up in it instead of scanning the stack per resource."""
        if name not in self._indexes:
            self._indexes[name] = build(self)
        return self._indexes[name]


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
        name=name, description=description, validate=validate, enforcement_level=level,
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
        name=name, description=description, validate=validate, enforcement_level=level,
        config_schema=_schema(declared), severity=severity, framework=framework, tags=list(tags),
        remediation_steps=remediation,
    )
