"""The stack's accelerator node pools as scheduling sees them (labels, taints, instance types,
max size, the NVIDIA device plugin's MIG strategy), built once per stack and indexed by node label.

A pool's MIG strategy is what the stack declares for it: the node group's
``nvidia.com/mig.strategy`` label, and the ``migStrategy`` (``mig.strategy``) value of every
``nvidia-device-plugin`` (``gpu-operator``) Helm release whose ``nodeSelector`` the pool's labels
satisfy, chart defaults included (``ai_platform_finops.accelerators.DEVICE_PLUGIN_CHARTS``). When
these disagree, or a release's values are unknown or hand the plugin config files (whose
``flags.migStrategy`` overrides the value), the strategy is unknown and MIG counts fail closed.
The GPU Operator runs its device plugin on every GPU node, so it serves every pool (unless its
``devicePlugin.enabled`` is false). Release ``affinity`` is not read: it can only narrow the nodes
a ``nodeSelector`` picks."""

from __future__ import annotations

from dataclasses import dataclass

from ai_platform_finops import accelerators

from . import aws, k8s
from .k8s.helm_files import release_values
from .k8s.metadata import chart_name
from .props import MISSING, UNKNOWN, flag, get, string_map, text
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
    mig_strategy: str | None = None
    """The device plugin's MIG strategy on the pool's nodes (none/single/mixed); None when unknown."""

    def per_instance(self, resource: str) -> int | None:
        """How many of ``resource`` every instance of the pool offers (the least over its types);
        None when the catalog cannot say (trn2 NeuronCores; MIG slices without a uniform layout
        label; MIG GPUs under an unknown strategy)."""
        mig_config = self.labels.get(accelerators.MIG_CONFIG_LABEL)
        counts = [accelerators.per_instance(t, resource, mig_config, self.mig_strategy)
                  for t in self.pool.instance_types]
        if not counts:
            return 0
        if any(n == 0 for n in counts):
            return 0
        if any(n is None for n in counts):
            return None
        return min(n for n in counts if n is not None)

    def unit(self, resource: str) -> str:
        """What ``per_instance(resource)`` counts, for messages."""
        if resource != accelerators.GPU_RESOURCE:
            return resource
        layout = accelerators.mig_layout(self.labels.get(accelerators.MIG_CONFIG_LABEL))
        if self.mig_strategy == "single" and layout == accelerators.ENABLED:
            return "GPU(s) (MIG slices: strategy single)"
        return "GPU(s)"


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


@dataclass(frozen=True)
class DevicePlugin:
    """One Helm release running the NVIDIA device plugin: the nodes it serves and its MIG strategy."""

    selector: dict[str, str] | None
    """Its pods' nodeSelector ({} for every GPU node); None when unknown."""
    strategy: str | None
    """none/single/mixed; None when the values leave it unknown."""

    def serves(self, labels: dict[str, str]) -> bool | None:
        if self.selector is None:
            return None
        return all(labels.get(k) == v for k, v in self.selector.items())


def device_plugin(release: Res) -> DevicePlugin | None:
    """The device plugin a Helm v3 release runs, or None when its chart is not one of
    ``DEVICE_PLUGIN_CHARTS`` or it turns its device plugin off."""
    chart = accelerators.DEVICE_PLUGIN_CHARTS.get(chart_name(release))
    if chart is None:
        return None
    values, _ = release_values(release)
    if values is UNKNOWN:
        return DevicePlugin(None, None)
    if chart.enabled is not None:
        enabled = get(values, *chart.enabled)
        if enabled is UNKNOWN:
            return DevicePlugin(None, None)
        if flag(enabled) is False:
            return None
    selector: dict[str, str] | None = {}
    if chart.node_selector is not None:
        raw = get(values, *chart.node_selector)
        known, unknown = string_map(raw)
        selector = None if raw is UNKNOWN or unknown else known
    if any(get(values, *path) not in (MISSING, None, "", {}) for path in chart.config_files):
        return DevicePlugin(selector, None)  # the config files' flags.migStrategy decide
    raw_strategy = get(values, *chart.strategy)
    strategy = chart.default if raw_strategy is MISSING or raw_strategy is None else text(raw_strategy)
    return DevicePlugin(selector, strategy if strategy in accelerators.MIG_STRATEGIES else None)


def mig_strategy(labels: dict[str, str], plugins: list[DevicePlugin]) -> str | None:
    """The MIG strategy every source the stack declares for a pool agrees on, or None."""
    found: set[str | None] = set()
    if accelerators.MIG_STRATEGY_LABEL in labels:
        value = labels[accelerators.MIG_STRATEGY_LABEL]
        found.add(value if value in accelerators.MIG_STRATEGIES else None)
    for plugin in plugins:
        serves = plugin.serves(labels)
        if serves is None:
            found.add(None)
        elif serves:
            found.add(plugin.strategy)
    return next(iter(found)) if len(found) == 1 else None


def _build_gpu_pools(stack: Stack) -> GpuPools:
    pools: list[GpuPool] = []
    by_label: dict[tuple[str, str], list[int]] = {}
    plugins = [p for p in (device_plugin(r) for r in stack.of_type(k8s.HELM_RELEASE)) if p is not None]
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
        pools.append(GpuPool(ng, pool, labels, taints, unknown, mig_strategy(labels, plugins)))
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


__all__ = ["DevicePlugin", "GpuPool", "GpuPools", "device_plugin", "gpu_pools", "mig_strategy"]
