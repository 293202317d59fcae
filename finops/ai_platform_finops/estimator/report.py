"""The figures of a cost estimate and the report sections built from them.

An :class:`Estimate` holds one :class:`CostItem` per priced resource (or stack-wide usage line),
each with ``min``/``expected``/``max`` :class:`Figures` for a 730-hour month, the basis that
recomputes them, and the assumptions they rest on; ``section()`` is preflight's ``cost`` section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .. import rates
from ..resource_types import EIP, KMS_KEY
from ..usage import Usage, setting

HOURS = rates.HOURS_PER_MONTH
CURRENCY = "USD"


@dataclass(frozen=True)
class Figures:
    min: float = 0.0
    expected: float = 0.0
    max: float = 0.0

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(self.min + other.min, self.expected + other.expected, self.max + other.max)

    def times(self, factor: float) -> "Figures":
        return Figures(self.min * factor, self.expected * factor, self.max * factor)

    def rounded(self) -> "Figures":
        return Figures(round(self.min, 2), round(self.expected, 2), round(self.max, 2))

    def get(self, basis: str) -> float:
        """``min``, ``expected`` or ``max``."""
        return {"min": self.min, "expected": self.expected, "max": self.max}[basis]

    def as_dict(self) -> dict[str, float]:
        return {"min": self.min, "expected": self.expected, "max": self.max}


@dataclass(frozen=True)
class CostItem:
    urn: str
    type: str
    name: str
    project: str
    figures: Figures
    basis: str
    """How the figures were reached, with every rate, so a reader can recompute them."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """What drives the price (instance type, capacity type, sizes, disk...): a diff names what changed."""
    lines: tuple[Mapping[str, Any], ...] = ()
    """Usage-based and small fixed charges: each ``quantity x unit_price = usd``, with the
    ``setting`` that holds the quantity's assumption (None for a fixed quantity)."""

    @property
    def usage_based(self) -> bool:
        return any(line.get("setting") for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        out = {"urn": self.urn, "type": self.type, "project": self.project, **self.figures.as_dict(), "basis": self.basis}
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        if self.lines:
            out["lines"] = [dict(line) for line in self.lines]
        return out


def cost_line(what: str, quantity: float, unit: str, unit_price: float, setting_key: str | None = None,
          assumed: float | None = None) -> dict[str, Any]:
    """One priced component: ``quantity`` ``unit`` x ``unit_price`` USD a month."""
    return {"what": what, "quantity": round(quantity, 4), "unit": unit, "unit_price": unit_price,
            "usd": round(quantity * unit_price, 2), "setting": setting_key, "assumed": assumed}


@dataclass(frozen=True)
class SpotRange:
    urn: str
    name: str
    project: str
    spot: Figures
    on_demand: Figures
    """The same node-hours at the on-demand price: what the pool costs when it falls back to on-demand."""


@dataclass(frozen=True)
class CatalogInfo:
    source: str
    date: str
    region: str


@dataclass
class Estimate:
    catalog: CatalogInfo
    items: list[CostItem] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    """The assumptions that stand in for an input unknown at preview (also in ``assumptions``): a gate
    that must fail closed can treat a non-empty list as "cannot verify"."""
    hours_per_month: int = HOURS
    currency: str = CURRENCY
    on_demand_base: float = 0.0
    """EC2 compute billed on-demand 24x7 at the minimum sizes: what a Savings Plan could cover."""
    spot: list[SpotRange] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    @property
    def total(self) -> Figures:
        total = Figures()
        for item in self.items:
            total = total + item.figures
        return total.rounded()

    def by_project(self) -> dict[str, Figures]:
        out: dict[str, Figures] = {}
        for item in self.items:
            out[item.project] = out.get(item.project, Figures()) + item.figures
        return {p: f.rounded() for p, f in sorted(out.items())}

    def top_items(self, count: int = 3, basis: str = "expected", project: str | None = None) -> list[CostItem]:
        chosen = [i for i in self.items if project is None or i.project == project]
        return sorted(chosen, key=lambda i: -i.figures.get(basis))[:count]

    def section(self, budgets: Mapping[str, float] | None = None) -> dict[str, Any]:
        """The ``cost`` section of a preflight/v1 report (``budgets``: monthly USD per project)."""
        budgets = budgets or {}
        projects = self.by_project()
        for name in budgets:
            projects.setdefault(name, Figures())
        return {
            "currency": self.currency,
            "hours_per_month": self.hours_per_month,
            "catalog": {"source": self.catalog.source, "date": self.catalog.date, "region": self.catalog.region},
            "total": self.total.as_dict(),
            "by_project": {
                name: {**projects[name].as_dict(), "budget": budgets.get(name)} for name in sorted(projects)
            },
            "items": [item.as_dict() for item in self.items],
            "assumptions": list(self.assumptions),
            "usage": self.usage_section(),
            "fixed": self.fixed_section(),
            "commitments": self.commitments_section(),
            "spot": [
                {"urn": s.urn, "name": s.name, "project": s.project, "spot": s.spot.rounded().as_dict(),
                 "on_demand": s.on_demand.rounded().as_dict()} for s in self.spot
            ],
        }

    def usage_section(self) -> dict[str, Any]:
        """The usage assumptions and the lines priced from them."""
        return {
            "assumptions": {setting(key): value for key, value in self.usage.as_config().items()},
            "lines": [
                {"urn": i.urn, "type": i.type, "name": i.name, "project": i.project, "usd": i.figures.expected,
                 "lines": [dict(line) for line in i.lines]}
                for i in self.items if i.usage_based
            ],
        }

    def fixed_section(self) -> dict[str, Any]:
        """Small fixed charges summed: KMS keys and public IPv4 addresses (Elastic IPs and load balancers')."""
        keys = [i for i in self.items if i.type == KMS_KEY]
        addresses = 0.0
        for item in self.items:
            if item.type == EIP:
                addresses += 1
            for line in item.lines:
                if line.get("unit") == "IPv4 address-h":
                    addresses += float(line["quantity"]) / HOURS
        key_usd = round(sum(i.figures.expected for i in keys), 2)
        ipv4_usd = round(addresses * HOURS * rates.PUBLIC_IPV4_HOUR.usd, 2)
        return {
            "kms_keys": {"count": len(keys), "unit_price": rates.KMS_KEY_MONTH.usd, "unit": "key-month", "usd": key_usd},
            "public_ipv4": {"count": round(addresses, 4), "unit_price": rates.PUBLIC_IPV4_HOUR.usd, "unit": "address-hour",
                            "hours": HOURS, "usd": ipv4_usd},
            "usd": round(key_usd + ipv4_usd, 2),
        }

    def commitments_section(self) -> dict[str, Any]:
        plan = rates.COMPUTE_SAVINGS_PLAN_1YR_NO_UPFRONT
        base = round(self.on_demand_base, 2)
        return {
            "on_demand_base": base,
            "savings_plan": {"term": "1-year no-upfront Compute Savings Plan", "discount": plan.usd,
                             "as_of": rates.SAVINGS_PLAN_AS_OF, "source": plan.source,
                             "saving": round(base * plan.usd, 2)},
        }


def rate_str(value: float) -> str:
    """A rate as printed in a basis: 1.006, 0.3521, 0.1."""
    return f"{value:.6g}"


def count_str(value: float) -> str:
    """A node count or node-hours figure: up to 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"
