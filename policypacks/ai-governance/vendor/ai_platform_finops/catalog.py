"""The dated instance catalog: EC2 on-demand prices per region and GPU specs per instance type.

Data files are self-describing CSVs whose leading ``# key: value`` lines carry their region,
date and source. They are loaded once per process (``lru_cache``): callers on hot paths (config
validation, the estimator, policies) share one parsed copy. Prices drift (p5.48xlarge went from
98.32 to 55.04 $/h between Karpenter's January 2025 and July 2026 tables), so a snapshot always
travels with its date and can be refreshed with ``python -m preflight prices refresh``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
GPU_SPECS_FILE = DATA_DIR / "ec2-gpu-specs.csv"


@dataclass(frozen=True)
class GpuSpec:
    instance_type: str
    gpu_model: str
    gpu_count: float
    """Fractional for g6f/gr6f, which carry a slice of one L4."""
    gpu_memory_gib: float


@dataclass(frozen=True)
class PriceTable:
    """On-demand USD/hour per instance type for one region, with provenance."""

    region: str
    date: str
    source: str
    usd_per_hour: dict[str, float] = field(default_factory=dict)

    def price(self, instance_type: str) -> float | None:
        return self.usd_per_hour.get(instance_type)


def _split_header(text: str) -> tuple[dict[str, str], str]:
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") and not body:
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
        else:
            body.append(line)
    return meta, "\n".join(body)


def read_price_table(path: Path) -> PriceTable:
    """Parse a price snapshot (as shipped, or as written by the refresh command)."""
    meta, body = _split_header(path.read_text(encoding="utf-8"))
    prices = {row["instance_type"]: float(row["usd_per_hour"]) for row in csv.DictReader(io.StringIO(body))}
    return PriceTable(
        region=meta.get("region", ""),
        date=meta.get("date", ""),
        source=meta.get("source", ""),
        usd_per_hour=prices,
    )


def write_price_table(table: PriceTable, path: Path) -> None:
    """Write a snapshot in the format ``read_price_table`` loads."""
    lines = [f"# region: {table.region}", f"# date: {table.date}", f"# source: {table.source}", "instance_type,usd_per_hour"]
    lines += [f"{name},{price:.6f}" for name, price in sorted(table.usd_per_hour.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def price_file(region: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"ec2-ondemand-{region}.csv"


@lru_cache(maxsize=None)
def price_table(region: str, data_dir: Path = DATA_DIR) -> PriceTable | None:
    """The shipped snapshot for ``region``, or None: a region without data is never guessed."""
    path = price_file(region, data_dir)
    return read_price_table(path) if path.exists() else None


@lru_cache(maxsize=1)
def gpu_specs() -> dict[str, GpuSpec]:
    """NVIDIA GPU specs per instance type (Inferentia/Trainium are not NVIDIA GPUs: absent)."""
    _, body = _split_header(GPU_SPECS_FILE.read_text(encoding="utf-8"))
    return {
        row["instance_type"]: GpuSpec(
            instance_type=row["instance_type"],
            gpu_model=row["gpu_model"],
            gpu_count=float(row["gpu_count"]),
            gpu_memory_gib=float(row["gpu_memory_gib_total"]),
        )
        for row in csv.DictReader(io.StringIO(body))
    }


def gpu_count(instance_type: str) -> int:
    """Whole NVIDIA GPUs per instance, as ``nvidia.com/gpu`` counts them.

    0 for a type the catalog does not list, and for fractional-GPU types (g6f, gr6f): a slice of
    a GPU is not a whole ``nvidia.com/gpu`` and ai-platform does not schedule onto it.
    """
    spec = gpu_specs().get(instance_type)
    if spec is None or spec.gpu_count < 1 or not spec.gpu_count.is_integer():
        return 0
    return int(spec.gpu_count)


def gpu_specs_provenance() -> dict[str, str]:
    meta, _ = _split_header(GPU_SPECS_FILE.read_text(encoding="utf-8"))
    return meta
