"""The shipped example values, which must be replaced before a stack is deployed for real.

The shipped stacks use values reserved for documentation, so they preview offline but can never
reach a real account by accident: AWS's documentation account ``123456789012``, the RFC 5737
address blocks (``192.0.2.0/24``, ``198.51.100.0/24``, ``203.0.113.0/24``) and the RFC 2606
domains (``example.com``, ``.org``, ``.net`` and the ``.example`` TLD).

"Deployed for real" means the program runs under the Pulumi engine (``pulumi preview`` or
``pulumi up``), not under mocks (preflight and the unit tests). ``is_dry_run()`` cannot tell:
it is true in a real preview and in preflight alike. What differs is the resource monitor: a gRPC
stub of the engine's, or the SDK's ``MockMonitor``. A real preview fails too, so the list of
values to replace arrives before anything is created.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

EXAMPLE_ACCOUNT = "123456789012"
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_EXAMPLE_DOMAIN = re.compile(r"(?:^|[@./])example\.(?:com|org|net)(?:$|[/:])|\.example(?:$|[/:])", re.IGNORECASE)
_ADDRESS = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?$")


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")


def example_reason(value: str) -> str | None:
    """Why ``value`` is a documentation example, or None."""
    if EXAMPLE_ACCOUNT in value:
        return f"AWS's documentation account {EXAMPLE_ACCOUNT}; use your account id"
    if _ADDRESS.fullmatch(value.strip()):
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            return None
        if any(network.overlaps(doc) for doc in DOCUMENTATION_NETWORKS):
            return "a documentation address block (RFC 5737); use your runners' or office's CIDRs"
        return None
    if _EXAMPLE_DOMAIN.search(value):
        return "an example.com-style domain (RFC 2606); use your organisation's domain or address"
    return None


def example_value_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, what to replace) for every example value in a stack's raw config values."""
    problems = []
    for path, value in _leaves({k: v for k, v in values.items() if k != "region"}, ""):
        reason = example_reason(value)
        if reason is not None:
            problems.append((path, f"{value!r} is an example value ({reason}) and must be replaced before "
                                   "deploying for real"))
    return problems


def is_real_engine(monitor: Any) -> bool:
    """True when the program talks to the Pulumi engine, False under mocks (preflight, unit tests)."""
    from pulumi.runtime.mocks import MockMonitor

    return monitor is not None and not isinstance(monitor, MockMonitor)
