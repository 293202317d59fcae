"""MIG strategies: what a MIG-partitioned pool offers depends on the NVIDIA device plugin's
``migStrategy`` (none: whole GPUs as ``nvidia.com/gpu``; single: the slices as ``nvidia.com/gpu``;
mixed: the slices as ``nvidia.com/mig-<profile>``, MIG GPUs no longer as ``nvidia.com/gpu``). The
pool's strategy comes from what the stack declares: the node group's ``nvidia.com/mig.strategy``
label and the device-plugin (or GPU Operator) Helm releases serving the pool. A MIG layout under an
unknown strategy fails closed. Table-driven through gRPC, plus the resolver's unit cases."""

from __future__ import annotations

from typing import Any

import pytest

from ai_governance.gpu_pools import DevicePlugin, device_plugin, gpu_pools, mig_strategy
from ai_governance.props import UNKNOWN
from ai_governance.resources import Res, Stack
from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, allowed, check, disallowed, params
from tests.policypacks.classes.test_accelerator_counts import on, pool
from tests.policypacks.classes.test_accelerators import pod
from tests.support import fixtures

SCHEDULABLE = "gpu-workload-schedulable"
PLACEMENT = "gpu-workload-placement"
PRESENT = {"nvidia.com/gpu.present": "true"}
A100_SLICES = {**PRESENT, "nvidia.com/mig.config": "all-1g.5gb"}
"""p4d.24xlarge: 8 A100-40GB, 7 1g.5gb slices each = 56."""


def a100(labels: dict[str, str], max_size: float = 1.0) -> list[RecordedResource]:
    return pool("a100", ["p4d.24xlarge"], "nvidia.com/gpu", labels, max_size=max_size)


def on_pool(name: str) -> dict[str, str]:
    """Selects one pool (the base stack has a g5 GPU pool a pod must not fall back on)."""
    return {**PRESENT, "ai-platform.io/node-pool": name}


def gpus(amount: str, pool_name: str = "a100") -> RecordedResource:
    return pod("gpus", "nvidia.com/gpu", amount, select=on_pool(pool_name), tolerate=["nvidia.com/gpu"])


def slices(profile: str = "1g.5gb", amount: str = "1") -> RecordedResource:
    return pod("slices", f"nvidia.com/mig-{profile}", amount, select=on_pool("a100"), tolerate=["nvidia.com/gpu"])


def release(chart: str, values: Any, name: str | None = None) -> RecordedResource:
    return b.k8s("kubernetes:helm.sh/v3:Release", name or chart,
                 {"chart": chart, "version": "1.0.0", "namespace": "kube-system",
                  "repositoryOpts": {"repo": "https://nvidia.github.io/k8s-device-plugin"}, "values": values})


def strategy(value: str) -> dict[str, str]:
    return {"nvidia.com/mig.strategy": value}


