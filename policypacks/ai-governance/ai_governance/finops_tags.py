"""FinOps tagging rules: tags and labels that make the bill attributable, remediated from the
stack's FinOps contract."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import Severity

from ai_platform_finops.tags import STANDARD_KEYS

from . import aws, k8s
from .framework import Check, Setting, finops_framework, resource_rule
from .pack_settings import PACK_CONFIG, finops_stack_setting, stack_org_settings
from .props import MISSING, UNKNOWN, elements, get, matches_any, short, string_map, to_plain
from .resources import Res

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
LABEL_VALUE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"


def _key_names(c: Check) -> list[str]:
    return c.config.strings("keys") or list(STANDARD_KEYS)


def required_tag_keys(c: Check) -> list[str]:
    return [f"{c.settings.tag_prefix}/{name}" for name in _key_names(c)]


def _value_problems(c: Check, key: str, value: str) -> str | None:
    if not value.strip():
        return "is empty"
    pattern = c.config["valuePattern"]
    try:
        if not re.fullmatch(pattern, value):
            return f"{short(value)} does not match {pattern}"
    except re.error:
        return None
    name = key.rsplit("/", 1)[-1]
    allowed = c.config["allowedValues"].get(name) if isinstance(c.config["allowedValues"], dict) else None
    if isinstance(allowed, list) and allowed and value not in allowed:
        return f"{short(value)} is not one of {', '.join(str(a) for a in allowed)}"
    return None


def _check_tag_map(c: Check, tags: dict[str, str], unknown: list[str], where: str) -> list[str]:
    """Problems with one tag map (missing keys, bad values); unknown values are recorded."""
    problems = []
    for key in required_tag_keys(c):
        if key in unknown:
            c.unknown(f"{where}.{key}")
            continue
        if key not in tags:
            problems.append(f"missing {key}")
            continue
        problem = _value_problems(c, key, tags[key])
        if problem:
            problems.append(f"{key} {problem}")
    return problems


# --- remediation: the stack's FinOps contract ---------------------------------------------------

CONTRACT_FIELDS = {"cost-center": "costCenter", "project": "project", "tier": "tier", "owner": "owner"}
"""Where each FinOps value of the stack's own resources sits in ``<project>:finops`` (the program's
``StackConfig.tags``); the environment is the stack's ``<project>:environment``."""


def contract(c: Check) -> dict[str, str]:
    """The FinOps tags the stack's own resources carry, key -> value, from the stack's config as the
    CLI passes it to the pack; only the keys this rule requires, with values it accepts."""
    values: dict[str, Any] = {name: finops_stack_setting(key) for name, key in CONTRACT_FIELDS.items()}
    values["environment"] = stack_org_settings().get("environment") or PACK_CONFIG.all().get("environment")
    found: dict[str, str] = {}
    for name in _key_names(c):
        key, value = f"{c.settings.tag_prefix}/{name}", values.get(name)
        if isinstance(value, str) and value and _value_problems(c, key, value) is None:
            found[key] = value
    return found


def _missing(c: Check, present: dict[str, str], unknown: list[str], own: dict[str, str] | None = None
             ) -> dict[str, str]:
    """Values for the required keys that are absent (never those unknown at preview): ``own``, the
    resource's own valid value of the key where it carries one elsewhere, else the contract's."""
    return {k: v for k, v in {**contract(c), **(own or {})}.items() if k not in present and k not in unknown}


def _own_values(c: Check, maps: list[dict[str, Any]]) -> dict[str, str]:
    """The valid FinOps values a resource already carries in ``maps`` (the first map holding a key wins).
    A project's launch template tags its own project, which the stack-wide contract may not."""
    wanted = set(required_tag_keys(c))
    own: dict[str, str] = {}
    for tags in maps:
        for key, value in tags.items():
            if key in wanted and key not in own and isinstance(value, str) and value \
                    and _value_problems(c, key, value) is None:
                own[key] = value
    return own


def _plain_map(raw: Any) -> dict[str, Any]:
    plain = to_plain(raw)
    return dict(plain) if isinstance(plain, dict) else {}


TAG_SETTINGS = (
    Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix."),
    Setting("valuePattern", {"type": "string"}, LABEL_VALUE_PATTERN,
            "Regular expression every FinOps value must match (default: a valid Kubernetes label value, "
            "since the same values label the cluster's objects)."),
    Setting("allowedValues", {"type": "object"}, {},
            "Optional allowed values per key name, e.g. {\"environment\": [\"dev\", \"staging\", \"prod\"]}."),
    Setting("exemptTypes", _STRINGS, [], "Taggable AWS types this rule skips (shell patterns)."),
    Setting("launchTemplateResourceTypes", _STRINGS, ["instance", "volume"],
            "tagSpecifications a launch template must carry with every FinOps key."),
)


