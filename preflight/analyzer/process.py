"""The pack's process and what surrounds it: its environment (``PULUMI_CONFIG``), the Engine service it
is given the address of, reading its pipes, and stopping its process group (also from a signal handler)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterable, Mapping
from typing import IO, Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

_MAX_MESSAGE = 1024 * 1024 * 400
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)]
CONFIG_ENV_LIMIT = 64 * 1024
"""PULUMI_CONFIG above this leaves out its largest values (Linux caps one environment string at 128 KiB,
and pulumi-policy re-parses the variable on every call)."""


class EngineService(engine_pb2_grpc.EngineServicer):
    """The engine services a pack may call back: Log (kept), and the root resource."""

    def __init__(self, root_urn: str) -> None:
        self.logs: list[tuple[str, str]] = []
        self.root_urn = root_urn

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        names = {engine_pb2.DEBUG: "debug", engine_pb2.INFO: "info", engine_pb2.WARNING: "warning",
                 engine_pb2.ERROR: "error"}
        self.logs.append((names.get(request.severity, "info"), request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root_urn)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


def config_env(config: Mapping[str, str], limit: int = CONFIG_ENV_LIMIT) -> tuple[str, list[str]]:
    """``PULUMI_CONFIG`` as the CLI sets it (the stack config as JSON), and the keys left out, largest
    first, when it would exceed ``limit``."""
    kept = dict(config)
    dropped: list[str] = []
    text = json.dumps(kept)
    for key in sorted(config, key=lambda k: -len(str(config[k]))):
        if len(text) <= limit:
            break
        del kept[key]
        dropped.append(key)
        text = json.dumps(kept)
    return text, dropped


def pipe_lines(stream: IO[bytes]) -> Iterable[bytes]:
    """The lines of a pipe until EOF, or until ``close()`` closes it under the reader."""
    try:
        yield from iter(stream.readline, b"")
    except (ValueError, OSError):
        return


RUNNING: set["subprocess.Popen[bytes]"] = set()
"""Packs started and not yet closed (what a signal handler must stop)."""


class Spawning:
    """A pack being spawned has no pid yet: a signal arriving then is held until it has one."""

    active = False
    held: int | None = None


def hold_signal_while_spawning(signum: int) -> bool:
    """True when a pack is being spawned: ``signum`` is re-raised once its pid is registered."""
    if Spawning.active:
        Spawning.held = signum
        return True
    return False


def stop_all_packs(grace: float = 2.0) -> None:
    """Stop the process group of every running pack (preflight's SIGINT/SIGTERM handler)."""
    for proc in list(RUNNING):
        stop_group(proc, grace)
        RUNNING.discard(proc)


def stop_group(proc: "subprocess.Popen[bytes]", grace: float = 5.0) -> None:
    """SIGTERM the pack's process group, SIGKILL it after ``grace`` seconds, and reap the pack."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
        try:
            proc.wait(timeout=grace)
            if sig == signal.SIGTERM:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # children that ignored SIGTERM
                except (ProcessLookupError, PermissionError):
                    pass
            return
        except subprocess.TimeoutExpired:
            continue
