"""The SDK floor: the same resources, registered bare, with no component logic.

Given a recording of the real program, register every resource again with the same type, name,
parent and engine-form inputs, as plain ``CustomResource``/``ComponentResource`` objects. What it
costs is what the Pulumi SDK and the mocks cost for a program of that size; the program's time
over it is what ai-platform's own logic adds.
"""

from __future__ import annotations

from typing import Sequence

import pulumi

from preflight.engine import RecordedResource


def register_bare(resources: Sequence[RecordedResource]) -> None:
    created: dict[str, pulumi.Resource] = {}
    for recorded in resources:
        parent = created.get(recorded.parent)
        opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
        if recorded.type.startswith("pulumi:providers:"):
            resource: pulumi.Resource = pulumi.ProviderResource(
                recorded.type.split(":")[2], recorded.name, dict(recorded.inputs), opts)
        elif recorded.custom:
            resource = pulumi.CustomResource(recorded.type, recorded.name, dict(recorded.inputs), opts)
        else:
            resource = pulumi.ComponentResource(recorded.type, recorded.name, None, opts)
        created[recorded.urn] = resource
