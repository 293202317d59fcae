"""The stack's accelerator node pools as scheduling sees them (labels, taints, instance types,
max size), built once per stack and indexed by node label."""

from __future__ import annotations

from dataclasses import dataclass

from ai_platform_finops import accelerators

from . import aws, k8s
from .props import UNKNOWN, get
from .resources import Res, Stack


@dataclass(frozen=True)
class GpuPool:
    """A GPU node group with what scheduling onto it depends on, computed once per stack."""

    ng: Res
    pool: aws.Pool
    labels: dict[str, str]
    taints: list[k8s.Taint]
    unknown: bool
    """Labels, taints, instance types or max size unknown: the pool can neither be counted on nor ruled out."""

    def per_instance(self, resource: str) -> int | None:
        """How many of ``resource`` every instance of the pool offers (the least over its types);
        None when the catalog cannot say (trn2/trn3; MIG slices without a uniform layout label)."""
        mig_config = self.labels.get(accelerators.MIG_CONFIG_LABEL)
        counts = [accelerators.per_instance(t, resource, mig_config) for t in self.pool.instance_types]
        if not counts:
            return 0
        if any(n == 0 for n in counts):
            return 0
        if any(n is None for n in counts):
            return None
        return min(n for n in counts if n is not None)


@dataclass(frozen=True)
class GpuPools:
    pools: list[GpuPool]
    by_label: dict[tuple[str, str], list[int]]
    """Positions (in stack order) of the known pools carrying each node label."""

    def candidates(self, selector: dict[str, str]) -> list[GpuPool]:
        """The known pools whose labels hold every pair of ``selector``, in stack order."""
        if not selector:
            return [p for p in self.pools if not p.unknown]
        rarest = min((self.by_label.get(item, []) for item in selector.items()), key=len)
        return [pool for pool in (self.pools[i] for i in rarest)
                if all(pool.labels.get(k) == v for k, v in selector.items())]


def gpu_pools(stack: Stack) -> GpuPools:
    return stack.index("gpu-pools", _build_gpu_pools)


def _build_gpu_pools(stack: Stack) -> GpuPools:
    pools: list[GpuPool] = []
    by_label: dict[tuple[str, str], list[int]] = {}
    for ng in stack.of_type(aws.NODE_GROUP):
        lt = aws.launch_template_of(stack, ng)
        if not aws.is_gpu_pool(ng, lt) and not _accelerator_pool(ng, lt):
            continue
        pool = aws.pool(ng, lt)
        labels, labels_unknown = aws.node_labels(ng, pool.instance_types)
        taints, taints_unknown = aws.node_taints(ng)
        unknown = labels_unknown or taints_unknown or pool.instance_types_unknown or pool.max_size is UNKNOWN
        if not unknown:
            for item in labels.items():
                by_label.setdefault(item, []).append(len(pools))
        pools.append(GpuPool(ng, pool, labels, taints, unknown))
    return GpuPools(pools, by_label)


def _accelerator_pool(ng: Res, lt: Res | None) -> bool:
    """A node group whose instance types, AMI or taints carry a non-NVIDIA accelerator of the table."""
    types, _ = aws.instance_types(ng, lt)
    if any(accelerators.offered(t) for t in types):
        return True
    ami = get(ng.props, "amiType")
    if isinstance(ami, str) and "NEURON" in ami:
        return True
    taints, _ = aws.node_taints(ng)
    return any(t.key in accelerators.TAINT_KEYS for t in taints)


__all__ = ["GpuPool", "GpuPools", "gpu_pools"]
