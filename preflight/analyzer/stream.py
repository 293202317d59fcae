"""``Analyze`` while the program still registers resources, as the engine analyzes each resource when it
registers: a thread waits until the pack is configured, then sends a call for each resource as it
arrives, a few calls in flight. The answers are collected later, in resource order, by the caller."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from google.protobuf import struct_pb2

from ..engine import RecordedResource
from .requests import default_providers, default_provider_urn, struct, uses_default_provider

ANALYZE_WINDOW = 8
"""Analyze calls kept in flight at once."""

Prepared = TypeVar("Prepared")


class AnalyzeStream(Generic[Prepared]):
    """``prepare()`` runs first on the stream's thread (connect and configure; its result is what
    ``finish`` returns); then each resource given to ``put`` is sent with ``send(resource, by_urn,
    structs)``, which returns the call's future. A resource whose explicit provider has not arrived yet
    is not sent (the caller sends what is left). Errors are kept and raised by ``finish``."""

    def __init__(self, prepare: Callable[[], Prepared],
                 send: Callable[[RecordedResource, Mapping[str, RecordedResource], dict[str, struct_pb2.Struct]], Any],
                 *, project: str, stack: str, stack_config: Mapping[str, Any], secret_keys: list[str]) -> None:
        self.futures: dict[str, Any] = {}
        """Sent calls by URN."""
        self.structs: dict[str, struct_pb2.Struct] = {}
        """Each sent resource's properties (and provider's, under ``provider:<urn>``), converted once."""
        self._prepare, self._send = prepare, send
        self._project, self._stack = project, stack
        self._stack_config, self._secret_keys = stack_config, secret_keys
        self._queue: queue.SimpleQueue[RecordedResource | None] = queue.SimpleQueue()
        self._prepared: Prepared | None = None
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._work, name="preflight-analyze", daemon=True)
        self._thread.start()

    def put(self, resource: RecordedResource) -> None:
        self._queue.put(resource)

    def stop(self) -> None:
        """End the thread without waiting for it (the pack is being closed)."""
        self._stopped = True
        self._queue.put(None)

    def finish(self) -> Prepared:
        """Wait until every resource given so far is sent; what ``prepare`` returned."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._prepared is not None
        return self._prepared

    def _work(self) -> None:
        try:
            self._prepared = self._prepare()
            by_urn: dict[str, RecordedResource] = {}
            in_flight: list[Any] = []
            while (resource := self._queue.get()) is not None and not self._stopped:
                by_urn[resource.urn] = resource
                ref = resource.provider
                if ref and (ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref) not in by_urn:
                    continue
                todo = [resource]
                if uses_default_provider(resource) and \
                        default_provider_urn(self._project, self._stack, resource) not in by_urn:
                    provider = default_providers([resource], project=self._project, stack=self._stack,
                                                 stack_config=self._stack_config, secret_keys=self._secret_keys)[0]
                    by_urn[provider.urn] = provider
                    todo.insert(0, provider)  # the engine registers (and analyzes) a default provider first
                for item in todo:
                    self.structs[item.urn] = struct(item.inputs)
                    future = self._send(item, by_urn, self.structs)
                    self.futures[item.urn] = future
                    in_flight.append(future)
                while len(in_flight) >= ANALYZE_WINDOW:
                    in_flight.pop(0).exception()  # waits; the caller reports a failed call in order
        except BaseException as exc:  # noqa: BLE001 (handed to the caller by finish(), which re-raises it)
            self._error = exc
