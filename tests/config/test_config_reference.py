"""docs/config.md's reference tables are generated from the config models and cannot drift."""

from __future__ import annotations

from typing import Annotated

import pydantic
import pytest

from components.config import StackConfig, reference
from components.config.loader import SECTIONS
from preflight.cli import main
from tests.support.fixtures import ROOT


def test_config_reference_is_generated_from_the_models():
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert reference.generated_block(doc) == reference.reference_markdown(ROOT), (
        "docs/config.md is stale: python -m preflight reference --update docs/config.md")


def _models(model: type[pydantic.BaseModel], seen: set[type[pydantic.BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        sub, _ = reference._models(field.annotation)
        if sub is not None:
            _models(sub, seen)


def test_every_field_of_every_section_has_a_description():
    seen: set[type[pydantic.BaseModel]] = set()
    _models(StackConfig, seen)
    missing = [f"{m.__name__}.{name}" for m in seen for name, f in m.model_fields.items() if not f.description]
    assert missing == [], "document these fields with a docstring under the field"
    text = reference.reference_markdown(ROOT)
    for section in SECTIONS:
        assert f"### `ai-platform:{section}`" in text, section
    assert "| `nodePools[].offPeak.timeZone` | string | `UTC` |" in text
    assert "| `services[].ethics.evaluation.metrics` | map of string to number | `{}` |" in text


@pytest.mark.parametrize("annotation, text", [
    (Annotated[int, pydantic.Field(ge=0)], "integer"),
    (list[str] | None, "list of string"),
    (dict[str, float], "map of string to number"),
    (bool | None, "boolean"),
])
def test_type_text(annotation, text):
    assert reference.type_text(annotation) == text


def test_reference_update_rewrites_only_the_block(tmp_path, capsys):
    doc = tmp_path / "config.md"
    doc.write_text(f"# intro\n\n{reference.BEGIN}\nold\n{reference.END}\n\nafter\n")
    assert main(["reference", "--update", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith(f"# intro\n\n{reference.BEGIN}\n### `ai-platform:environment`") and text.endswith(
        f"{reference.END}\n\nafter\n")
    doc.write_text("no markers\n")
    assert main(["reference", "--update", str(doc)]) == 2
    assert "no generated block" in capsys.readouterr().err
    assert doc.read_text() == "no markers\n"
