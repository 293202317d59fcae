"""``python -m preflight prices refresh``: a dated EC2 price snapshot from the AWS Pricing API.

It asks ``pricing:GetProducts`` (the Price List Query API, served from us-east-1 whatever the
region priced) for ServiceCode ``AmazonEC2``, paginated, with the TERM_MATCH filters
karpenter-provider-aws uses (``pkg/providers/pricing/pricing.go``): ``regionCode``,
``operatingSystem=Linux``, ``tenancy=Shared``, ``capacitystatus=Used``, ``preInstalledSw=NA``,
``licenseModel=No License required``, ``marketoption=OnDemand``, plus ``instanceType`` for each
``--instance-type`` given. Each ``PriceList`` entry is a JSON *string*; the hourly price is at
``terms.OnDemand.<term>.priceDimensions.<rate>.pricePerUnit.USD``.

The snapshot is written where ``ai_platform_finops.catalog.price_table`` loads it
(``finops/ai_platform_finops/data/ec2-ondemand-<region>.csv``) unless ``--out`` says otherwise.
It needs AWS credentials allowed ``pricing:GetProducts``; nothing else in preflight does.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from ai_platform_finops.catalog import PriceTable, parse_price_table, price_file, render_price_table

from .bounded import PRICES_LIMIT, BoundedReadError, read_text
from .safe_io import atomic_write_text

PRICING_REGION = "us-east-1"
SERVICE_CODE = "AmazonEC2"
FIXED_FILTERS: tuple[tuple[str, str], ...] = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("capacitystatus", "Used"),
    ("preInstalledSw", "NA"),
    ("licenseModel", "No License required"),
    ("marketoption", "OnDemand"),
)


class RefreshError(Exception):
    """The refresh cannot produce a snapshot; the message says why (exit 2)."""


class MalformedItem(ValueError):
    pass


def filters(region: str, instance_type: str | None = None) -> list[dict[str, str]]:
    """The TERM_MATCH filters of one GetProducts query."""
    terms = [("regionCode", region), *FIXED_FILTERS]
    if instance_type is not None:
        terms.insert(0, ("instanceType", instance_type))
    return [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in terms]


def parse_item(item: Any) -> tuple[str, float | None]:
    """(instance type, USD per hour) of one PriceList entry; the price is None without a USD price.

    Raises MalformedItem when the entry is not the JSON document the API documents.
    """
    try:
        document = json.loads(item) if isinstance(item, str) else item
    except json.JSONDecodeError as exc:
        raise MalformedItem(f"not JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise MalformedItem("not a JSON object")
    product = document.get("product")
    attributes = product.get("attributes") if isinstance(product, dict) else None
    instance_type = attributes.get("instanceType") if isinstance(attributes, dict) else None
    if not isinstance(instance_type, str) or not instance_type:
        raise MalformedItem("no product.attributes.instanceType")
    terms = document.get("terms")
    on_demand = terms.get("OnDemand") if isinstance(terms, dict) else None
    if not isinstance(on_demand, dict):
        raise MalformedItem(f"{instance_type}: no terms.OnDemand")
    for term in on_demand.values():
        dimensions = term.get("priceDimensions") if isinstance(term, dict) else None
        for dimension in (dimensions or {}).values() if isinstance(dimensions, dict) else ():
            per_unit = dimension.get("pricePerUnit") if isinstance(dimension, dict) else None
            usd = per_unit.get("USD") if isinstance(per_unit, dict) else None
            try:
                price = float(usd) if usd is not None else 0.0
            except (TypeError, ValueError):
                raise MalformedItem(f"{instance_type}: pricePerUnit.USD {usd!r} is not a number") from None
            if price > 0:
                return instance_type, price
    return instance_type, None


@dataclass
class RefreshResult:
    table: PriceTable
    pages: int = 0
    items: int = 0
    no_usd: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


def make_client() -> Any:
    """A boto3 pricing client (tests replace this with a stubbed client)."""
    import boto3

    return boto3.client("pricing", region_name=PRICING_REGION)


def fetch(client: Any, region: str, instance_types: Sequence[str] = (), now: datetime | None = None) -> RefreshResult:
    """Every on-demand Linux price for ``region`` (or only ``instance_types``) as a dated table."""
    now = now or datetime.now(timezone.utc)
    queries: Iterable[str | None] = instance_types or [None]
    prices: dict[str, float] = {}
    result = RefreshResult(table=PriceTable(region=region, date="", source=""))
    paginator = client.get_paginator("get_products")
    for instance_type in queries:
        pages = paginator.paginate(ServiceCode=SERVICE_CODE, Filters=filters(region, instance_type),
                                   FormatVersion="aws_v1", PaginationConfig={"PageSize": 100})
        for page in pages:
            result.pages += 1
            for item in page.get("PriceList", []):
                result.items += 1
                try:
                    name, price = parse_item(item)
                except MalformedItem as exc:
                    result.malformed.append(str(exc))
                    continue
                if price is None:
                    result.no_usd.append(name)
                else:
                    prices.setdefault(name, price)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = (f"AWS Price List Query API pricing:GetProducts ServiceCode={SERVICE_CODE}, TERM_MATCH regionCode={region}, "
              + ", ".join(f"{k}={v}" for k, v in FIXED_FILTERS)
              + (f", instanceType in {sorted(instance_types)}" if instance_types else "")
              + f"; fetched {stamp} by python -m preflight prices refresh")
    result.table = PriceTable(region=region, date=now.date().isoformat(), source=source, usd_per_hour=prices)
    return result


def merge(partial: PriceTable, existing: PriceTable) -> PriceTable:
    """A partial refresh (some instance types) laid over an earlier snapshot of the same region."""
    merged = dict(existing.usd_per_hour)
    merged.update(partial.usd_per_hour)
    source = (f"{partial.source}; the other {len(merged) - len(partial.usd_per_hour)} types from the snapshot "
              f"dated {existing.date} ({existing.source})")
    return PriceTable(region=partial.region, date=partial.date, source=source, usd_per_hour=merged)


MAX_DROPPED_FRACTION = 0.05
"""A refresh that would drop more of the snapshot's rows than this needs ``--allow-shrink``."""


