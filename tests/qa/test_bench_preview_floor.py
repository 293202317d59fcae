"""The prod preview's SDK floor imports the Pulumi SDK modules the program loaded, and nothing else of ours."""

from __future__ import annotations

import types

from hypothesis import given
from hypothesis import strategies as st

from bench.preview_floor import SDK_PACKAGES, sdk_modules_loaded

NAMES = st.lists(st.sampled_from(["pulumi", "pulumi.runtime", "pulumi_aws", "pulumi_aws.ec2", "pulumi_aws.ec2.vpc",
                                  "pulumi_kubernetes.core.v1", "pulumi_policy", "pulumiextra", "components.cluster",
                                  "preflight.engine", "grpc", "json"]), unique=True)


@given(NAMES, st.sets(st.integers(0, 11)))
def test_only_sdk_modules_parents_first(names: list[str], missing: set[int]) -> None:
    modules = {name: (None if i in missing else types.ModuleType(name)) for i, name in enumerate(names)}
    listed = sdk_modules_loaded(modules)
    assert set(listed) == {n for n, m in modules.items() if m is not None and n.split(".")[0] in SDK_PACKAGES}
    # A package precedes its submodules, so the floor imports them in the order Python would.
    parents = {n: n.rsplit(".", 1)[0] for n in listed if "." in n}
    assert all(listed.index(parent) < listed.index(n) for n, parent in parents.items() if parent in listed)
