"""Reading a stack's config and turning every problem into one readable error.

Both the Pulumi program (through ``pulumi.Config``) and preflight (which reads the stack file
itself, before any mock is set) end in ``validate_stack_config``, so a broken stack file fails
the same way in both, before a single resource registers.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from dataclasses import dataclass
from typing import Any, Collection, Mapping

import pydantic

from .examples import example_value_problems, is_real_engine
from .stack import Problem, StackConfig, cross_field_problems

PROJECT = "ai-platform"

# Structured sections, each a stack-config key under the project namespace.
SECTIONS = ("finops", "network", "cluster", "nodePools", "addons", "projects", "services", "budgets", "argocd", "observability",
            "modelStore")
SCALARS = ("environment", "protect")
SECRET_KEYS = ("argocdAdminPasswordHash", "gitopsRepoToken")
"""Secret scalars, set with `pulumi config set --secret`; never part of the typed model."""
KNOWN_KEYS = frozenset((*SECTIONS, *SCALARS, *SECRET_KEYS))
TEMPLATE_ANSWER_KEYS = ("orgTagPrefix", "orgCostCenter", "orgAdminRoleArn", "orgAlertEmails", "orgRunnerCidrs")
"""What `pulumi new` asks for (Pulumi.yaml's template section) and saves as flat keys; ``python -m
preflight init`` writes them into the stack's sections (template config cannot set nested keys)."""


class ConfigError(Exception):
    """A stack config that cannot be used; ``str()`` is the whole, user-facing message."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {path}: {message}" for path, message in problems))


def stack_file(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.:@/-]+$")


def key_part(key: object) -> str:
    """A key as it reads in a path: plain keys bare, odd ones (blank, spaces, unicode) quoted."""
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) else repr(text)


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + key_part(part)
    return path


REFERENCE = "docs/config.md"
"""The generated stack config reference every unknown-key message points to."""


def _model_in(annotation: Any) -> tuple[type[pydantic.BaseModel] | None, bool]:
    """The config model inside a field's type (through Optional, Annotated, list, dict), and whether
    a dict key sits between the field and the model in an error's location."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation)[-1:] if origin is dict else typing.get_args(annotation):
        model, keyed = _model_in(arg)
        if model is not None:
            return model, keyed or origin is dict
    return None, False


def _field_by_key(model: type[pydantic.BaseModel], key: str) -> Any:
    return next((f for name, f in model.model_fields.items() if key in (f.alias, name)), None)


def _model_at(loc: tuple[int | str, ...]) -> type[pydantic.BaseModel] | None:
    """The model whose fields an error's location ``loc`` (keys as written in the stack file) names."""
    model: type[pydantic.BaseModel] | None = StackConfig
    skip_key = False
    for part in loc:
        if isinstance(part, int):
            continue
        if skip_key:
            skip_key = False
            continue
        found = _field_by_key(model, part) if model is not None else None
        if found is None:
            return None
        model, skip_key = _model_in(found.annotation)
    return model


def did_you_mean(key: str, known: Collection[str]) -> str | None:
    """The known key closest to ``key`` (spelling or case), or None."""
    lowered = {k.lower(): k for k in known}
    match = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    model = _model_at(loc[:-1])
    known = [f.alias or name for name, f in model.model_fields.items()] if model is not None else []
    guess = did_you_mean(str(loc[-1]), known)
    if guess is not None:
        return f"unknown key; did you mean '{guess}'? (see {REFERENCE})"
    return f"unknown key; known keys here: {', '.join(known)} (see {REFERENCE})" if known else f"unknown key (see {REFERENCE})"


def _required(loc: tuple[int | str, ...]) -> str:
    model = _model_at(loc[:-1])
    found = _field_by_key(model, str(loc[-1])) if model is not None else None
    description = found.description if found is not None else None
    if not description:
        return "is required"
    # "The owner tag value..." reads as "is required: the owner tag value..."; acronyms keep their case.
    lead = description[0].lower() if description[1:2].islower() else description[0]
    return f"is required: {lead}{description[1:]}"


def _describe(error: Any) -> str:
    message = error["msg"]
    if error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif error["type"] == "extra_forbidden":
        message = _unknown_key(tuple(error["loc"]))
    elif error["type"] == "missing":
        message = _required(tuple(error["loc"]))
    if error["type"] not in ("missing", "extra_forbidden", "value_error"):
        got = error.get("input")
        if got is not None and not isinstance(got, (dict, list)):
            shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
            message += f" (got {shown})"
    return message


def validate_stack_config(values: Mapping[str, Any], source: str) -> StackConfig:
    """Validate raw values keyed as in the stack file (``nodePools``...; ``region`` from aws:region).

    Raises ConfigError listing every problem, one per line, as ``source: key.path: message``.
    """
    problems: list[Problem] = []
    try:
        cfg = StackConfig.model_validate(dict(values))
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            path = "aws:region" if loc[:1] == ("region",) else _loc_to_path(loc) or "(stack)"
            problems.append((path, _describe(error)))
        raise ConfigError(source, problems) from None
    problems = cross_field_problems(cfg)
    if problems:
        raise ConfigError(source, problems)
    return cfg


def values_from_flat_config(flat: Mapping[str, str], project: str = PROJECT) -> tuple[dict[str, Any], list[Problem]]:
    """Raw values from Pulumi's flat ``namespace:key -> string`` config (the engine's own form)."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    prefix = f"{project}:"
    for full_key, raw in flat.items():
        if full_key == "aws:region":
            values["region"] = raw
            continue
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        if key in SECRET_KEYS:
            continue
        if key in TEMPLATE_ANSWER_KEYS:
            problems.append((key_part(full_key), "is a `pulumi new` answer; run `python -m preflight init --stack "
                                                 "<this stack>` to write the answers into the stack's sections"))
            continue
        if key not in KNOWN_KEYS:
            guess = did_you_mean(key, KNOWN_KEYS)
            hint = f"did you mean '{prefix}{guess}'? " if guess else ""
            problems.append((key_part(full_key), f"unknown key; {hint}known keys: {', '.join(sorted(KNOWN_KEYS))}"))
            continue
        if key in SECTIONS or key == "protect":
            try:
                values[key] = json.loads(raw)
            except (TypeError, json.JSONDecodeError):
                problems.append((key, f"must be a structured value (a YAML mapping or list), got {raw!r}"))
        else:
            values[key] = raw
    return values, problems


def _string_leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _string_leaves(v)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _string_leaves(item)]
    return []


def _scrub(problems: list[Problem], secrets: list[str]) -> list[Problem]:
    """Messages must never echo a secret: a section set with `--secret --path` stays secret in errors."""
    ordered = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)
    if not ordered:
        return problems
    scrubbed = []
    for path, message in problems:
        for secret in ordered:
            message = message.replace(secret, "[secret]")
            path = path.replace(secret, "[secret]")
        scrubbed.append((path, message))
    return scrubbed


def plaintext_secret_problems(flat: Mapping[str, str], project: str, secret_keys: Collection[str]) -> list[Problem]:
    """A secret key set without ``secure:`` sits in plaintext in the stack file and in git."""
    return [(key, f"is set in plaintext; a secret must be encrypted: run `pulumi config set --secret {key} <value>` "
                  "(the stack file then reads `secure: ...`), and rotate the value that was committed")
            for key in SECRET_KEYS if f"{project}:{key}" in flat and f"{project}:{key}" not in secret_keys]


def secure_default_problems(cfg: StackConfig, flat: Mapping[str, str], project: str) -> list[Problem]:
    """Checks that need the secret keys' presence (never their values)."""
    argo = cfg.argocd
    if (cfg.is_prod and argo is not None and argo.enabled and argo.sso is None and argo.admin_enabled
            and f"{project}:argocdAdminPasswordHash" not in flat):
        return [("argocd.adminEnabled", "prod must not run Argo CD's local admin with the password Argo CD generates; "
                                        "configure argocd.sso, set a bcrypt hash with `pulumi config set --secret "
                                        "argocdAdminPasswordHash`, or set argocd.adminEnabled: false")]
    return []


def validate_flat_config(flat: Mapping[str, str], project: str, source: str,
                         secret_keys: Collection[str] = (), *, for_real: bool = False) -> StackConfig:
    """Validate Pulumi's flat config for one stack; every problem of every kind in one ConfigError.

    ``secret_keys`` are full config keys whose values are secret: no message quotes them.
    ``for_real``: the stack is being deployed for real, so a non-local stack may not keep the
    shipped example values (see ``examples``).
    """
    values, problems = values_from_flat_config(flat, project)
    problems += plaintext_secret_problems(flat, project, secret_keys)
    secrets = [leaf for key in secret_keys if key in flat
               for leaf in _string_leaves(_decoded(flat[key]))]
    try:
        cfg = validate_stack_config(values, source)
    except ConfigError as exc:
        undecodable = {path for path, _ in problems}
        # A section that did not decode is reported once, not again as missing.
        found = problems + [p for p in exc.problems if p[0] not in undecodable]
        raise ConfigError(source, _scrub(found, secrets)) from None
    problems += secure_default_problems(cfg, flat, project)
    if problems:
        raise ConfigError(source, _scrub(problems, secrets))
    if for_real and not cfg.is_local:
        examples = example_value_problems(values)
        if examples:
            raise ConfigError(source, _scrub(examples, secrets))
    return cfg


def _decoded(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return raw


def load_from_pulumi() -> StackConfig:
    """The program's entry: read this stack's config through the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    from pulumi.runtime.settings import get_monitor

    flat: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = [key for key in flat if runtime_config.is_config_secret(key)]
    return validate_flat_config(flat, pulumi.get_project(), stack_file(pulumi.get_stack()), secret_keys,
                                for_real=is_real_engine(get_monitor()))


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, kept as Pulumi secret Outputs from the moment they are read."""

    argocd_admin_password_hash: Any = None
    gitops_repo_token: Any = None


def secrets_from_pulumi() -> StackSecrets:
    import pulumi

    config = pulumi.Config()
    return StackSecrets(
        argocd_admin_password_hash=config.get_secret("argocdAdminPasswordHash"),
        gitops_repo_token=config.get_secret("gitopsRepoToken"),
    )