def _tags_check(res: Res, c: Check) -> None:
    if not res.type.startswith("aws:") or res.type not in aws.taggable_types():
        return
    if matches_any(res.type, c.config.strings("exemptTypes")):
        return
    tags, unknown, whole_unknown = aws.effective_tags(res)
    if whole_unknown:
        c.unknown("tags")
    else:
        problems = _check_tag_map(c, tags, unknown, "tags")
        if problems:
            c.violation(f"{res.label}: tags: {'; '.join(problems)}")
    if res.type != aws.LAUNCH_TEMPLATE:
        return
    specs = get(res.props, "tagSpecifications")
    if not c.known(specs, "tagSpecifications"):
        return
    seen: dict[str, Any] = {}
    for index, spec in enumerate(elements(specs)):
        kind = get(spec, "resourceType")
        if kind is UNKNOWN:
            c.unknown(f"tagSpecifications[{index}].resourceType")
            continue
        if isinstance(kind, str):
            seen[kind] = get(spec, "tags")
    for kind in c.config.strings("launchTemplateResourceTypes"):
        if kind not in seen:
            c.violation(f"{res.label}: no tagSpecifications entry for '{kind}': node group tags never reach EC2, "
                        f"so {kind} costs would be unallocated")
            continue
        raw = seen[kind]
        if raw is UNKNOWN:
            c.unknown(f"tagSpecifications[{kind}].tags")
            continue
        spec_tags, spec_unknown = aws.tag_map(raw)
        problems = _check_tag_map(c, spec_tags, spec_unknown, f"tagSpecifications[{kind}].tags")
        if problems:
            c.violation(f"{res.label}: tagSpecifications[{kind}]: {'; '.join(problems)}")


def _tags_fix(res: Res, c: Check) -> dict[str, Any] | None:
    """Adds the contract's value for every missing FinOps tag (a value present but invalid stays for
    a person to fix); tags as a map, or as the Auto Scaling group's list of {key, value}."""
    if not res.type.startswith("aws:") or res.type not in aws.taggable_types():
        return None
    if matches_any(res.type, c.config.strings("exemptTypes")):
        return None
    changes: dict[str, Any] = {}
    tags, unknown, whole_unknown = aws.effective_tags(res)
    missing = {} if whole_unknown else _missing(c, tags, unknown)
    if missing:
        raw = get(res.props, "tags")
        if elements(raw):
            changes["tags"] = [*to_plain(raw), *({"key": k, "value": v, "propagateAtLaunch": True}
                                                 for k, v in missing.items())]
        else:
            changes["tags"] = {**_plain_map(raw), **missing}
    if res.type == aws.LAUNCH_TEMPLATE:
        specs = _tag_specifications_fix(res, c)
        if specs is not None:
            changes["tagSpecifications"] = specs
    return changes or None


def _tag_specifications_fix(res: Res, c: Check) -> list[Any] | None:
    """A launch template's tagSpecifications with a value for every FinOps key missing from the required
    resource types' entries (the template's own, from its tags or another entry, else the contract's),
    and an entry for each required type it lacks; None
    when nothing is missing or an unknown resourceType leaves the entries in doubt."""
    specs = get(res.props, "tagSpecifications")
    if specs is UNKNOWN or any(get(spec, "resourceType") is UNKNOWN for spec in elements(specs)):
        return None
    tags, _, whole_unknown = aws.effective_tags(res)
    own = _own_values(c, ([] if whole_unknown else [tags]) + [
        aws.tag_map(raw)[0] for raw in (get(spec, "tags") for spec in elements(specs)) if raw is not UNKNOWN])
    wanted = c.config.strings("launchTemplateResourceTypes")
    fixed: list[Any] = []
    seen: set[str] = set()
    changed = False
    for spec in elements(specs):
        plain = _plain_map(spec)
        kind, raw = get(spec, "resourceType"), get(spec, "tags")
        if isinstance(kind, str) and kind in wanted and raw is not UNKNOWN:
            seen.add(kind)
            present, unknown = aws.tag_map(raw)
            missing = _missing(c, present, unknown, own)
            if missing:
                plain["tags"] = {**_plain_map(raw), **missing}
                changed = True
        elif isinstance(kind, str):
            seen.add(kind)
        fixed.append(plain)
    full = {**contract(c), **own}
    for kind in wanted:
        if kind not in seen and full:
            fixed.append({"resourceType": kind, "tags": dict(full)})
            changed = True
    return fixed if changed else None


