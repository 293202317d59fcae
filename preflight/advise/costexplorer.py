"""Actual spend: Cost Explorer ``GetCostAndUsage``, daily, grouped by the FinOps project tag and the AWS
service, or the same responses saved to a file (``--costs``; ``--save-costs`` writes one).

A saved file is a JSON list of the responses (pages) exactly as boto3 returns them, or one response.
Tag group keys come back as ``<tag key>$<value>`` (``$`` alone: resources without the tag).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from ..bounded import REPORT_LIMIT, BoundedReadError, load_json

METRIC = "UnblendedCost"
UNTAGGED = "(untagged)"
MAX_PAGES = 100
CE_REGION = "us-east-1"
"""Cost Explorer's API endpoint is in us-east-1 whatever the resources' region."""


class CostsError(Exception):
    """Spend the advisor cannot use; ``str()`` is one ``source: what is wrong`` line (exit 2)."""


@dataclass
class Costs:
    """Daily spend per project and per (project, AWS service)."""

    source: str
    days: list[date] = field(default_factory=list)
    by_project: dict[str, dict[date, float]] = field(default_factory=dict)
    by_service: dict[str, dict[str, dict[date, float]]] = field(default_factory=dict)
    estimated: set[date] = field(default_factory=set)
    pages: list[Any] = field(default_factory=list)

    def series(self, project: str) -> list[float]:
        daily = self.by_project.get(project, {})
        return [daily.get(day, 0.0) for day in self.days]


def request(tag_key: str, start: date, end: date) -> dict[str, Any]:
    """The GetCostAndUsage parameters (End is exclusive, as the API defines it)."""
    return {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [METRIC],
        "GroupBy": [{"Type": "TAG", "Key": tag_key}, {"Type": "DIMENSION", "Key": "SERVICE"}],
    }


def make_client() -> Any:
    """A boto3 Cost Explorer client (tests stub it with botocore's Stubber)."""
    import boto3

    return boto3.client("ce", region_name=CE_REGION)


_MESSAGES = {
    "AccessDeniedException": "access denied: the caller needs ce:GetCostAndUsage (and Cost Explorer enabled)",
    "ThrottlingException": "throttled by Cost Explorer (retries exhausted); run again later",
    "LimitExceededException": "Cost Explorer's request limit was exceeded; run again later",
    "DataUnavailableException": "Cost Explorer has no data for this window yet",
    "BillExpirationException": "the window reaches past the bills Cost Explorer keeps",
    "RequestChangedException": "the request changed between pages; run again",
}


def fetch(client: Any, tag_key: str, start: date, end: date) -> Costs:
    """Every page of the daily spend between ``start`` and ``end`` (exclusive)."""
    from botocore.exceptions import BotoCoreError, ClientError

    params = request(tag_key, start, end)
    pages: list[Any] = []
    token: str | None = None
    try:
        for _ in range(MAX_PAGES):
            page = client.get_cost_and_usage(**params, **({"NextPageToken": token} if token else {}))
            page = {k: v for k, v in page.items() if k != "ResponseMetadata"}
            pages.append(page)
            token = page.get("NextPageToken")
            if not token:
                break
        else:
            raise CostsError(f"--cost-explorer: more than {MAX_PAGES} pages; shorten --days")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        text = _MESSAGES.get(code) or exc.response.get("Error", {}).get("Message") or str(exc)
        raise CostsError(f"--cost-explorer: GetCostAndUsage: {code}: {text}") from None
    except BotoCoreError as exc:
        raise CostsError(f"--cost-explorer: {exc}") from None
    return parse(pages, tag_key, "--cost-explorer")


def load(path: str, tag_key: str) -> Costs:
    try:
        document = load_json(path, limit=REPORT_LIMIT)
    except BoundedReadError as exc:
        raise CostsError(str(exc)) from None
    pages = document if isinstance(document, list) else [document]
    return parse(pages, tag_key, path)


def _amount(value: Any, where: str) -> float:
    try:
        amount = float(value["Amount"])
    except (TypeError, KeyError, ValueError):
        raise CostsError(f"{where}: needs Amount, a number as a string") from None
    unit = value.get("Unit", "USD")
    if unit != "USD":
        raise CostsError(f"{where}.Unit: {unit!r}; the advisor compares USD against USD budgets")
    return amount


def parse(pages: list[Any], tag_key: str, source: str) -> Costs:
    """Responses in boto3's shape -> daily spend. Every malformed field is named by its path."""
    costs = Costs(source=source, pages=pages)
    by_project: dict[str, dict[date, float]] = defaultdict(dict)
    by_service: dict[str, dict[str, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    days: set[date] = set()
    prefix = f"{tag_key}$"
    for p, page in enumerate(pages):
        where = f"{source}: [{p}]"
        if not isinstance(page, Mapping) or not isinstance(page.get("ResultsByTime"), list):
            raise CostsError(f"{where}.ResultsByTime: missing (not a GetCostAndUsage response)")
        for r, result in enumerate(page["ResultsByTime"]):
            at = f"{where}.ResultsByTime[{r}]"
            try:
                day = date.fromisoformat(str(result["TimePeriod"]["Start"]))
            except (TypeError, KeyError, ValueError):
                raise CostsError(f"{at}.TimePeriod.Start: not an ISO date") from None
            days.add(day)
            if result.get("Estimated"):
                costs.estimated.add(day)
            groups = result.get("Groups")
            if not isinstance(groups, list):
                raise CostsError(f"{at}.Groups: missing; the request must group by the project tag")
            for g, group in enumerate(groups):
                gat = f"{at}.Groups[{g}]"
                keys = group.get("Keys") if isinstance(group, Mapping) else None
                if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                    raise CostsError(f"{gat}.Keys: must be a list of strings")
                if not keys[0].startswith(prefix):
                    raise CostsError(f"{gat}.Keys[0]: {keys[0][:60]!r} is not grouped by the tag {tag_key!r}")
                project = keys[0][len(prefix):] or UNTAGGED
                service = keys[1] if len(keys) > 1 else "(all services)"
                metrics = group.get("Metrics")
                if not isinstance(metrics, Mapping) or METRIC not in metrics:
                    raise CostsError(f"{gat}.Metrics.{METRIC}: missing")
                amount = _amount(metrics[METRIC], f"{gat}.Metrics.{METRIC}")
                by_project[project][day] = by_project[project].get(day, 0.0) + amount
                by_service[project][service][day] = by_service[project][service].get(day, 0.0) + amount
    if not days:
        raise CostsError(f"{source}: no days of spend in the responses")
    costs.days = sorted(days)
    costs.by_project = dict(by_project)
    costs.by_service = {p: dict(s) for p, s in by_service.items()}
    return costs
