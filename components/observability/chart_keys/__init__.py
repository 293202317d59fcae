"""Recorded values-key trees of the pinned charts, and the check that chart values use only those keys.

Each ``<chart>-<version>.json`` holds the key tree of the chart's own ``values.yaml`` at that tag
(a leaf is ``null``: a scalar, a list or a free-form map such as ``nodeSelector: {}``), with its
source and the date it was recorded. Subcharts' trees (kube-prometheus-stack's grafana and
kube-state-metrics) are recorded from their own charts at the versions the parent's Chart.yaml pins,
and checked under the parent's key. To record a new version: ``git show <tag>:charts/<chart>/values.yaml``
from the chart's repository, then ``key_tree`` on the parsed YAML (docs/observability.md#chart-pins).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

HERE = Path(__file__).resolve().parent


def key_tree(values: Any) -> Any:
    """The keys of a parsed values.yaml: nested mappings; ``None`` for every leaf (empty maps included)."""
    if isinstance(values, Mapping) and values:
        return {str(k): key_tree(v) for k, v in values.items()}
    return None


def load(chart: str, version: str) -> dict[str, Any]:
    return json.loads((HERE / f"{chart}-{version}.json").read_text())


def unknown_keys(values: Any, tree: Any, path: str = "") -> list[str]:
    """Dotted paths in ``values`` that the chart's key tree does not have (a leaf in the tree ends the check)."""
    if not isinstance(values, Mapping) or tree is None:
        return []
    problems = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else str(key)
        if key not in tree:
            problems.append(here)
        else:
            problems.extend(unknown_keys(value, tree[key], here))
    return problems
