"""Reading Pulumi.yaml and stacks/Pulumi.<stack>.yaml the way the Pulumi CLI does.

The result is the engine's own config form: ``namespace:key -> string`` (structured values as
JSON), plus the set of secret keys. ``secure:`` values are never decrypted: they become a
placeholder that names the key, so the program sees a secret Output and nothing leaks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import ConfigError, stack_file
from components.config.loader import key_part

from .bounded import BoundedReadError, load_yaml


def secret_placeholder(key: str) -> str:
    return f"[secret:{key}]"


@dataclass
class StackConfigSource:
    project: str
    stack: str
    source: str
    """The stack file as users name it, e.g. stacks/Pulumi.dev.yaml (used in every message)."""
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    path: Path | None = None
    """The stack file on disk."""


def _load_yaml(path: Path, source: str) -> Any:
    try:
        return load_yaml(path, source)
    except BoundedReadError as exc:
        raise ConfigError(source, [(f"({exc.kind})", exc.problem)]) from None


def _as_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
"""Pulumi's own rule for a stack name (pkg/backend validateStackName): no '/', ':' or spaces, so a
name can neither break a URN (``a::b``) nor leave the stack directory (``x/../y``)."""


def stack_name_problem(stack: str) -> str | None:
    if STACK_NAME.fullmatch(stack):
        return None
    if len(stack) > 100:
        return "stack names must be at most 100 characters"
    return "stack names may only contain letters, digits, hyphens, underscores and periods (Pulumi's rule)"


def read_stack_config(project_dir: Path, stack: str) -> StackConfigSource:
    """Pulumi.yaml's declared defaults overlaid with the stack file's values."""
    problem = stack_name_problem(stack)
    if problem:
        raise ConfigError("--stack", [(repr(stack[:40]), problem)])
    project_file = _load_yaml(project_dir / "Pulumi.yaml", "Pulumi.yaml")
    if not isinstance(project_file, dict) or "name" not in project_file:
        raise ConfigError("Pulumi.yaml", [("name", "is required")])
    project = str(project_file["name"])
    config_dir = project_file.get("stackConfigDir", ".")
    path = project_dir / config_dir / f"Pulumi.{stack}.yaml"
    source = stack_file(stack) if config_dir == "stacks" else str(Path(config_dir) / f"Pulumi.{stack}.yaml")
    result = StackConfigSource(project=project, stack=stack, source=source, path=path)

    for key, declared in (project_file.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(declared, dict):
            if "default" in declared:
                result.config[full] = _as_config_string(declared["default"])
            elif "value" in declared:
                result.config[full] = _as_config_string(declared["value"])
        else:
            result.config[full] = _as_config_string(declared)

    if not path.exists() and not path.is_symlink():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in path.parent.glob("Pulumi.*.yaml"))
        raise ConfigError(source, [("(file)", f"no such stack file; stacks here: {', '.join(known) or 'none'}")])
    stack_doc = _load_yaml(path, source)
    if stack_doc is None:
        stack_doc = {}
    if not isinstance(stack_doc, dict):
        raise ConfigError(source, [("(file)", "must be a mapping with a 'config:' key")])
    unknown_top = sorted(set(map(str, stack_doc)) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
    if unknown_top:
        raise ConfigError(source, [(key_part(k), "unknown top-level key; stack settings go under 'config:'")
                                   for k in unknown_top])
    config = stack_doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(source, [("config", "must be a mapping of namespace:key to values")])

    problems = []
    for key, value in config.items():
        key = str(key)
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            result.config[full] = secret_placeholder(full)
            result.secret_keys.append(full)
        elif value is None:
            problems.append((key_part(key), "has no value"))
        else:
            result.config[full] = _as_config_string(value)
    if problems:
        raise ConfigError(source, problems)
    return result