CASES: list[Case] = [
    # single: the slices are nvidia.com/gpu, 56 of them.
    allowed("single-nine-gpus-are-nine-slices", on(a100({**A100_SLICES, **strategy("single")}), gpus("9")),
            SCHEDULABLE, PLACEMENT),
    allowed("single-fifty-six-slices", on(a100({**A100_SLICES, **strategy("single")}), gpus("56")), SCHEDULABLE),
    disallowed("single-fifty-seven-slices", on(a100({**A100_SLICES, **strategy("single")}), gpus("57")),
               SCHEDULABLE, message="56 GPU(s) (MIG slices: strategy single) per instance < 57 per pod"),
    disallowed("single-offers-no-mig-resource", on(a100({**A100_SLICES, **strategy("single")}), slices()),
               SCHEDULABLE, message="0 nvidia.com/mig-1g.5gb per instance"),
    disallowed("single-with-several-profiles-offers-nothing", on(
        a100({**PRESENT, "nvidia.com/mig.config": "all-balanced", **strategy("single")}), gpus("1")),
        SCHEDULABLE, message="0 GPU(s) (MIG slices: strategy single) per instance < 1 per pod"),
    # mixed: MIG GPUs leave nvidia.com/gpu; slices are their own resource.
    disallowed("mixed-mig-gpus-are-not-nvidia-gpus", on(a100({**A100_SLICES, **strategy("mixed")}), gpus("1")),
               SCHEDULABLE, message="0 GPU(s) per instance < 1 per pod"),
    allowed("mixed-slices", on(a100({**A100_SLICES, **strategy("mixed")}), slices(amount="56")), SCHEDULABLE, PLACEMENT),
    # none: every GPU whole, MIG or not.
    allowed("none-eight-whole-gpus", on(a100({**A100_SLICES, **strategy("none")}), gpus("8")), SCHEDULABLE),
    disallowed("none-nine-gpus", on(a100({**A100_SLICES, **strategy("none")}), gpus("9")),
               SCHEDULABLE, message="8 GPU(s) per instance < 9 per pod"),
    disallowed("none-offers-no-slices", on(a100({**A100_SLICES, **strategy("none")}), slices()),
               SCHEDULABLE, message="0 nvidia.com/mig-1g.5gb per instance"),
    # unknown strategy with a MIG layout: fail closed, never whole GPUs.
    disallowed("unknown-strategy-mig-layout-gpus", on(a100(A100_SLICES), gpus("1")), SCHEDULABLE,
               message="cannot verify"),
    disallowed("unknown-strategy-mig-layout-slices", on(a100(A100_SLICES), slices()), SCHEDULABLE,
               message="cannot verify"),
    disallowed("a-strategy-label-of-another-value-is-unknown", on(a100({**A100_SLICES, **strategy("hybrid")}),
                                                                  gpus("1")), SCHEDULABLE, message="cannot verify"),
    # no MIG layout, or MIG disabled: whole GPUs whatever the strategy (false-positive probes).
    allowed("no-layout-eight-whole-gpus", on(a100(PRESENT), gpus("8")), SCHEDULABLE, PLACEMENT),
    allowed("disabled-layout-single-whole-gpus", on(a100({**PRESENT, "nvidia.com/mig.config": "all-disabled",
                                                          **strategy("single")}), gpus("8")), SCHEDULABLE),
    allowed("a10g-pool-with-a-layout-label-whole-gpus", on(pool("g5", ["g5.12xlarge"], "nvidia.com/gpu", {
        **A100_SLICES}), gpus("4", "g5")), SCHEDULABLE),
    # The strategy from the stack's device-plugin release.
    allowed("device-plugin-release-mixed", on(a100(A100_SLICES), release("nvidia-device-plugin", {
        "migStrategy": "mixed"}), slices()), SCHEDULABLE),
    disallowed("device-plugin-release-default-is-none", on(a100(A100_SLICES), release("nvidia-device-plugin", {}),
                                                           slices()),
               SCHEDULABLE, message="0 nvidia.com/mig-1g.5gb per instance"),
    allowed("device-plugin-release-selects-the-pool", on(
        a100({**A100_SLICES, "ai-platform.io/nvidia-device-plugin": "chart"}),
        release("nvidia-device-plugin", {"migStrategy": "single",
                                         "nodeSelector": {"ai-platform.io/nvidia-device-plugin": "chart"}}),
        gpus("56")), SCHEDULABLE),
    disallowed("device-plugin-release-for-other-nodes", on(
        a100(A100_SLICES), release("nvidia-device-plugin", {"migStrategy": "single",
                                                            "nodeSelector": {"example.com/pool": "other"}}),
        gpus("9")), SCHEDULABLE, message="cannot verify"),
    disallowed("device-plugin-release-with-config-files", on(
        a100(A100_SLICES), release("nvidia-device-plugin", {"config": {"name": "plugin-config"}}), gpus("1")),
        SCHEDULABLE, message="cannot verify"),
    disallowed("label-and-release-disagree", on(
        a100({**A100_SLICES, **strategy("single")}), release("nvidia-device-plugin", {"migStrategy": "mixed"}),
        gpus("9")), SCHEDULABLE, message="cannot verify"),
    allowed("gpu-operator-default-is-single", on(a100(A100_SLICES), release("gpu-operator", {}), gpus("56")),
            SCHEDULABLE),
    disallowed("gpu-operator-without-its-device-plugin-says-nothing", on(
        a100(A100_SLICES), release("gpu-operator", {"devicePlugin": {"enabled": False}}), gpus("1")),
        SCHEDULABLE, message="cannot verify"),
    disallowed("gpu-operator-mixed", on(a100(A100_SLICES), release("gpu-operator", {"mig": {"strategy": "mixed"}}),
                                        gpus("1")), SCHEDULABLE, message="0 GPU(s) per instance < 1 per pod"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_mig_strategies(pack, case: Case):
    check(pack, case)


# --- the resolver ---------------------------------------------------------------------------------

def test_device_plugin_reads_the_chart_values_and_defaults():
    def plugin(chart: str, values: Any) -> DevicePlugin | None:
        return device_plugin(Res(type="kubernetes:helm.sh/v3:Release", name=chart, urn=f"urn:{chart}",
                                 props={"chart": f"nvidia/{chart}", "values": values}))

    assert plugin("nvidia-device-plugin", {}) == DevicePlugin({}, "none")
    assert plugin("nvidia-device-plugin", {"migStrategy": "mixed", "nodeSelector": {"a": "b"}}) == \
        DevicePlugin({"a": "b"}, "mixed")
    assert plugin("nvidia-device-plugin", {"migStrategy": "MIXED"}) == DevicePlugin({}, None)
    assert plugin("nvidia-device-plugin", {"config": {"map": {"default": "version: v1"}}}) == DevicePlugin({}, None)
    assert plugin("gpu-operator", {}) == DevicePlugin({}, "single")
    assert plugin("gpu-operator", {"mig": {"strategy": "none"}}) == DevicePlugin({}, "none")
    assert plugin("gpu-operator", {"devicePlugin": {"enabled": False}}) is None
    assert plugin("gpu-operator", {"devicePlugin": {"config": {"name": "plugin-config"}}}) == DevicePlugin({}, None)
    assert plugin("nvidia-device-plugin", {"migStrategy": None}) == DevicePlugin({}, "none")
    assert plugin("nvidia-device-plugin", UNKNOWN) == DevicePlugin(None, None)
    assert plugin("nvidia-device-plugin", {"nodeSelector": {"a": UNKNOWN}}) == DevicePlugin(None, "none")
    assert plugin("gpu-operator", {"devicePlugin": {"enabled": UNKNOWN}}) == DevicePlugin(None, None)
    assert plugin("dcgm-exporter", {}) is None


@pytest.mark.parametrize("labels, plugins, expected", [
    ({}, [], None),
    (strategy("mixed"), [], "mixed"),
    (strategy("bogus"), [], None),
    ({}, [DevicePlugin({}, "none")], "none"),
    ({"pool": "a"}, [DevicePlugin({"pool": "b"}, "none")], None),
    ({"pool": "a"}, [DevicePlugin({"pool": "a"}, "single"), DevicePlugin({"pool": "b"}, "none")], "single"),
    ({}, [DevicePlugin({}, "none"), DevicePlugin({}, "mixed")], None),
    (strategy("none"), [DevicePlugin({}, "none")], "none"),
    (strategy("single"), [DevicePlugin({}, "none")], None),
    ({}, [DevicePlugin(None, "none")], None),
])
def test_mig_strategy_is_what_every_declared_source_agrees_on(labels, plugins, expected):
    assert mig_strategy(labels, plugins) == expected


def test_the_program_declares_the_strategy_of_the_pools_its_device_plugin_serves():
    """The program's nvidia-device-plugin release (chart default: none) serves its AL2023 NVIDIA
    pools; a Bottlerocket NVIDIA pool runs the host's plugin, which the stack does not declare."""
    def bottlerocket(c: dict[str, Any]) -> None:
        fixtures.pool(c, "gpu-a10g-x4")["amiType"] = "BOTTLEROCKET_x86_64_NVIDIA"

    recording = fixtures.preview("live", bottlerocket)
    stack = Stack([Res(type=r.type, name=r.name, urn=r.urn, props=r.inputs) for r in recording.resources])
    strategies = {p.labels["ai-platform.io/node-pool"]: p.mig_strategy for p in gpu_pools(stack).pools}
    assert strategies == {"gpu-a10g": "none", "gpu-a10g-x4": None}