FINOPS_REQUIRED_TAGS = resource_rule(
    name="finops-required-tags",
    description="Every taggable AWS resource carries every FinOps tag with a valid value; launch templates also "
                "tag the instances and volumes they launch. Remediates: adds a missing tag from the stack's FinOps "
                "config, in tags and in a launch template's tagSpecifications (there the template's own value "
                "comes first, from its tags or another entry).",
    severity=Severity.HIGH,
    remediation="Build tags from the FinOps tag contract (ai_platform_finops.tags.FinOpsTags.aws_tags) and pass "
                "them to the resource; for launch templates add tag_specifications for 'instance' and 'volume' "
                "(and 'network-interface') with the same tags. Check the value against valuePattern.",
    types=sorted(aws.taggable_types()),
    check=_tags_check,
    fix=_tags_fix,
    settings_=TAG_SETTINGS,
    framework=finops_framework("Allocation"),
    tags=["finops", "tagging"],
)


# --- finops-required-labels ---------------------------------------------------------------------

LABEL_SETTINGS = (
    Setting("keys", _STRINGS, list(STANDARD_KEYS), "FinOps key names, each under the pack's tagPrefix."),
    Setting("valuePattern", {"type": "string"}, LABEL_VALUE_PATTERN, "Regular expression every label value must match."),
    Setting("allowedValues", {"type": "object"}, {}, "Optional allowed values per key name."),
    Setting("exemptNamespaces", _STRINGS, ["kube-system", "kube-public", "kube-node-lease"],
            "Namespaces (and objects in them) this rule skips."),
)


def _labels_check(res: Res, c: Check) -> None:
    exempt = c.config.strings("exemptNamespaces")
    if res.type == k8s.NAMESPACE:
        name = k8s.name_of(res)
        if isinstance(name, str) and name in exempt:
            return
    else:
        namespace = k8s.namespace_of(res)
        if isinstance(namespace, str) and namespace in exempt:
            return
    targets: list[tuple[str, Any]] = [("metadata.labels", get(res.props, "metadata", "labels"))]
    tpl = k8s.pod_template(res)
    if tpl is not None and tpl.path:
        targets.append((tpl.field("metadata", "labels"), get(tpl.metadata, "labels") if tpl.metadata is not UNKNOWN else UNKNOWN))
    for where, raw in targets:
        if raw is UNKNOWN:
            c.unknown(where)
            continue
        labels, unknown = string_map(raw) if raw is not MISSING else ({}, [])
        problems = _check_tag_map(c, labels, unknown, where)
        if problems:
            c.violation(f"{res.label}: {where}: {'; '.join(problems)}")


def _labels_fix(res: Res, c: Check) -> dict[str, Any] | None:
    """Adds the contract's value for every missing FinOps label, on the object and its pod template."""
    exempt = c.config.strings("exemptNamespaces")
    scope = k8s.name_of(res) if res.type == k8s.NAMESPACE else k8s.namespace_of(res)
    if isinstance(scope, str) and scope in exempt:
        return None
    changes: dict[str, Any] = {}
    metadata = get(res.props, "metadata")
    labels_raw = get(metadata, "labels")
    if metadata is not UNKNOWN and labels_raw is not UNKNOWN:
        labels, unknown = string_map(labels_raw)
        missing = _missing(c, labels, unknown)
        if missing:
            changes["metadata"] = {**_plain_map(metadata), "labels": {**_plain_map(labels_raw), **missing}}
    tpl = k8s.pod_template(res)
    path = k8s.pod_template_path(res.type)
    if tpl is not None and tpl.path and path and tpl.metadata is not UNKNOWN:
        raw = get(tpl.metadata, "labels")
        if raw is not UNKNOWN:
            labels, unknown = string_map(raw)
            missing = _missing(c, labels, unknown)
            spec = _plain_map(get(res.props, path[0]))
            node = spec
            for step in path[1:]:  # down to the template, e.g. spec.jobTemplate.spec.template
                child_ = node.get(step)
                node = node.setdefault(step, {}) if not isinstance(child_, dict) else child_
            if missing and isinstance(node, dict):
                node["metadata"] = {**_plain_map(node.get("metadata")), "labels": {**_plain_map(raw), **missing}}
                changes[path[0]] = spec
    return changes or None


FINOPS_REQUIRED_LABELS = resource_rule(
    name="finops-required-labels",
    description="Namespaces, workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob) and their pod templates "
                "carry every FinOps label with a valid value. Remediates: adds a missing label from the stack's "
                "FinOps config.",
    severity=Severity.MEDIUM,
    remediation="Label the object and its pod template with FinOpsTags.k8s_labels() (components/metadata.py builds "
                "them); cost tools such as Kubecost/OpenCost allocate by pod labels.",
    types=[k8s.NAMESPACE, *k8s.WORKLOADS],
    check=_labels_check,
    fix=_labels_fix,
    settings_=LABEL_SETTINGS,
    framework=finops_framework("Allocation"),
    tags=["finops", "kubernetes"],
)


POLICIES = [FINOPS_REQUIRED_TAGS, FINOPS_REQUIRED_LABELS]

__all__ = ["POLICIES", "required_tag_keys"]
