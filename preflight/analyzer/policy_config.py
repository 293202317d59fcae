"""Policy config as the Pulumi CLI reconciles it: the ``--policy-pack-config`` file
(``parsePolicyPackConfig``), then ``ReconcilePolicyPackConfig``: schema defaults, the pack's initial
config, the file; a top-level ``"all"`` entry sets every policy's level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..bounded import CONFIG_LIMIT, BoundedReadError, loads_json, read_text
from .json_schema import schema_errors
from .results import LEVEL_VALUES, PolicyConfig, PolicyMeta, PolicyPackError


def load_policy_config(path: Path) -> dict[str, PolicyConfig]:
    """A ``--policy-pack-config`` file (``parsePolicyPackConfig``)."""
    try:
        raw = read_text(path, CONFIG_LIMIT)
        if not raw.strip():
            return {}
        doc = loads_json(raw, str(path))
    except BoundedReadError as exc:
        raise PolicyPackError(str(exc)) from None
    if not isinstance(doc, dict):
        raise PolicyPackError(f"{path}: must be a JSON object of policy name -> level or settings")
    result: dict[str, PolicyConfig] = {}
    for name, value in doc.items():
        if isinstance(value, str):
            if value not in LEVEL_VALUES:
                raise PolicyPackError(f"{path}: {name}: {value!r} is not a valid enforcement level "
                                      f"({', '.join(LEVEL_VALUES)})")
            result[name] = PolicyConfig(level=value)
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and level not in LEVEL_VALUES:
                raise PolicyPackError(f"{path}: {name}.enforcementLevel: {level!r} is not a valid enforcement level")
            if level is None and not props:
                continue
            result[name] = PolicyConfig(level=level, properties=props)
        else:
            raise PolicyPackError(f"{path}: {name}: must be a string (level) or an object")
    return result


def reconcile_config(policies: Sequence["PolicyMeta"], initial: Mapping[str, PolicyConfig],
                     given: Mapping[str, PolicyConfig]) -> dict[str, PolicyConfig]:
    """``ReconcilePolicyPackConfig``: defaults from the schemas, then the pack's initial config, then
    the file; raises PolicyPackError listing every schema violation."""
    result: dict[str, PolicyConfig] = {}
    for policy in policies:
        defaults = {k: v["default"] for k, v in policy.config_schema.items() if isinstance(v, dict) and "default" in v}
        result[policy.name] = PolicyConfig(level=policy.level, properties=defaults)

    def apply(config: Mapping[str, PolicyConfig]) -> None:
        everything = config.get("all")
        if everything is not None and everything.level in LEVEL_VALUES:
            for name, current in list(result.items()):
                result[name] = PolicyConfig(level=everything.level, properties=current.properties)
        for name, item in config.items():
            current = result.get(name, PolicyConfig())
            level = item.level if item.level in LEVEL_VALUES else current.level
            result[name] = PolicyConfig(level=level, properties={**current.properties, **item.properties})

    apply(initial)
    apply(given)
    errors = []
    for policy in policies:
        schema = {"type": "object", "properties": policy.config_schema, "required": policy.required}
        errors += [f"{policy.name}: {e}" for e in schema_errors(result[policy.name].properties, schema)]
    for name, item in result.items():
        if item.level not in LEVEL_VALUES:
            errors.append(f"{name}: no valid enforcement level (a non-policy entry needs one, e.g. \"advisory\")")
    if errors:
        raise PolicyPackError("the policy pack config is invalid:\n  " + "\n  ".join(errors))
    return result