def read_snapshot(path: Path) -> PriceTable:
    """The existing snapshot at ``path``, read within bounds; RefreshError when it is damaged."""
    try:
        return parse_price_table(read_text(path, PRICES_LIMIT))
    except BoundedReadError as exc:
        raise RefreshError(f"{exc}; nothing was written") from None
    except ValueError as exc:
        raise RefreshError(f"{path}: the existing snapshot is damaged ({exc}); fix or remove it, "
                           "nothing was written") from None


def shrink_problem(new: PriceTable, existing: PriceTable, limit: float = MAX_DROPPED_FRACTION) -> str | None:
    """Why replacing ``existing`` by ``new`` needs an explicit flag, or None."""
    dropped = sorted(set(existing.usd_per_hour) - set(new.usd_per_hour))
    if not existing.usd_per_hour or len(dropped) <= limit * len(existing.usd_per_hour):
        return None
    shown = ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else "")
    return (f"the refresh would drop {len(dropped)} of the snapshot's {len(existing.usd_per_hour)} prices ({shown}), "
            f"more than {limit:.0%}; pass --allow-shrink if that is intended. Nothing was written.")


def refresh(region: str, out: Path | None = None, instance_types: Sequence[str] = (), client: Any = None,
            now: datetime | None = None, allow_shrink: bool = False) -> tuple[Path, RefreshResult]:
    """Fetch and write the snapshot; returns where it went and what was skipped.

    A partial refresh (``instance_types``) merges into the existing snapshot; a full one replaces
    it, but not when it would drop more than a few percent of its rows unless ``allow_shrink``.
    A damaged existing snapshot is an error, checked before the API is asked anything.
    """
    path = out if out is not None else price_file(region)
    existing = read_snapshot(path) if path.exists() or path.is_symlink() else None
    if existing is not None and existing.region and existing.region != region:
        raise RefreshError(f"{path}: holds prices for {existing.region}, not {region}; nothing was written")
    if client is None:
        client = make_client()
    try:
        result = fetch(client, region, instance_types, now)
    except Exception as exc:  # botocore raises many types: credentials, endpoint, throttling, validation
        if type(exc).__module__.split(".")[0] not in ("botocore", "boto3"):
            raise
        raise RefreshError(f"AWS Pricing API: {exc}") from None
    if not result.table.usd_per_hour:
        raise RefreshError(
            f"the AWS Pricing API returned no on-demand Linux price for region {region!r} "
            f"({result.items} item(s), {len(result.no_usd)} without a USD price, {len(result.malformed)} malformed); "
            "is the region code right (e.g. eu-west-1)? Nothing was written."
        )
    table = result.table
    if existing is not None:
        if instance_types:
            table = merge(table, existing)
        elif not allow_shrink:
            problem = shrink_problem(table, existing)
            if problem:
                raise RefreshError(f"{path}: {problem}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, render_price_table(table))
    except OSError as exc:
        raise RefreshError(f"{path}: cannot write: {exc.strerror or exc}") from None
    result.table = table
    return path, result


def main(region: str, out: str | None, instance_types: Sequence[str], allow_shrink: bool = False) -> int:
    """The CLI command; prints a one-line summary (and skipped items) and returns 0."""
    path, result = refresh(region, Path(out) if out else None, instance_types, allow_shrink=allow_shrink)
    print(f"wrote {len(result.table.usd_per_hour)} on-demand prices for {region} dated {result.table.date} to {path} "
          f"({result.pages} page(s), {result.items} item(s); skipped {len(result.no_usd)} without a USD price, "
          f"{len(result.malformed)} malformed)")
    for problem in result.malformed[:10]:
        print(f"  malformed item: {problem}", file=sys.stderr)
    return 0
