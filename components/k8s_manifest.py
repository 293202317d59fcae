"""Kubernetes objects as the Pulumi engine receives them, from the same typed args the components pass.

Components build their Kubernetes inputs as the SDK's typed ``...ArgsDict`` values (snake_case keys,
checked by pyright). The SDK turns them into the engine's camelCase objects using the metadata of
the resource's ``...Args`` class. ``engine_form`` runs exactly that serializer, so tests can check
rendered objects (against the Kubernetes OpenAPI schema, for instance) without running a program.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc


def engine_form(args_type: type, api_version: str, kind: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` (typed snake_case inputs of ``args_type``) serialized as the engine gets them.

    Not for use inside a running Pulumi program (it runs its own event loop).
    """
    inputs = {"api_version": api_version, "kind": kind, **props}
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(inputs, {}, typ=args_type))
    finally:
        loop.close()
    return json_format.MessageToDict(struct)
