"""GPU use from a Prometheus HTTP API (``query_range``), or from a saved set of its responses.

The saved file (``--save-metrics``, read back with ``--metrics``) keeps each response exactly as the
API returned it, keyed by the query, with the window they cover::

    {"schema": "preflight-advise-metrics/v1",
     "window": {"start": 1764460800, "end": 1765670400, "step": 300},
     "responses": {"<promql>": {"status": "success", "data": {"resultType": "matrix", "result": [...]}}}}
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..bounded import REPORT_LIMIT, BoundedReadError, load_json, loads_json

SCHEMA = "preflight-advise-metrics/v1"
TIMEOUT_SECONDS = 30.0
RESPONSE_LIMIT = 16 * 1024 * 1024


class MetricsError(Exception):
    """Metrics the advisor cannot use; ``str()`` is one ``source: what is wrong`` line (exit 2)."""


@dataclass(frozen=True)
class Window:
    start: int
    end: int
    step: int

    def as_dict(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end, "step": self.step}


@dataclass
class Metrics:
    """query -> samples ``[(unix seconds, value), ...]`` of its one series; [] when it had none."""

    window: Window
    source: str
    responses: dict[str, Any] = field(default_factory=dict)

    def samples(self, query: str) -> list[tuple[float, float]] | None:
        """The query's samples, or None when this set never asked it (an older saved file)."""
        if query not in self.responses:
            return None
        return _samples(self.responses[query], f"{self.source}: responses[{query[:60]!r}]")

    def document(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "window": self.window.as_dict(), "responses": self.responses}


def _samples(response: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(response, Mapping) or response.get("status") != "success":
        error = response.get("error") if isinstance(response, Mapping) else None
        raise MetricsError(f"{where}: status is not success{f' ({error})' if error else ''}")
    data = response.get("data")
    if not isinstance(data, Mapping) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise MetricsError(f"{where}.data: not a query_range matrix (resultType 'matrix', result a list)")
    result = data["result"]
    if not result:
        return []
    if len(result) > 1:
        raise MetricsError(f"{where}.data.result: {len(result)} series; the advisor's queries aggregate to one")
    values = result[0].get("values") if isinstance(result[0], Mapping) else None
    if not isinstance(values, list):
        raise MetricsError(f"{where}.data.result[0].values: missing")
    out: list[tuple[float, float]] = []
    for index, pair in enumerate(values):
        try:
            ts, value = float(pair[0]), float(pair[1])
        except (TypeError, ValueError, IndexError, KeyError):
            raise MetricsError(f"{where}.data.result[0].values[{index}]: not [timestamp, \"value\"]") from None
        if math.isfinite(value):  # NaN/Inf samples (a division by zero upstream) carry no measurement
            out.append((ts, value))
    return out


def load(path: str) -> Metrics:
    """A ``--metrics`` file, bounded and checked."""
    try:
        document = load_json(path, limit=REPORT_LIMIT)
    except BoundedReadError as exc:
        raise MetricsError(str(exc)) from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise MetricsError(f"{path}: schema: expected {SCHEMA!r} (a file written by --save-metrics)")
    window = document.get("window")
    try:
        win = Window(int(window["start"]), int(window["end"]), int(window["step"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise MetricsError(f"{path}: window: needs integer start, end and step (unix seconds)") from None
    if not win.start < win.end or win.step <= 0:
        raise MetricsError(f"{path}: window: start must be before end and step positive")
    responses = document.get("responses")
    if not isinstance(responses, dict):
        raise MetricsError(f"{path}: responses: must map each query to its query_range response")
    metrics = Metrics(win, path, dict(responses))
    for query in responses:  # fail on a malformed response now, not halfway through the analysis
        metrics.samples(query)
    return metrics


def _error_text(body: bytes) -> str | None:
    try:
        document = json.loads(body[:65536])
    except ValueError:
        return None
    if isinstance(document, dict) and document.get("status") == "error":
        return f"{document.get('errorType', 'error')}: {document.get('error', '')}".strip()
    return None


def query_range(base_url: str, query: str, window: Window, timeout: float = TIMEOUT_SECONDS) -> Any:
    """One ``/api/v1/query_range`` call (POST, form-encoded, as the API documents)."""
    url = base_url.rstrip("/") + "/api/v1/query_range"
    body = urllib.parse.urlencode({"query": query, "start": window.start, "end": window.end,
                                   "step": window.step}).encode()
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (the user's URL)
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (the user's URL)
            data = reply.read(RESPONSE_LIMIT + 1)
    except urllib.error.HTTPError as exc:
        detail = _error_text(exc.read(65536)) or exc.reason
        raise MetricsError(f"{base_url}: query_range answered HTTP {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise MetricsError(f"{base_url}: unreachable: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise MetricsError(f"{base_url}: unreachable: {exc}") from None
    if len(data) > RESPONSE_LIMIT:
        raise MetricsError(f"{base_url}: a query_range answer is over {RESPONSE_LIMIT // 2**20} MiB")
    try:
        document = loads_json(data.decode("utf-8", "replace"), base_url)
    except BoundedReadError as exc:
        raise MetricsError(f"{base_url}: not a Prometheus API answer: {exc.problem}") from None
    _samples(document, f"{base_url}: query_range")  # the shape is checked once, here
    return document


def fetch(base_url: str, queries: Iterable[str], window: Window) -> Metrics:
    """Every query over the window. Errors stop the run; empty answers are kept (judged later)."""
    parsed = urllib.parse.urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise MetricsError(f"--prometheus: {base_url!r} is not an http(s):// URL")
    metrics = Metrics(window, base_url)
    for query in dict.fromkeys(queries):
        metrics.responses[query] = query_range(base_url, query, window)
    return metrics
