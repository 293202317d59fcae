"""The generated PrometheusRule and ServiceMonitors pass the Prometheus Operator's own CRD schemas, strictly.

kubernetes-validate ships no schema for custom resources, so the CRDs of the pinned kube-prometheus-stack
(``crd_schemas/``, each with its source) are the schema: ``openAPIV3Schema`` with unknown fields refused,
as the API server does under strict field validation.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.fixtures import AWS_STACKS, recorded

SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"
GROUP = "kubernetes:monitoring.coreos.com/v1:"


def strict(schema: Any) -> Any:
    """Objects with declared properties and no additionalProperties refuse anything else."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text())["openAPIV3Schema"]
    schema = strict(schema)
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta: checked by the API server, not the CRD
    return jsonschema.Draft7Validator(schema)


def objects(stack: str) -> list[dict[str, Any]]:
    return [{k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
            for r in recorded(stack).resources if r.type.startswith(GROUP)]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_monitoring_object_passes_its_crd_schema(stack):
    found = objects(stack)
    assert {o["kind"] for o in found} == {"PrometheusRule", "ServiceMonitor"}
    for obj in found:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(obj["kind"]).iter_errors(obj)]
        assert errors == [], obj["metadata"]["name"]


def test_the_schema_refuses_a_misspelt_field_and_a_wrong_type():
    rule = next(o for o in objects("live") if o["kind"] == "PrometheusRule")
    bad = copy.deepcopy(rule)
    bad["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    assert not validator("PrometheusRule").is_valid(bad)
    bad = copy.deepcopy(rule)
    bad["spec"]["groups"][0]["rules"][0]["labels"] = {"severity": 3}
    assert not validator("PrometheusRule").is_valid(bad)
