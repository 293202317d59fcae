"""What a workload's metadata says: labels, governance annotations, env values, label selectors, and
whether it serves a model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..pack_settings import PackSettings
from ..props import MISSING, UNKNOWN, elements, entries, get, string_map, text
from ..resources import Res
from .gpus import ACCELERATOR_PATTERNS, is_gpu_workload
from .templates import PodTemplate

APP_COMPONENT = "app.kubernetes.io/component"
INFERENCE_COMPONENT = "inference"


def is_inference(res: Res, tpl: PodTemplate | None, s: PackSettings, component_labels: Mapping[str, str] | None = None,
                 gpu_resources: Sequence[str] = ACCELERATOR_PATTERNS) -> bool:
    """An inference workload: labelled as one (``app.kubernetes.io/component: inference``), carrying
    governance annotations, or asking for accelerators (on this platform they serve models)."""
    wanted = dict(component_labels or {APP_COMPONENT: INFERENCE_COMPONENT})
    labels: dict[str, str] = {}
    if tpl is None or tpl.values_path is None:
        labels, _ = labels_of(res.props)
    if tpl is not None:
        template_labels, _ = labels_of({"metadata": tpl.metadata})
        labels = {**template_labels, **labels}
    if any(labels.get(k) == v for k, v in wanted.items()):
        return True
    prefix = f"{s.governance_prefix}/"
    for metadata in _metadatas(res, tpl):
        for key, _ in entries(get(metadata, "annotations")):
            if key.startswith(prefix):
                return True
    return tpl is not None and is_gpu_workload(tpl, gpu_resources)


def inference_unknown(res: Res, tpl: PodTemplate, s: PackSettings) -> bool:
    """A Patch that sets containers but says nothing that tells whether the workload serves a
    model: the live object decides, so a rule needing it cannot verify it."""
    if not tpl.partial or not tpl.containers or is_inference(res, tpl, s):
        return False
    labels, _ = labels_of({"metadata": tpl.metadata})
    return APP_COMPONENT not in labels


def _metadatas(res: Res, tpl: PodTemplate | None) -> tuple[Any, ...]:
    if tpl is not None and tpl.values_path is not None:
        return (tpl.metadata,)  # a Helm release's own metadata is not its pods'
    return (get(res.props, "metadata"), tpl.metadata if tpl is not None else MISSING)


def governance_annotations(res: Res, tpl: PodTemplate | None) -> tuple[dict[str, str], set[str]]:
    """The workload's annotations merged with its pod template's (the template wins), and the keys
    whose value is unknown in both."""
    merged: dict[str, str] = {}
    unknown: set[str] = set()
    for metadata in _metadatas(res, tpl):
        known, unknown_keys, whole_unknown = annotations_of(metadata)
        merged.update(known)
        unknown.update(unknown_keys)
        if whole_unknown:
            unknown.add("*")
    return merged, {k for k in unknown if k not in merged}


def labels_of(obj: Any) -> tuple[dict[str, str], bool]:
    """(known labels, whether the label map or any value is unknown)."""
    raw = get(obj, "metadata", "labels")
    if raw is UNKNOWN:
        return {}, True
    known, unknown = string_map(raw)
    return known, bool(unknown)


def annotations_of(metadata: Any) -> tuple[dict[str, str], list[str], bool]:
    """(known annotations, keys with unknown values, whether the whole map is unknown)."""
    raw = get(metadata, "annotations")
    if raw is UNKNOWN or metadata is UNKNOWN:
        return {}, [], True
    known, unknown = string_map(raw)
    return known, unknown, False


def env_value(container: Any, name: str) -> Any:
    """A container env var's literal value, ``UNKNOWN``, or ``MISSING`` (absent or from a ref)."""
    env = get(container, "env")
    if env is UNKNOWN:
        return UNKNOWN
    for item in elements(env):
        if item is UNKNOWN:
            continue
        if get(item, "name") == name:
            return get(item, "value")
    return MISSING


def chart_name(res: Res) -> str:
    """The chart of a Helm release or chart resource, without its repository path."""
    chart = text(get(res.props, "chart")) or ""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def namespace_of(res: Res) -> Any:
    return get(res.props, "metadata", "namespace")


def name_of(res: Res) -> Any:
    return get(res.props, "metadata", "name")


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool | None:
    """Does a LabelSelector select ``labels``? None when the selector is unknown or empty."""
    if selector is UNKNOWN or selector is MISSING:
        return None
    match_labels, unknown = string_map(get(selector, "matchLabels"))
    if unknown or get(selector, "matchLabels") is UNKNOWN:
        return None
    expressions = get(selector, "matchExpressions")
    if expressions is UNKNOWN:
        return None
    exprs = elements(expressions)
    if not match_labels and not exprs:
        return None  # an empty selector selects everything: never a proof of anything
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in exprs:
        key, operator = text(get(expr, "key")), text(get(expr, "operator"))
        values = [v for v in elements(get(expr, "values")) if isinstance(v, str)]
        if key is None or operator is None:
            return None
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return None
    return True
