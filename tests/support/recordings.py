"""Reading a recording: resources by type and name, and the parts of provider references."""

from __future__ import annotations

from preflight.engine import RecordedResource, Recording


def one(recording: Recording, type_: str, name: str | None = None) -> RecordedResource:
    found = [r for r in recording.resources if r.type == type_ and (name is None or r.name == name)]
    assert len(found) == 1, f"expected one {type_} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def of_type(recording: Recording, type_: str) -> list[RecordedResource]:
    return [r for r in recording.resources if r.type == type_]


def by_name(recording: Recording, type_: str) -> dict[str, RecordedResource]:
    return {r.name: r for r in of_type(recording, type_)}


def provider_urn(reference: str) -> str:
    """The URN part of a provider reference (``<urn>::<id>``)."""
    urn, _, _ = reference.rpartition("::")
    return urn
