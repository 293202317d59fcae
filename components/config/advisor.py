"""Per pool and per service switch for ``python -m preflight advise`` (docs/advisor.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import ConfigModel


class AdvisorSettings(ConfigModel):
    """What the advisor may propose for this pool or service."""

    ignore: bool = Field(default=False, description="Never propose a change to this pool or service "
                                                    "(the report lists it as ignored, with the reason).")
    reason: Annotated[str, Field(min_length=3, max_length=300)] | None = Field(
        default=None, description="Why the advisor leaves it alone; required with ignore: true.")

    @model_validator(mode="after")
    def _reason_given(self) -> "AdvisorSettings":
        if self.ignore and not self.reason:
            raise ValueError("ignore: true needs a reason (shown in every advisor report)")
        return self
