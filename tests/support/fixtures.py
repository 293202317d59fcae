"""The tests' own stacks (tests/fixtures/project/stacks): what component and config behaviour tests run.

They belong to the tests, under names of their own (``ENVIRONMENT``): a user's edit of ``stacks/``
changes none of them. Their Pulumi.yaml is the project's own (a link), so defaults and the
``stacks/Pulumi.<stack>.yaml`` names in error lines are the ones users see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.config import StackConfig
from components.observability.thresholds import Thresholds, stack_thresholds
from preflight.engine import Recording
from preflight.stackfile import StackConfigSource

from .stackset import ROOT, ConfigEdit, P, StackSet

PROJECT = ROOT / "tests" / "fixtures" / "project"
FIXTURES = StackSet(PROJECT)
STACKS = FIXTURES.names
AWS_STACKS = FIXTURES.aws
ENVIRONMENT = {"sandbox": "dev", "preprod": "staging", "live": "prod", "kind": "local"}
"""Each fixture stack's environment: the stacks are named apart from the shipped ones (dev, staging,
prod, local), so a test reads a fixture stack, never a shipped one by mistake."""

__all__ = ["AWS_STACKS", "ENVIRONMENT", "FIXTURES", "P", "PROJECT", "ROOT", "STACKS", "ConfigEdit", "config",
           "edited_project", "errors", "load", "own_project", "pool", "with_model_store", "preview", "recorded", "stack_source",
           "thresholds"]


def stack_source(stack: str, edit: ConfigEdit | None = None) -> StackConfigSource:
    return FIXTURES.source(stack, edit)


def own_project(tmp_path: Path) -> Path:
    """A scratch project holding copies of the fixture stacks and their pack config (all else linked)."""
    return FIXTURES.own_project(tmp_path)


def edited_project(tmp_path: Path, stack: str, edit: ConfigEdit) -> Path:
    """``own_project`` with fixture ``stacks/Pulumi.<stack>.yaml`` edited by ``edit``."""
    return FIXTURES.edited_project(tmp_path, stack, edit)


def preview(stack: str, edit: ConfigEdit | None = None, *, preview: bool = True,
            secret_values: dict[str, str] | None = None) -> Recording:
    """The recorded resources of fixture ``stack`` (after ``edit``)."""
    return FIXTURES.preview(stack, edit, preview=preview, secret_values=secret_values)


def recorded(stack: str, preview_mode: bool = True) -> Recording:
    """The recording of an unedited fixture stack, taken once per test session (never mutate it)."""
    return FIXTURES.recorded(stack, preview_mode)


def config(stack: str) -> StackConfig:
    """The validated config of an unedited fixture stack, once per session."""
    return FIXTURES.config(stack)


def load(stack: str, edit: ConfigEdit | None = None) -> StackConfig:
    """The validated config of fixture ``stack`` after ``edit``."""
    return FIXTURES.load(stack, edit)


def errors(stack: str, edit: ConfigEdit) -> list[str]:
    """The lines of the ConfigError ``edit`` causes."""
    return FIXTURES.errors(stack, edit)


def pool(config_dict: dict[str, Any], name: str) -> dict[str, Any]:
    """The stack-file dict of node pool ``name`` (for edits)."""
    return next(p for p in config_dict[P + "nodePools"] if p["name"] == name)


def thresholds(stack: str) -> Thresholds:
    """The evaluation thresholds of fixture ``stack``, from its own pack config
    (tests/fixtures/project/policypacks/ai-governance/config/<stack>.json)."""
    return stack_thresholds(stack, PROJECT)


def with_model_store(bucket_gb: float, images_gb: float, keep_images: int, **store: Any) -> ConfigEdit:
    """An edit giving a fixture stack per-project model stores (``modelStore``, with ``store``'s extra
    keys) and their assumed storage (``finops.usage``), its services' images, weights and evaluation
    reports moved into them: the shape of the shipped stacks, for the tests that price or judge stores."""
    def edit(c: dict[str, Any]) -> None:
        prefix, cluster, region = "apexlogic", c[P + "cluster"]["name"], c["aws:region"]
        c[P + "finops"].setdefault("usage", {}).update(modelBucketGbPerProject=bucket_gb,
                                                      modelImagesGbPerProject=images_gb)
        entries = list(c.items())  # modelStore goes before services, where the shipped stacks keep it
        at = next(i for i, (key, _) in enumerate(entries) if key == P + "services")
        entries.insert(at, (P + "modelStore", {"namePrefix": prefix, "keepImages": keep_images, **store}))
        c.clear()
        c.update(entries)
        for service in c[P + "services"]:
            model, project = service["model"], service["project"]
            tag = model["image"].rsplit("/", 1)[-1].split(":", 1)[1]
            bucket = f"s3://{prefix}-{cluster}-{project}-models"
            model["image"] = f"123456789012.dkr.ecr.{region}.amazonaws.com/{cluster}/{project}:{tag}"
            model["artifactUri"] = f"{bucket}/weights/{model['name']}/{model['version']}/"
            report = service["ethics"]["evaluation"]
            report["reportUri"] = report["reportUri"].replace("s3://apexlogic-model-evals/", f"{bucket}/reports/")
    return edit
