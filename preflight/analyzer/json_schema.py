"""The subset of JSON Schema that policy config schemas use, as ``pulumi preview --policy-pack-config``
validates a policy's properties."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer(),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """The JSON Schema keywords policy config schemas use (type, enum, const, bounds, pattern,
    items, properties, required, additionalProperties); messages start with the value's path."""
    at = f"{path}: " if path else ""
    errors: list[str] = []
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds and not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return [f"{at}expected {' or '.join(kinds)}, got {type(value).__name__} {json.dumps(value)[:60]}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}must be one of {', '.join(json.dumps(e) for e in schema['enum'])}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}must be {json.dumps(schema['const'])}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{at}must be <= {schema['maximum']}")
    if isinstance(value, str) and isinstance(schema.get("pattern"), str) and not re.search(schema["pattern"], value):
        errors.append(f"{at}does not match {schema['pattern']}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    if isinstance(value, dict):
        declared = schema.get("properties")
        props: Mapping[str, Any] = declared if isinstance(declared, dict) else {}
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(f"{at}{key} is required")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in props and isinstance(props[key], dict):
                errors += schema_errors(item, props[key], where)
            elif extra is False:
                errors.append(f"{at}unknown property {key}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, where)
    return errors
