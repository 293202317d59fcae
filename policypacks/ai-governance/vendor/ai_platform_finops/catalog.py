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
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
GPU_SPECS_FILE = DATA_DIR / "ec2-gpu-specs.csv"
NEURON_SPECS_FILE = DATA_DIR / "ec2-neuron-specs.csv"
NVIDIA = "NVIDIA"
"""The model-name prefix of NVIDIA GPUs in the specs file (AMD's Radeon Pro V520 on g4ad is not one)."""


@dataclass(frozen=True)
class GpuSpec:
    instance_type: str
    gpu_model: str
    gpu_count: float
    """Fractional for g6f/gr6f, which carry a slice of one L4."""
    gpu_memory_gib: float


@dataclass(frozen=True)
class NeuronSpec:
    instance_type: str
    devices: int
    """Inferentia/Trainium chips, as ``aws.amazon.com/neuron`` counts them."""
    cores: int | None
    """NeuronCores, as ``aws.amazon.com/neuroncore`` counts them; None where that depends on the
    node's Logical NeuronCore configuration (Trainium2 and later), which a stack cannot declare."""


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


def parse_price_table(text: str) -> PriceTable:
    """Parse a price snapshot's text; ValueError names the first bad row (a refresh must never
    treat a damaged snapshot as empty and replace it)."""
    meta, body = _split_header(text)
    reader = csv.DictReader(io.StringIO(body))
    if reader.fieldnames is None or not {"instance_type", "usd_per_hour"} <= set(reader.fieldnames):
        raise ValueError("no 'instance_type,usd_per_hour' header")
    prices: dict[str, float] = {}
    for row in reader:
        where = f"row {reader.line_num - 1}"
        name, raw = (row.get("instance_type") or "").strip(), row.get("usd_per_hour")
        if not name:
            raise ValueError(f"{where}: no instance type")
        try:
            price = float(raw or "")
        except ValueError:
            raise ValueError(f"{where}: {name}: price {raw!r} is not a number") from None
        if not math.isfinite(price) or price < 0:
            raise ValueError(f"{where}: {name}: price {raw!r} is not a finite, non-negative number")
        if name in prices:
            raise ValueError(f"{where}: {name} appears twice")
        prices[name] = price
    return PriceTable(region=meta.get("region", ""), date=meta.get("date", ""), source=meta.get("source", ""),
                      usd_per_hour=prices)


def read_price_table(path: Path) -> PriceTable:
    """Parse a price snapshot (as shipped, or as written by the refresh command)."""
    return parse_price_table(path.read_text(encoding="utf-8"))


def render_price_table(table: PriceTable) -> str:
    """A snapshot's text, in the format ``parse_price_table`` reads."""
    lines = [f"# region: {table.region}", f"# date: {table.date}", f"# source: {table.source}", "instance_type,usd_per_hour"]
    lines += [f"{name},{price:.6f}" for name, price in sorted(table.usd_per_hour.items())]
    return "\n".join(lines) + "\n"


def write_price_table(table: PriceTable, path: Path) -> None:
    """Write a snapshot in the format ``read_price_table`` loads (preflight writes it atomically)."""
    path.write_text(render_price_table(table), encoding="utf-8")


def price_file(region: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"ec2-ondemand-{region}.csv"


@lru_cache(maxsize=None)
def price_table(region: str, data_dir: Path = DATA_DIR) -> PriceTable | None:
    """The shipped snapshot for ``region``, or None: a region without data is never guessed."""
    path = price_file(region, data_dir)
    return read_price_table(path) if path.exists() else None


@lru_cache(maxsize=1)
def gpu_specs() -> dict[str, GpuSpec]:
    """GPU specs (NVIDIA and AMD) per instance type (Inferentia/Trainium are not GPUs: absent)."""
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


def whole_gpus(instance_type: str, vendor: str) -> int:
    """Whole GPUs of ``vendor`` (the model-name prefix: ``NVIDIA``, ``AMD``) per instance.

    0 for a type the catalog does not list, for another vendor's GPUs, and for fractional-GPU
    types (g6f, gr6f): a slice of a GPU is not a whole device-plugin GPU.
    """
    spec = gpu_specs().get(instance_type)
    if spec is None or not spec.gpu_model.startswith(vendor) or spec.gpu_count < 1 or not spec.gpu_count.is_integer():
        return 0
    return int(spec.gpu_count)


def gpu_count(instance_type: str) -> int:
    """Whole NVIDIA GPUs per instance, as ``nvidia.com/gpu`` counts them (g4ad's AMD GPUs are not)."""
    return whole_gpus(instance_type, NVIDIA)


@lru_cache(maxsize=1)
def neuron_specs() -> dict[str, NeuronSpec]:
    """Neuron devices and cores per Inferentia/Trainium instance type (see the file's source; an
    empty ``neuron_cores`` is a count that depends on the Logical NeuronCore configuration)."""
    _, body = _split_header(NEURON_SPECS_FILE.read_text(encoding="utf-8"))
    return {
        row["instance_type"]: NeuronSpec(row["instance_type"], int(row["neuron_devices"]),
                                         int(row["neuron_cores"]) if row["neuron_cores"].strip() else None)
        for row in csv.DictReader(io.StringIO(body))
    }


def gpu_specs_provenance() -> dict[str, str]:
    meta, _ = _split_header(GPU_SPECS_FILE.read_text(encoding="utf-8"))
    return meta
