"""Helm v3 releases as Helm renders them: subchart workloads from the values under the subchart's
key, rendered only when the dependency's condition holds (argo-cd's redis-ha, nvidia-device-plugin's
node-feature-discovery), and ``valueYamlFiles`` merged before ``values`` in Helm's order. A values
file whose content is not in the inputs (a file or remote asset) fails closed with the "cannot be
inspected" advisory. Through gRPC, plus the pure merge/parse helpers."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from preflight.engine import RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_workload_shapes import ALL, GPU, TOLERATE_GPU, ollama
from tests.policypacks.conftest import config_for

PLACEMENT = "gpu-workload-placement"
SQUAT = "tolerates the GPU taint"
ASSET = {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17"}


def release(chart: str, values: Any = None, files: list[Any] | None = None, name: str | None = None
            ) -> RecordedResource:
    props: dict[str, Any] = {"chart": chart, "version": "1.0.0", "namespace": "project-nova",
                             "repositoryOpts": {"repo": "https://charts.example.com"}}
    if values is not None:
        props["values"] = values
    if files is not None:
        props["valueYamlFiles"] = files
    return b.k8s("kubernetes:helm.sh/v3:Release", name or chart, props)


def text_asset(values: Any) -> dict[str, Any]:
    return {**ASSET, "text": values if isinstance(values, str) else yaml.safe_dump(values)}


def file_asset(path: str) -> dict[str, Any]:
    return {**ASSET, "path": path}


DEVICE_PLUGIN = {"nodeSelector": {"ai-platform.io/nvidia-device-plugin": "chart"}, "tolerations": TOLERATE_GPU}


def device_plugin(**extra: Any) -> dict[str, Any]:
    return {**DEVICE_PLUGIN, **extra}


SUBCHART_CASES: list[Case] = [
    # nvidia-device-plugin's nfd: condition nfd.enabled,gfd.enabled (gfd off by default).
    allowed("nfd-off-by-default-its-values-do-not-render", adding(release("nvidia-device-plugin", device_plugin(
        nfd={"master": {"tolerations": TOLERATE_GPU}}))), *GPU),
    disallowed("nfd-master-tolerating-gpus", adding(release("nvidia-device-plugin", device_plugin(
        nfd={"enabled": True, "master": {"tolerations": TOLERATE_GPU}}))), PLACEMENT,
        message="(values.nfd.master): a pod without GPUs tolerates the GPU taint"),
    disallowed("nfd-on-through-gfd-enabled", adding(release("nvidia-device-plugin", device_plugin(
        gfd={"enabled": True}, nfd={"gc": {"tolerations": TOLERATE_GPU}}))), PLACEMENT,
        message="(values.nfd.gc)"),
    allowed("nfd-enabled-false-wins-over-gfd", adding(release("nvidia-device-plugin", device_plugin(
        gfd={"enabled": True}, nfd={"enabled": False, "master": {"tolerations": TOLERATE_GPU}}))), *GPU),
    allowed("nfd-master-disabled-by-its-enable-switch", adding(release("nvidia-device-plugin", device_plugin(
        nfd={"enabled": True, "master": {"enable": False, "tolerations": TOLERATE_GPU}}))), *GPU),
    allowed("nfd-worker-daemonset-tolerates-gpus", adding(release("nvidia-device-plugin", device_plugin(
        nfd={"enabled": True, "worker": {"tolerations": TOLERATE_GPU}}))), *GPU),
    disallowed("nfd-worker-fractional-gpu", adding(release("nvidia-device-plugin", device_plugin(
        nfd={"enabled": True, "worker": {"resources": {"limits": {"nvidia.com/gpu": "0.5"}}}}))),
        "gpu-request-valid", message="not a whole number"),
    # argo-cd's redis-ha: condition redis-ha.enabled (off by default); haproxy falls back to its placement.
    allowed("redis-ha-off-by-default", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis-ha": {"tolerations": TOLERATE_GPU}}, name="argocd2")), *GPU),
    disallowed("redis-ha-server-and-haproxy-tolerating-gpus", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis": {"enabled": False},
        "redis-ha": {"enabled": True, "tolerations": TOLERATE_GPU}}, name="argocd2")), PLACEMENT, message=SQUAT),
    disallowed("redis-ha-haproxy-alone-tolerating-gpus", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis": {"enabled": False},
        "redis-ha": {"enabled": True, "haproxy": {"tolerations": TOLERATE_GPU}}}, name="argocd2")), PLACEMENT,
        message="(values.redis-ha.haproxy)"),
    allowed("redis-ha-haproxy-disabled", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis": {"enabled": False},
        "redis-ha": {"enabled": True, "haproxy": {"enabled": False, "tolerations": TOLERATE_GPU}}}, name="argocd2")),
        *GPU),
    disallowed("redis-ha-server-resources-under-redis", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis-ha": {"enabled": True, "haproxy": {"enabled": False},
                                                "redis": {"resources": {"limits": {"amd.com/gpu": "0.5"}}}}},
        name="argocd2")), "gpu-request-valid", message="values.redis-ha (redis-ha): amd.com/gpu"),
    allowed("redis-ha-enabled-plainly", adding(release("argo-cd", {
        "dex": {"enabled": False}, "redis": {"enabled": False}, "redis-ha": {"enabled": True}}, name="argocd2")), *GPU),
]

BAD_GPU_NUMBER = {"ollama": {"gpu": {"number": 2}}}

FILE_CASES: list[Case] = [
    allowed("governed-values-only-in-a-file", adding(release("ollama", files=[text_asset(ollama())])), *ALL),
    disallowed("file-selects-no-gpu-nodes", adding(release("ollama", files=[text_asset(ollama(nodeSelector={}))])),
               PLACEMENT, message="must select GPU nodes"),
    allowed("inline-values-win-over-the-file", adding(release("ollama", ollama(), files=[text_asset(
        ollama(nodeSelector={}))])), *ALL),
    disallowed("file-keys-the-inline-values-leave-alone-stay", adding(release(
        "ollama", {k: v for k, v in ollama().items() if k != "ollama"}, files=[text_asset(ollama(
            ollama__gpu__number=2))])), "gpu-workload-schedulable", message="1 GPU(s) per instance < 2 per pod"),
    disallowed("the-later-file-wins", adding(release("ollama", files=[text_asset(ollama()), text_asset(
        BAD_GPU_NUMBER)])), "gpu-workload-schedulable", message="< 2 per pod"),
    allowed("maps-merge-key-by-key", adding(release("ollama", files=[text_asset(BAD_GPU_NUMBER), text_asset(
        ollama())])), *ALL),
    disallowed("a-file-asset-fails-closed", adding(release("ollama", ollama(), files=[file_asset("values.yaml")])),
               "gpu-request-valid", message="cannot"),
    disallowed("a-yaml-alias-fails-closed", adding(release("ollama", ollama(), files=[text_asset(
        "a: &x {b: 1}\nc: *x\n")])), "gpu-request-valid", message="cannot"),
    disallowed("a-file-that-is-not-a-map-fails-closed", adding(release("ollama", ollama(), files=[text_asset(
        "- 1\n- 2\n")])), "gpu-request-valid", message="cannot"),
    allowed("an-empty-file-adds-nothing", adding(release("ollama", ollama(), files=[text_asset("")])), *ALL),
]


@pytest.mark.parametrize("case", params(SUBCHART_CASES))
def test_subchart_values(pack, case: Case):
    check(pack, case)


@pytest.mark.parametrize("case", params(FILE_CASES))
def test_value_yaml_files(pack, case: Case):
    check(pack, case)


def test_an_unread_values_file_is_the_cannot_be_inspected_advisory(pack):
    sample = adding(release("ollama", ollama(), files=[file_asset("values/prod.yaml")]))
    run = pack.run(sample(b.good_stack("prod")), config_for("prod"))
    notes = [v for v in run.violations if "cannot be inspected" in v.message]
    assert [(v.policy, v.level) for v in notes] == [("gpu-request-valid", "advisory")], notes
    assert "valueYamlFiles[0] is a file or remote asset" in notes[0].message


# --- the pure helpers -----------------------------------------------------------------------------

def test_merge_is_helms_order():
    from ai_governance.k8s.helm_files import merge

    assert merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]}) == {"a": {"b": 1, "c": 3}, "l": [2]}
    assert merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}


@pytest.mark.parametrize("content, problem", [
    ("a: &x 1\nb: *x\n", "aliases"), ("[1, 2]", "is a map"), ("a: [\n", "not valid YAML"),
    ("x: " + "y" * (1 << 20), "longer than"), ("!!python/object:os.system {}", "not valid YAML"),
])
def test_values_files_are_parsed_bounded_and_safe(content, problem):
    from ai_governance.k8s.helm_files import parse_values

    with pytest.raises(ValueError, match=problem):
        parse_values(content)
